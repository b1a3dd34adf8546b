package workflows

import (
	"errors"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/groundwork-dev/groundwork"
)

// closeFailedRun records why a run ended and removes what it made with the
// kind's discard activity, on a disconnected context so it also runs after
// cancellation. It returns the error the workflow should end with.
func closeFailedRun(ctx workflow.Context, prog *progressTracker, runID string, cause error, discard string) error {
	in := groundwork.RunDiscardInput{RunID: runID, Status: groundwork.RunFailed, Error: runErrorOf(cause)}
	stage := groundwork.StageFailed
	if temporal.IsCanceledError(cause) {
		in.Status, in.Error, stage = groundwork.RunCanceled, nil, groundwork.StageCanceled
	}
	prog.set(ctx, stage, prog.p.Done, prog.p.Total, errorMessage(in.Error, stage))
	in.Progress = prog.p
	dctx, _ := workflow.NewDisconnectedContext(ctx)
	dctx = withLocal(dctx)
	if err := workflow.ExecuteLocalActivity(dctx, discard, in).Get(dctx, nil); err != nil {
		workflow.GetLogger(ctx).Error("discard failed run", "run_id", runID, "error", err)
	}
	return cause
}

func errorMessage(e *groundwork.RunError, stage string) string {
	if e == nil {
		return stage
	}
	return e.Message
}

// runErrorOf finds the innermost application error and turns it into the
// user-facing error; anything else is "internal".
func runErrorOf(err error) *groundwork.RunError {
	for e := err; e != nil; e = errors.Unwrap(e) {
		var appErr *temporal.ApplicationError
		if !errors.As(e, &appErr) {
			break
		}
		if groundwork.UserFacingErrTypes[appErr.Type()] {
			return &groundwork.RunError{Type: appErr.Type(), Message: appErr.Message()}
		}
		e = appErr
	}
	var timeoutErr *temporal.TimeoutError
	if errors.As(err, &timeoutErr) {
		return &groundwork.RunError{Type: groundwork.ErrTypeTimeout, Message: "a step of the run timed out after its retries"}
	}
	// Anything else (a Postgres or blob-store error) may carry
	// infrastructure details: operators see it in the Web UI, users do not.
	return &groundwork.RunError{Type: groundwork.ErrTypeInternal, Message: "the run failed on an internal error; operators can inspect it in Temporal"}
}
