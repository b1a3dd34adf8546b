package workflows

import (
	"errors"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
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
	// ErrTypeBudgetExceeded means the owner's monthly LLM token budget is spent.
	ErrTypeBudgetExceeded = "budget_exceeded"
	// ErrTypeNoProvider means no LLM provider is configured.
	ErrTypeNoProvider = "no_llm_provider"
	// ErrTypeProviderRejected means a provider refused the request itself
	// (bad key, unknown model, invalid request): retrying cannot help.
	ErrTypeProviderRejected = "provider_rejected"
	// ErrTypeProviderUnavailable means every provider failed with a
	// retryable error; the activity's retries keep trying.
	ErrTypeProviderUnavailable = "provider_unavailable"
	// ErrTypeSyncRunning means another sync of the mapping is running.
	ErrTypeSyncRunning = "sync_running"
)

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

// closeFailedRun records why a run ended and removes what it made with the
// kind's discard activity, on a disconnected context so it also runs after
// cancellation. It returns the error the workflow should end with.
func closeFailedRun(ctx workflow.Context, prog *progressTracker, runID string, cause error, discard string) error {
	in := RunDiscardInput{RunID: runID, Status: "failed", Error: runErrorOf(cause)}
	stage := StageFailed
	if temporal.IsCanceledError(cause) {
		in.Status, in.Error, stage = "canceled", nil, StageCanceled
	}
	prog.set(ctx, stage, prog.p.Done, prog.p.Total, errorMessage(in.Error, stage))
	in.Progress = prog.p
	dctx, _ := workflow.NewDisconnectedContext(ctx)
	dctx = workflow.WithLocalActivityOptions(dctx, localActivityOptions)
	if err := workflow.ExecuteLocalActivity(dctx, discard, in).Get(dctx, nil); err != nil {
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
	ErrTypeInvalidInput:        true,
	ErrTypeFileTooLarge:        true,
	ErrTypeNotFound:            true,
	ErrTypeQuotaExceeded:       true,
	ErrTypeBudgetExceeded:      true,
	ErrTypeNoProvider:          true,
	ErrTypeProviderRejected:    true,
	ErrTypeProviderUnavailable: true,
	ErrTypeSyncRunning:         true,
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
