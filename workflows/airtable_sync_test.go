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

	"github.com/groundwork-dev/groundwork"
)

// Stand-ins for the AirtableSync workflow's activities.
func airtablePrepare(context.Context, groundwork.AirtableSyncInput) (groundwork.AirtablePrepared, error) {
	return groundwork.AirtablePrepared{}, nil
}
func airtableFetch(context.Context, groundwork.AirtableFetchInput) (groundwork.AirtableFetchOutput, error) {
	return groundwork.AirtableFetchOutput{}, nil
}
func airtablePlan(context.Context, groundwork.AirtablePlanInput) (groundwork.AirtablePlanResult, error) {
	return groundwork.AirtablePlanResult{}, nil
}
func airtableApply(context.Context, groundwork.AirtableApplyInput) (groundwork.AirtableApplyOutput, error) {
	return groundwork.AirtableApplyOutput{}, nil
}
func airtableFinish(context.Context, groundwork.AirtableFinishInput) error { return nil }

func newAirtableEnv(t *testing.T) *testsuite.TestWorkflowEnvironment {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	s.SetLogger(sdklog.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	env := s.NewTestWorkflowEnvironment()
	env.RegisterWorkflowWithOptions(AirtableSync, workflow.RegisterOptions{Name: "AirtableSync"})
	for name, fn := range map[string]any{
		groundwork.ActivityAirtablePrepare: airtablePrepare, groundwork.ActivityAirtableFetch: airtableFetch, groundwork.ActivityAirtablePlan: airtablePlan,
		groundwork.ActivityAirtableApply: airtableApply, groundwork.ActivityAirtableFinish: airtableFinish, groundwork.ActivityAirtableDiscard: discard,
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
	in := groundwork.AirtableSyncInput{RunID: "airtable-01JD4X7Q2W6ZC5D3V9N8K1M2P3", OwnerID: "u1", Batches: groundwork.AirtableBatches{BatchesPerRun: 2}}
	env.OnActivity(groundwork.ActivityAirtablePrepare, ctxAny, anyArg).Return(groundwork.AirtablePrepared{MappingID: "map_1"}, nil)
	var offsets []string
	env.OnActivity(groundwork.ActivityAirtableFetch, ctxAny, anyArg).Return(func(_ context.Context, f groundwork.AirtableFetchInput) (groundwork.AirtableFetchOutput, error) {
		offsets = append(offsets, f.Offset)
		return groundwork.AirtableFetchOutput{Records: 100, Offset: fmt.Sprintf("itr%d", len(offsets))}, nil
	})
	env.ExecuteWorkflow(AirtableSync, in)
	var can *workflow.ContinueAsNewError
	if err := env.GetWorkflowError(); !errors.As(err, &can) {
		t.Fatalf("want continue-as-new after 2 batches, got %v", err)
	}
	if len(offsets) != 2 || offsets[1] != "itr1" {
		t.Fatalf("offsets %v", offsets)
	}
	var next groundwork.AirtableSyncInput
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
	next.State.Plan = &groundwork.AirtablePlanResult{Decisions: 30}
	next.State.Applied = 10
	env.OnActivity(groundwork.ActivityAirtableApply, ctxAny, anyArg).Return(groundwork.AirtableApplyOutput{Applied: 20}, nil)
	var finished groundwork.AirtableFinishInput
	env.OnActivity(groundwork.ActivityAirtableFinish, ctxAny, anyArg).Return(func(_ context.Context, f groundwork.AirtableFinishInput) error {
		finished = f
		return nil
	})
	env.ExecuteWorkflow(AirtableSync, next)
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	if finished.State.Applied != 30 || finished.Progress.Stage != groundwork.StageDone || finished.Progress.Done != 30 {
		t.Fatalf("finished %+v", finished)
	}
}
