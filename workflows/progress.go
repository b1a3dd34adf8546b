package workflows

import (
	"fmt"

	"go.temporal.io/sdk/workflow"

	"github.com/groundwork-dev/groundwork"
)

// progressTracker owns a workflow's Progress: it answers the query and
// mirrors each change into the Web UI's current details.
type progressTracker struct {
	p groundwork.Progress
}

// newProgressTracker registers the progress query handler on ctx.
func newProgressTracker(ctx workflow.Context) (*progressTracker, error) {
	t := &progressTracker{p: groundwork.Progress{Stage: groundwork.StageQueued, UpdatedAt: workflow.Now(ctx)}}
	if err := workflow.SetQueryHandler(ctx, groundwork.QueryProgress, func() (groundwork.Progress, error) {
		return t.p, nil
	}); err != nil {
		return nil, fmt.Errorf("register progress query: %w", err)
	}
	return t, nil
}

// set records a new state and bumps the version.
func (t *progressTracker) set(ctx workflow.Context, stage string, done, total int64, message string) {
	t.p = groundwork.Progress{
		Stage:     stage,
		Done:      done,
		Total:     total,
		Message:   message,
		UpdatedAt: workflow.Now(ctx),
		Version:   t.p.Version + 1,
	}
	workflow.SetCurrentDetails(ctx, fmt.Sprintf("**%s** %d/%d — %s", stage, done, total, message))
}
