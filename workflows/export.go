package workflows

import (
	"fmt"

	"go.temporal.io/sdk/workflow"

	"github.com/groundwork-dev/groundwork"
)

// versionLocalRender marks histories where a small table's render ran as a
// local activity; older ones scheduled it on the render queue.
const versionLocalRender = "export-local-render"

// Export renders a file from a stored request, uploads it to the blob store
// and records it. A failed or canceled export removes its blob and row.
func Export(ctx workflow.Context, in groundwork.ExportInput) (groundwork.ExportResult, error) {
	prog, err := newProgressTracker(ctx)
	if err != nil {
		return groundwork.ExportResult{}, err
	}
	res, err := export(ctx, prog, in)
	if err != nil {
		return groundwork.ExportResult{}, closeFailedRun(ctx, prog, in.RunID, err, groundwork.ActivityExportDiscard)
	}
	return res, nil
}

func export(ctx workflow.Context, prog *progressTracker, in groundwork.ExportInput) (groundwork.ExportResult, error) {
	prog.set(ctx, groundwork.StageValidating, 0, 0, "checking the request")
	lctx := withLocal(ctx)
	var plan groundwork.ExportPlan
	// Activity errors are returned unwrapped: they already name the
	// activity, and wrapping would make the workflow's failure type
	// "wrapError" in the Web UI instead of the activity's own type.
	if err := workflow.ExecuteLocalActivity(lctx, groundwork.ActivityExportPrepare, in.RunID).Get(lctx, &plan); err != nil {
		return groundwork.ExportResult{}, err
	}

	msg := "rendering the " + plan.Format
	if plan.Rows > 0 {
		msg = fmt.Sprintf("rendering %d rows as %s", plan.Rows, plan.Format)
	}
	prog.set(ctx, groundwork.StageRendering, 0, plan.Rows, msg)
	var file groundwork.RenderedFile
	render := groundwork.ExportRenderInput{RunID: in.RunID}
	// A small table renders inside this workflow task: with eager start
	// the whole run is then one task on the worker that started it, with
	// no trip through the render queue and no second task.
	if plan.Local && workflow.GetVersion(ctx, versionLocalRender, workflow.DefaultVersion, 1) == 1 {
		if err := workflow.ExecuteLocalActivity(lctx, groundwork.ActivityExportRender, render).Get(lctx, &file); err != nil {
			return groundwork.ExportResult{}, err
		}
	} else {
		actx := withActivity(ctx, groundwork.ActivityExportRender)
		if err := workflow.ExecuteActivity(actx, groundwork.ActivityExportRender, render).Get(ctx, &file); err != nil {
			return groundwork.ExportResult{}, err
		}
	}

	prog.set(ctx, groundwork.StageStoring, plan.Rows, plan.Rows, fmt.Sprintf("recording %s (%d bytes)", plan.Filename, file.SizeBytes))
	// The final progress is stored with the result, so it is set first
	// and restored if recording fails.
	storing := prog.p
	prog.set(ctx, groundwork.StageDone, plan.Rows, plan.Rows, fmt.Sprintf("%s is ready", plan.Filename))
	var res groundwork.ExportResult
	rec := groundwork.ExportRecordInput{RunID: in.RunID, OwnerID: in.OwnerID, Plan: plan, File: file, Progress: prog.p}
	if err := workflow.ExecuteLocalActivity(lctx, groundwork.ActivityExportRecord, rec).Get(lctx, &res); err != nil {
		prog.p = storing
		return groundwork.ExportResult{}, err
	}
	return res, nil
}
