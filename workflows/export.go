package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// Activity names the Export workflow calls. The workflow refers to them by
// name so it never imports the activities package (and its I/O).
const (
	// ActivityExportPrepare validates the stored request (local activity).
	ActivityExportPrepare = "ExportPrepare"
	// ActivityExportRender renders and uploads the file (render queue).
	ActivityExportRender = "ExportRender"
	// ActivityExportRecord records the file and closes the run (local activity).
	ActivityExportRecord = "ExportRecord"
	// ActivityExportDiscard removes what a failed or canceled run made (local activity).
	ActivityExportDiscard = "ExportDiscard"
)

// ExportInput starts an Export. The request body itself stays in Postgres
// (run_inputs) so large tables never travel through workflow history.
type ExportInput struct {
	RunID   string `json:"run_id"`
	OwnerID string `json:"owner_id"`
}

// ExportPlan is what ExportPrepare learned from the stored request.
type ExportPlan struct {
	Format   string `json:"format"`
	Filename string `json:"filename"`
	Rows     int64  `json:"rows"`
	Columns  int64  `json:"columns"`
}

// ExportRenderInput tells ExportRender which run to render.
type ExportRenderInput struct {
	RunID string `json:"run_id"`
}

// RenderedFile describes an uploaded file.
type RenderedFile struct {
	BlobKey     string `json:"blob_key"`
	ContentType string `json:"content_type"`
	SizeBytes   int64  `json:"size_bytes"`
	SHA256      string `json:"sha256"`
	Rows        int64  `json:"rows"`
	Pages       int64  `json:"pages"`
	// Warnings says what could not be rendered faithfully.
	Warnings []string `json:"warnings,omitempty"`
}

// RenderProgress is the heartbeat detail of ExportRender; the API shows it
// as the run's progress while the workflow is in its rendering stage, so a
// long render reports "page n of m" without a workflow task per page.
type RenderProgress struct {
	Done  int64  `json:"done"`
	Total int64  `json:"total"`
	Unit  string `json:"unit"`
}

// ExportRecordInput is what ExportRecord stores.
type ExportRecordInput struct {
	RunID   string       `json:"run_id"`
	OwnerID string       `json:"owner_id"`
	Plan    ExportPlan   `json:"plan"`
	File    RenderedFile `json:"file"`
	// Progress is the run's final progress, stored with the result.
	Progress Progress `json:"progress"`
}

// ExportResult is the result of a succeeded Export; the API adds a fresh
// signed download_url when it serves it.
type ExportResult struct {
	ExportID    string    `json:"export_id"`
	Format      string    `json:"format"`
	Filename    string    `json:"filename"`
	ContentType string    `json:"content_type"`
	SizeBytes   int64     `json:"size_bytes"`
	Rows        int64     `json:"rows,omitempty"`
	Pages       int64     `json:"pages,omitempty"`
	ExpiresAt   time.Time `json:"expires_at"`
	Warnings    []string  `json:"warnings,omitempty"`
}

// Export renders a file from a stored request, uploads it to the blob store
// and records it. A failed or canceled export removes its blob and row.
func Export(ctx workflow.Context, in ExportInput) (ExportResult, error) {
	prog, err := newProgressTracker(ctx)
	if err != nil {
		return ExportResult{}, err
	}
	res, err := export(ctx, prog, in)
	if err != nil {
		return ExportResult{}, closeFailedRun(ctx, prog, in.RunID, err, ActivityExportDiscard)
	}
	return res, nil
}

func export(ctx workflow.Context, prog *progressTracker, in ExportInput) (ExportResult, error) {
	prog.set(ctx, "validating", 0, 0, "checking the request")
	lctx := workflow.WithLocalActivityOptions(ctx, localActivityOptions)
	var plan ExportPlan
	// Activity errors are returned unwrapped: they already name the
	// activity, and wrapping would make the workflow's failure type
	// "wrapError" in the Web UI instead of the activity's own type.
	if err := workflow.ExecuteLocalActivity(lctx, ActivityExportPrepare, in.RunID).Get(lctx, &plan); err != nil {
		return ExportResult{}, err
	}

	msg := "rendering the " + plan.Format
	if plan.Rows > 0 {
		msg = fmt.Sprintf("rendering %d rows as %s", plan.Rows, plan.Format)
	}
	prog.set(ctx, "rendering", 0, plan.Rows, msg)
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		TaskQueue:           TaskQueueRender,
		StartToCloseTimeout: 5 * time.Minute,
		// The SDK sends heartbeats at most every 0.8 × this, and a
		// cancellation reaches the activity only with a heartbeat reply:
		// 10 s keeps a canceled render stopping within seconds.
		HeartbeatTimeout: 10 * time.Second,
		// Wait for the render to stop before discarding, or a late upload
		// could land after the cleanup and leave an orphan file.
		WaitForCancellation: true,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        time.Second,
			BackoffCoefficient:     2,
			MaximumInterval:        time.Minute,
			MaximumAttempts:        5,
			NonRetryableErrorTypes: []string{ErrTypeInvalidInput, ErrTypeFileTooLarge, ErrTypeNotFound},
		},
	})
	var file RenderedFile
	if err := workflow.ExecuteActivity(actx, ActivityExportRender, ExportRenderInput{RunID: in.RunID}).Get(ctx, &file); err != nil {
		return ExportResult{}, err
	}

	prog.set(ctx, "storing", plan.Rows, plan.Rows, fmt.Sprintf("recording %s (%d bytes)", plan.Filename, file.SizeBytes))
	// The final progress is stored with the result, so it is set first
	// and restored if recording fails.
	storing := prog.p
	prog.set(ctx, StageDone, plan.Rows, plan.Rows, fmt.Sprintf("%s is ready", plan.Filename))
	var res ExportResult
	rec := ExportRecordInput{RunID: in.RunID, OwnerID: in.OwnerID, Plan: plan, File: file, Progress: prog.p}
	if err := workflow.ExecuteLocalActivity(lctx, ActivityExportRecord, rec).Get(lctx, &res); err != nil {
		prog.p = storing
		return ExportResult{}, err
	}
	return res, nil
}
