package workflows

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"
)

// Stand-ins registered under the real activity names; each test mocks
// their behaviour with OnActivity.
func prepare(context.Context, string) (ExportPlan, error)                 { return ExportPlan{}, nil }
func renderFile(context.Context, ExportRenderInput) (RenderedFile, error) { return RenderedFile{}, nil }
func record(context.Context, ExportRecordInput) (ExportResult, error)     { return ExportResult{}, nil }
func discard(context.Context, RunDiscardInput) error                      { return nil }

func newEnv(t *testing.T) *testsuite.TestWorkflowEnvironment {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	s.SetLogger(sdklog.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	env := s.NewTestWorkflowEnvironment()
	env.RegisterWorkflowWithOptions(Export, workflow.RegisterOptions{Name: "Export"})
	env.RegisterActivityWithOptions(prepare, activity.RegisterOptions{Name: ActivityExportPrepare})
	env.RegisterActivityWithOptions(renderFile, activity.RegisterOptions{Name: ActivityExportRender})
	env.RegisterActivityWithOptions(record, activity.RegisterOptions{Name: ActivityExportRecord})
	env.RegisterActivityWithOptions(discard, activity.RegisterOptions{Name: ActivityExportDiscard})
	return env
}

var plan = ExportPlan{Format: "csv", Filename: "leads.csv", Rows: 3, Columns: 2}

func queryProgress(t *testing.T, env *testsuite.TestWorkflowEnvironment) Progress {
	t.Helper()
	v, err := env.QueryWorkflow(QueryProgress)
	if err != nil {
		t.Fatalf("query progress: %v", err)
	}
	var p Progress
	if err := v.Get(&p); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestExportSucceedsAndReportsProgress(t *testing.T) {
	env := newEnv(t)
	in := ExportInput{RunID: "export-01JD4X7Q2W6ZC5D3V9N8K1M2P3", OwnerID: "u1"}
	file := RenderedFile{BlobKey: "exports/x/file.csv", ContentType: "text/csv", SizeBytes: 42, SHA256: "ab", Rows: 3}
	env.OnActivity(ActivityExportPrepare, ctxAny, in.RunID).Return(plan, nil)
	var midRender Progress
	env.OnActivity(ActivityExportRender, ctxAny, ExportRenderInput{RunID: in.RunID}).Return(
		func(context.Context, ExportRenderInput) (RenderedFile, error) {
			midRender = queryProgress(t, env)
			return file, nil
		})
	var recorded ExportRecordInput
	env.OnActivity(ActivityExportRecord, ctxAny, anyArg).Return(
		func(_ context.Context, rec ExportRecordInput) (ExportResult, error) {
			recorded = rec
			return ExportResult{ExportID: in.RunID, Filename: rec.Plan.Filename, SizeBytes: rec.File.SizeBytes}, nil
		})
	env.ExecuteWorkflow(Export, in)
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	var res ExportResult
	if err := env.GetWorkflowResult(&res); err != nil || res.SizeBytes != 42 {
		t.Fatalf("result %+v (%v)", res, err)
	}
	if midRender.Stage != "rendering" || midRender.Total != 3 || midRender.Version < 2 {
		t.Errorf("progress during render = %+v", midRender)
	}
	if !reflect.DeepEqual(recorded.File, file) || recorded.OwnerID != "u1" || recorded.Progress.Stage != StageDone {
		t.Errorf("recorded %+v", recorded)
	}
	final := queryProgress(t, env)
	if final.Stage != StageDone || final.Percent() != 100 || final.Version <= midRender.Version {
		t.Errorf("final progress %+v", final)
	}
	env.AssertNotCalled(t, ActivityExportDiscard, ctxAny, anyArg)
}

func TestExportInvalidInputFailsAndDiscards(t *testing.T) {
	env := newEnv(t)
	env.OnActivity(ActivityExportPrepare, ctxAny, anyArg).Return(ExportPlan{},
		temporal.NewNonRetryableApplicationError("rows[0]: bad", ErrTypeInvalidInput, nil))
	var discarded RunDiscardInput
	env.OnActivity(ActivityExportDiscard, ctxAny, anyArg).Return(func(_ context.Context, in RunDiscardInput) error {
		discarded = in
		return nil
	})
	env.ExecuteWorkflow(Export, ExportInput{RunID: "r1", OwnerID: "u1"})
	var appErr *temporal.ApplicationError
	if err := env.GetWorkflowError(); !errors.As(err, &appErr) || appErr.Type() != ErrTypeInvalidInput {
		t.Fatalf("workflow error = %v", err)
	}
	if discarded.Status != "failed" || discarded.Error == nil || discarded.Error.Type != ErrTypeInvalidInput || discarded.Progress.Stage != StageFailed {
		t.Fatalf("discard input = %+v", discarded)
	}
	env.AssertNotCalled(t, ActivityExportRender, ctxAny, anyArg)
}

func TestExportInternalErrorsAreNotShownToUsers(t *testing.T) {
	env := newEnv(t)
	env.OnActivity(ActivityExportPrepare, ctxAny, anyArg).Return(plan, nil)
	env.OnActivity(ActivityExportRender, ctxAny, anyArg).Return(RenderedFile{},
		temporal.NewNonRetryableApplicationError("dial tcp 10.0.0.5:5432: connection refused", "PgError", nil))
	var discarded RunDiscardInput
	env.OnActivity(ActivityExportDiscard, ctxAny, anyArg).Return(func(_ context.Context, in RunDiscardInput) error {
		discarded = in
		return nil
	})
	env.ExecuteWorkflow(Export, ExportInput{RunID: "r1", OwnerID: "u1"})
	if env.GetWorkflowError() == nil {
		t.Fatal("want an error")
	}
	if discarded.Error == nil || discarded.Error.Type != "internal" || containsAny(discarded.Error.Message, "10.0.0.5", "5432") {
		t.Fatalf("user-facing error leaks details: %+v", discarded.Error)
	}
}

func TestExportCanceledWhileRenderingDiscards(t *testing.T) {
	env := newEnv(t)
	env.OnActivity(ActivityExportPrepare, ctxAny, anyArg).Return(plan, nil)
	env.OnActivity(ActivityExportRender, ctxAny, anyArg).Return(func(ctx context.Context, _ ExportRenderInput) (RenderedFile, error) {
		// Block until the cancellation reaches the activity, as a
		// heartbeating render would.
		<-ctx.Done()
		return RenderedFile{}, ctx.Err()
	})
	var discarded RunDiscardInput
	env.OnActivity(ActivityExportDiscard, ctxAny, anyArg).Return(func(_ context.Context, in RunDiscardInput) error {
		discarded = in
		return nil
	})
	env.RegisterDelayedCallback(env.CancelWorkflow, time.Second)
	env.ExecuteWorkflow(Export, ExportInput{RunID: "r1", OwnerID: "u1"})
	if err := env.GetWorkflowError(); !temporal.IsCanceledError(err) {
		t.Fatalf("workflow error = %v, want canceled", err)
	}
	if discarded.Status != "canceled" || discarded.Error != nil || discarded.Progress.Stage != StageCanceled {
		t.Fatalf("discard input = %+v", discarded)
	}
	env.AssertNotCalled(t, ActivityExportRecord, ctxAny, anyArg)
}

func containsAny(s string, subs ...string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
