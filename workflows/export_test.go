package workflows

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/groundwork-dev/groundwork"
)

// Stand-ins registered under the real activity names; each test mocks
// their behaviour with OnActivity.
func prepare(context.Context, string) (groundwork.ExportPlan, error) {
	return groundwork.ExportPlan{}, nil
}
func renderFile(context.Context, groundwork.ExportRenderInput) (groundwork.RenderedFile, error) {
	return groundwork.RenderedFile{}, nil
}
func record(context.Context, groundwork.ExportRecordInput) (groundwork.ExportResult, error) {
	return groundwork.ExportResult{}, nil
}
func discard(context.Context, groundwork.RunDiscardInput) error { return nil }

func newEnv(t *testing.T) *testsuite.TestWorkflowEnvironment {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	s.SetLogger(sdklog.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	env := s.NewTestWorkflowEnvironment()
	env.RegisterWorkflowWithOptions(Export, workflow.RegisterOptions{Name: "Export"})
	env.RegisterActivityWithOptions(prepare, activity.RegisterOptions{Name: groundwork.ActivityExportPrepare})
	env.RegisterActivityWithOptions(renderFile, activity.RegisterOptions{Name: groundwork.ActivityExportRender})
	env.RegisterActivityWithOptions(record, activity.RegisterOptions{Name: groundwork.ActivityExportRecord})
	env.RegisterActivityWithOptions(discard, activity.RegisterOptions{Name: groundwork.ActivityExportDiscard})
	return env
}

var plan = groundwork.ExportPlan{Format: "csv", Filename: "leads.csv", Rows: 3, Columns: 2}

func queryProgress(t *testing.T, env *testsuite.TestWorkflowEnvironment) groundwork.Progress {
	t.Helper()
	v, err := env.QueryWorkflow(groundwork.QueryProgress)
	if err != nil {
		t.Fatalf("query progress: %v", err)
	}
	var p groundwork.Progress
	if err := v.Get(&p); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestExportSucceedsAndReportsProgress(t *testing.T) {
	env := newEnv(t)
	in := groundwork.ExportInput{RunID: "export-01JD4X7Q2W6ZC5D3V9N8K1M2P3", OwnerID: "u1"}
	file := groundwork.RenderedFile{BlobKey: "exports/x/file.csv", ContentType: "text/csv", SizeBytes: 42, SHA256: "ab", Rows: 3}
	env.OnActivity(groundwork.ActivityExportPrepare, ctxAny, in.RunID).Return(plan, nil)
	var midRender groundwork.Progress
	env.OnActivity(groundwork.ActivityExportRender, ctxAny, groundwork.ExportRenderInput{RunID: in.RunID}).Return(
		func(context.Context, groundwork.ExportRenderInput) (groundwork.RenderedFile, error) {
			midRender = queryProgress(t, env)
			return file, nil
		})
	var recorded groundwork.ExportRecordInput
	env.OnActivity(groundwork.ActivityExportRecord, ctxAny, anyArg).Return(
		func(_ context.Context, rec groundwork.ExportRecordInput) (groundwork.ExportResult, error) {
			recorded = rec
			return groundwork.ExportResult{ExportID: in.RunID, Filename: rec.Plan.Filename, SizeBytes: rec.File.SizeBytes}, nil
		})
	env.ExecuteWorkflow(Export, in)
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	var res groundwork.ExportResult
	if err := env.GetWorkflowResult(&res); err != nil || res.SizeBytes != 42 {
		t.Fatalf("result %+v (%v)", res, err)
	}
	if midRender.Stage != "rendering" || midRender.Total != 3 || midRender.Version < 2 {
		t.Errorf("progress during render = %+v", midRender)
	}
	if !reflect.DeepEqual(recorded.File, file) || recorded.OwnerID != "u1" || recorded.Progress.Stage != groundwork.StageDone {
		t.Errorf("recorded %+v", recorded)
	}
	final := queryProgress(t, env)
	if final.Stage != groundwork.StageDone || final.Percent() != 100 || final.Version <= midRender.Version {
		t.Errorf("final progress %+v", final)
	}
	env.AssertNotCalled(t, groundwork.ActivityExportDiscard, ctxAny, anyArg)
}

func TestExportInvalidInputFailsAndDiscards(t *testing.T) {
	env := newEnv(t)
	env.OnActivity(groundwork.ActivityExportPrepare, ctxAny, anyArg).Return(groundwork.ExportPlan{},
		temporal.NewNonRetryableApplicationError("rows[0]: bad", groundwork.ErrTypeInvalidInput, nil))
	var discarded groundwork.RunDiscardInput
	env.OnActivity(groundwork.ActivityExportDiscard, ctxAny, anyArg).Return(func(_ context.Context, in groundwork.RunDiscardInput) error {
		discarded = in
		return nil
	})
	env.ExecuteWorkflow(Export, groundwork.ExportInput{RunID: "r1", OwnerID: "u1"})
	var appErr *temporal.ApplicationError
	if err := env.GetWorkflowError(); !errors.As(err, &appErr) || appErr.Type() != groundwork.ErrTypeInvalidInput {
		t.Fatalf("workflow error = %v", err)
	}
	if discarded.Status != "failed" || discarded.Error == nil || discarded.Error.Type != groundwork.ErrTypeInvalidInput || discarded.Progress.Stage != groundwork.StageFailed {
		t.Fatalf("discard input = %+v", discarded)
	}
	env.AssertNotCalled(t, groundwork.ActivityExportRender, ctxAny, anyArg)
}

func TestExportInternalErrorsAreNotShownToUsers(t *testing.T) {
	env := newEnv(t)
	env.OnActivity(groundwork.ActivityExportPrepare, ctxAny, anyArg).Return(plan, nil)
	env.OnActivity(groundwork.ActivityExportRender, ctxAny, anyArg).Return(groundwork.RenderedFile{},
		temporal.NewNonRetryableApplicationError("dial tcp 10.0.0.5:5432: connection refused", "PgError", nil))
	var discarded groundwork.RunDiscardInput
	env.OnActivity(groundwork.ActivityExportDiscard, ctxAny, anyArg).Return(func(_ context.Context, in groundwork.RunDiscardInput) error {
		discarded = in
		return nil
	})
	env.ExecuteWorkflow(Export, groundwork.ExportInput{RunID: "r1", OwnerID: "u1"})
	if env.GetWorkflowError() == nil {
		t.Fatal("want an error")
	}
	if discarded.Error == nil || discarded.Error.Type != "internal" || containsAny(discarded.Error.Message, "10.0.0.5", "5432") {
		t.Fatalf("user-facing error leaks details: %+v", discarded.Error)
	}
}

func TestExportCanceledWhileRenderingDiscards(t *testing.T) {
	env := newEnv(t)
	env.OnActivity(groundwork.ActivityExportPrepare, ctxAny, anyArg).Return(plan, nil)
	env.OnActivity(groundwork.ActivityExportRender, ctxAny, anyArg).Return(func(ctx context.Context, _ groundwork.ExportRenderInput) (groundwork.RenderedFile, error) {
		// Block until the cancellation reaches the activity, as a
		// heartbeating render would.
		<-ctx.Done()
		return groundwork.RenderedFile{}, ctx.Err()
	})
	var discarded groundwork.RunDiscardInput
	env.OnActivity(groundwork.ActivityExportDiscard, ctxAny, anyArg).Return(func(_ context.Context, in groundwork.RunDiscardInput) error {
		discarded = in
		return nil
	})
	env.RegisterDelayedCallback(env.CancelWorkflow, time.Second)
	env.ExecuteWorkflow(Export, groundwork.ExportInput{RunID: "r1", OwnerID: "u1"})
	if err := env.GetWorkflowError(); !temporal.IsCanceledError(err) {
		t.Fatalf("workflow error = %v, want canceled", err)
	}
	if discarded.Status != "canceled" || discarded.Error != nil || discarded.Progress.Stage != groundwork.StageCanceled {
		t.Fatalf("discard input = %+v", discarded)
	}
	env.AssertNotCalled(t, groundwork.ActivityExportRecord, ctxAny, anyArg)
}

func containsAny(s string, subs ...string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// TestExportRendersSmallTablesLocally: a plan marked Local renders in the
// workflow task (a local activity); any other on the render queue.
func TestExportRendersSmallTablesLocally(t *testing.T) {
	for _, local := range []bool{true, false} {
		env := newEnv(t)
		p := plan
		p.Local = local
		env.OnActivity(groundwork.ActivityExportPrepare, ctxAny, anyArg).Return(p, nil)
		env.OnActivity(groundwork.ActivityExportRender, ctxAny, anyArg).Return(groundwork.RenderedFile{BlobKey: "k", SHA256: "ab"}, nil)
		env.OnActivity(groundwork.ActivityExportRecord, ctxAny, anyArg).Return(groundwork.ExportResult{ExportID: "r1"}, nil)
		var locals, remotes []string
		env.SetOnLocalActivityStartedListener(func(info *activity.Info, _ context.Context, _ []any) {
			locals = append(locals, info.ActivityType.Name)
		})
		env.SetOnActivityStartedListener(func(info *activity.Info, _ context.Context, _ converter.EncodedValues) {
			remotes = append(remotes, info.ActivityType.Name)
		})
		env.ExecuteWorkflow(Export, groundwork.ExportInput{RunID: "r1", OwnerID: "u1"})
		if err := env.GetWorkflowError(); err != nil {
			t.Fatal(err)
		}
		renderedLocally := slices.Contains(locals, groundwork.ActivityExportRender)
		renderedRemotely := slices.Contains(remotes, groundwork.ActivityExportRender)
		if renderedLocally != local || renderedRemotely == local {
			t.Errorf("Local=%v: local activities %v, activities %v", local, locals, remotes)
		}
	}
}
