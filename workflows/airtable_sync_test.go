package workflows

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"testing"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"
)

// Stand-ins for the AirtableSync workflow's activities.
func airtablePrepare(context.Context, AirtableSyncInput) (AirtablePrepared, error) {
	return AirtablePrepared{}, nil
}
func airtableFetch(context.Context, AirtableFetchInput) (AirtableFetchOutput, error) {
	return AirtableFetchOutput{}, nil
}
func airtablePlan(context.Context, AirtablePlanInput) (AirtablePlanResult, error) {
	return AirtablePlanResult{}, nil
}
func airtableApply(context.Context, AirtableApplyInput) (AirtableApplyOutput, error) {
	return AirtableApplyOutput{}, nil
}
func airtableFinish(context.Context, AirtableFinishInput) error { return nil }

func newAirtableEnv(t *testing.T) *testsuite.TestWorkflowEnvironment {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	s.SetLogger(sdklog.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	env := s.NewTestWorkflowEnvironment()
	env.RegisterWorkflowWithOptions(AirtableSync, workflow.RegisterOptions{Name: "AirtableSync"})
	for name, fn := range map[string]any{
		ActivityAirtablePrepare: airtablePrepare, ActivityAirtableFetch: airtableFetch, ActivityAirtablePlan: airtablePlan,
		ActivityAirtableApply: airtableApply, ActivityAirtableFinish: airtableFinish, ActivityAirtableDiscard: discard,
	} {
		env.RegisterActivityWithOptions(fn, activity.RegisterOptions{Name: name})
	}
	return env
}

// TestAirtableSyncContinuesAsNewAndResumes reads more batches than one
// run may hold: the workflow continues as new carrying its offset and
// counts, and the continued run picks up from them without reading or
// planning again.
func TestAirtableSyncContinuesAsNewAndResumes(t *testing.T) {
	env := newAirtableEnv(t)
	in := AirtableSyncInput{RunID: "airtable-01JD4X7Q2W6ZC5D3V9N8K1M2P3", OwnerID: "u1", Batches: AirtableBatches{BatchesPerRun: 2}}
	env.OnActivity(ActivityAirtablePrepare, ctxAny, anyArg).Return(AirtablePrepared{MappingID: "map_1"}, nil)
	var offsets []string
	env.OnActivity(ActivityAirtableFetch, ctxAny, anyArg).Return(func(_ context.Context, f AirtableFetchInput) (AirtableFetchOutput, error) {
		offsets = append(offsets, f.Offset)
		return AirtableFetchOutput{Records: 100, Offset: fmt.Sprintf("itr%d", len(offsets))}, nil
	})
	env.ExecuteWorkflow(AirtableSync, in)
	var can *workflow.ContinueAsNewError
	if err := env.GetWorkflowError(); !errors.As(err, &can) {
		t.Fatalf("want continue-as-new after 2 batches, got %v", err)
	}
	if len(offsets) != 2 || offsets[1] != "itr1" {
		t.Fatalf("offsets %v", offsets)
	}
	var next AirtableSyncInput
	if err := converter.GetDefaultDataConverter().FromPayloads(can.Input, &next); err != nil {
		t.Fatal(err)
	}
	if next.State == nil || next.State.Offset != "itr2" || next.State.Fetched != 200 || next.State.Prepared.MappingID != "map_1" || next.Batches.BatchesPerRun != 2 {
		t.Fatalf("continued with %+v", next)
	}

	// The continued run: reading is done and the plan made, so it only
	// applies what is left and finishes.
	env = newAirtableEnv(t)
	next.State.ReadDone = true
	next.State.Plan = &AirtablePlanResult{Decisions: 30}
	next.State.Applied = 10
	env.OnActivity(ActivityAirtableApply, ctxAny, anyArg).Return(AirtableApplyOutput{Applied: 20}, nil)
	var finished AirtableFinishInput
	env.OnActivity(ActivityAirtableFinish, ctxAny, anyArg).Return(func(_ context.Context, f AirtableFinishInput) error {
		finished = f
		return nil
	})
	env.ExecuteWorkflow(AirtableSync, next)
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	if finished.State.Applied != 30 || finished.Progress.Stage != StageDone || finished.Progress.Done != 30 {
		t.Fatalf("finished %+v", finished)
	}
}
