package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/workflow"
)

// Stages shared by every workflow's Progress.
const (
	// StageQueued is reported before the workflow's first task ran.
	StageQueued = "queued"
	// StageDone is the last stage of a successful run.
	StageDone = "done"
	// StageFailed is the last stage of a failed run.
	StageFailed = "failed"
	// StageCanceled is the last stage of a canceled run.
	StageCanceled = "canceled"
)

// Progress is the answer to the "progress" query of every workflow.
type Progress struct {
	Stage     string    `json:"stage"`
	Done      int64     `json:"done"`
	Total     int64     `json:"total"`
	Message   string    `json:"message"`
	UpdatedAt time.Time `json:"updated_at"`
	// Version grows by one with every change, so pollers and SSE streams can
	// tell a new state from the one they already sent.
	Version int64 `json:"version"`
	// Text is the answer streamed so far by a running generation; the API
	// fills it in from the LLM activity's heartbeat, the workflow never
	// sets it.
	Text string `json:"text,omitempty"`
}

// Percent is Done/Total as a whole percentage, 0 when Total is unknown.
func (p Progress) Percent() int {
	if p.Total <= 0 {
		return 0
	}
	pct := int(p.Done * 100 / p.Total)
	return min(max(pct, 0), 100)
}

// progressTracker owns a workflow's Progress: it answers the query and
// mirrors each change into the Web UI's current details.
type progressTracker struct {
	p Progress
}

// newProgressTracker registers the progress query handler on ctx.
func newProgressTracker(ctx workflow.Context) (*progressTracker, error) {
	t := &progressTracker{p: Progress{Stage: StageQueued, UpdatedAt: workflow.Now(ctx)}}
	if err := workflow.SetQueryHandler(ctx, QueryProgress, func() (Progress, error) {
		return t.p, nil
	}); err != nil {
		return nil, fmt.Errorf("register progress query: %w", err)
	}
	return t, nil
}

// set records a new state and bumps the version.
func (t *progressTracker) set(ctx workflow.Context, stage string, done, total int64, message string) {
	t.p = Progress{
		Stage:     stage,
		Done:      done,
		Total:     total,
		Message:   message,
		UpdatedAt: workflow.Now(ctx),
		Version:   t.p.Version + 1,
	}
	workflow.SetCurrentDetails(ctx, fmt.Sprintf("**%s** %d/%d — %s", stage, done, total, message))
}
