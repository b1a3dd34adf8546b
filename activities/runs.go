package activities

// runs.go is the run bookkeeping every kind shares: loading the request a
// run was started with, and closing it as succeeded or failed.

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/temporal"

	"github.com/groundwork-dev/groundwork"
	"github.com/groundwork-dev/groundwork/db"
	"github.com/groundwork-dev/groundwork/db/sqlc"
	"github.com/groundwork-dev/groundwork/internal/metrics"
)

// loadRunInput decodes the request a run was started with. A missing or
// undecodable request can never become valid, so both are non-retryable;
// what names the request in the messages ("export", "research"…).
func loadRunInput[T any](ctx context.Context, pool *pgxpool.Pool, runID, what string) (T, error) {
	var req T
	body, err := sqlc.New(pool).RunInputGet(ctx, runID)
	if db.IsNotFound(err) {
		return req, temporal.NewNonRetryableApplicationError("the "+what+" request is gone", groundwork.ErrTypeNotFound, err)
	}
	if err != nil {
		return req, fmt.Errorf("load run input: %w", err)
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return req, temporal.NewNonRetryableApplicationError("the stored "+what+" request is not valid JSON", groundwork.ErrTypeInvalidInput, err)
	}
	return req, nil
}

// finishSucceededRun records a run's result and final progress, and the
// webhook events of its close; a run that already closed keeps its first
// outcome.
func finishSucceededRun(ctx context.Context, q *sqlc.Queries, runID string, result any, progress groundwork.Progress) error {
	body, err := json.Marshal(result)
	if err != nil {
		return fmt.Errorf("marshal result: %w", err)
	}
	prog, err := json.Marshal(progress)
	if err != nil {
		return fmt.Errorf("marshal progress: %w", err)
	}
	run, err := q.RunFinish(ctx, sqlc.RunFinishParams{ID: runID, Status: sqlc.RunStatusSucceeded, Result: body, Progress: prog})
	if db.IsNotFound(err) {
		return nil // closed before: its events went then
	}
	if err != nil {
		return fmt.Errorf("finish run: %w", err)
	}
	if err := db.RunClosed(ctx, q, run, nil); err != nil {
		return err
	}
	observeClosed(run)
	return nil
}

// observeClosed counts a closed run and its duration.
func observeClosed(run sqlc.Run) {
	metrics.RunsFinished.WithLabelValues(run.Kind, string(run.Status)).Inc()
	metrics.RunDuration.WithLabelValues(run.Kind, string(run.Status)).Observe(run.UpdatedAt.Sub(run.CreatedAt).Seconds())
}

// finishFailedRun drops a run's input and records its final status, error
// and progress, the webhook events of its close and, for a failure, a dead
// letter; a run that already closed keeps its first outcome.
func finishFailedRun(ctx context.Context, q *sqlc.Queries, in groundwork.RunDiscardInput) error {
	var errJSON json.RawMessage
	if in.Error != nil {
		b, err := json.Marshal(in.Error)
		if err != nil {
			return fmt.Errorf("marshal run error: %w", err)
		}
		errJSON = b
	}
	prog, err := json.Marshal(in.Progress)
	if err != nil {
		return fmt.Errorf("marshal progress: %w", err)
	}
	run, err := q.RunFinish(ctx, sqlc.RunFinishParams{ID: in.RunID, Status: sqlc.RunStatus(in.Status), Error: errJSON, Progress: prog})
	switch {
	case db.IsNotFound(err):
		// Closed before: its events and dead letter went then.
	case err != nil:
		return fmt.Errorf("finish run: %w", err)
	default:
		// The dead letter keeps the request, so a replay can start it again.
		input, err := q.RunInputGet(ctx, in.RunID)
		if err != nil && !db.IsNotFound(err) {
			return fmt.Errorf("load run input: %w", err)
		}
		if err := db.RunClosed(ctx, q, run, input); err != nil {
			return err
		}
		observeClosed(run)
	}
	if err := q.RunInputDelete(ctx, in.RunID); err != nil {
		return fmt.Errorf("delete run input: %w", err)
	}
	return nil
}
