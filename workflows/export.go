package workflows

import (
	"errors"
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

// Error types carried by non-retryable application errors; they become the
// slug of the run's error "type".
const (
	// ErrTypeInvalidInput means the stored request can never be rendered.
	ErrTypeInvalidInput = "invalid_input"
	// ErrTypeFileTooLarge means the rendered file passed the size cap.
	ErrTypeFileTooLarge = "file_too_large"
	// ErrTypeNotFound means the run or its input vanished.
	ErrTypeNotFound = "not_found"
	// ErrTypeQuotaExceeded means the file would pass the owner's storage quota.
	ErrTypeQuotaExceeded = "quota_exceeded"
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

// RunError is the error of a failed run as the API shows it.
type RunError struct {
	Type    string `json:"type"`
	Message string `json:"message"`
}

// RunDiscardInput closes a run that did not succeed and removes its files.
type RunDiscardInput struct {
	RunID  string    `json:"run_id"`
	Status string    `json:"status"`
	Error  *RunError `json:"error,omitempty"`
	// Progress is the run's final progress, stored with the outcome.
	Progress Progress `json:"progress"`
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
		return ExportResult{}, closeFailedRun(ctx, prog, in.RunID, err)
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

// localActivityOptions suit the short Postgres steps that run in the
// workflow worker: no task-queue round trip, retried with backoff while
// Postgres is away.
var localActivityOptions = workflow.LocalActivityOptions{
	StartToCloseTimeout: 30 * time.Second,
	RetryPolicy: &temporal.RetryPolicy{
		InitialInterval:        500 * time.Millisecond,
		BackoffCoefficient:     2,
		MaximumInterval:        30 * time.Second,
		MaximumAttempts:        20,
		NonRetryableErrorTypes: []string{ErrTypeInvalidInput, ErrTypeNotFound, ErrTypeQuotaExceeded},
	},
}

// closeFailedRun records why a run ended and removes what it made, on a
// disconnected context so it also runs after cancellation. It returns the
// error the workflow should end with.
func closeFailedRun(ctx workflow.Context, prog *progressTracker, runID string, cause error) error {
	in := RunDiscardInput{RunID: runID, Status: "failed", Error: runErrorOf(cause)}
	stage := StageFailed
	if temporal.IsCanceledError(cause) {
		in.Status, in.Error, stage = "canceled", nil, StageCanceled
	}
	prog.set(ctx, stage, prog.p.Done, prog.p.Total, errorMessage(in.Error, stage))
	in.Progress = prog.p
	dctx, _ := workflow.NewDisconnectedContext(ctx)
	dctx = workflow.WithLocalActivityOptions(dctx, localActivityOptions)
	if err := workflow.ExecuteLocalActivity(dctx, ActivityExportDiscard, in).Get(dctx, nil); err != nil {
		workflow.GetLogger(ctx).Error("discard failed run", "run_id", runID, "error", err)
	}
	return cause
}

func errorMessage(e *RunError, stage string) string {
	if e == nil {
		return stage
	}
	return e.Message
}

// userFacingErrTypes are the application error types whose messages are
// written for users.
var userFacingErrTypes = map[string]bool{
	ErrTypeInvalidInput:  true,
	ErrTypeFileTooLarge:  true,
	ErrTypeNotFound:      true,
	ErrTypeQuotaExceeded: true,
}

// runErrorOf finds the innermost application error and turns it into the
// user-facing error; anything else is "internal".
func runErrorOf(err error) *RunError {
	for e := err; e != nil; e = errors.Unwrap(e) {
		var appErr *temporal.ApplicationError
		if !errors.As(e, &appErr) {
			break
		}
		if userFacingErrTypes[appErr.Type()] {
			return &RunError{Type: appErr.Type(), Message: appErr.Message()}
		}
		e = appErr
	}
	var timeoutErr *temporal.TimeoutError
	if errors.As(err, &timeoutErr) {
		return &RunError{Type: "timeout", Message: "a step of the run timed out after its retries"}
	}
	// Anything else (a Postgres or blob-store error) may carry
	// infrastructure details: operators see it in the Web UI, users do not.
	return &RunError{Type: "internal", Message: "the run failed on an internal error; operators can inspect it in Temporal"}
}
