package activities

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"go.temporal.io/sdk/temporal"

	"github.com/groundwork-dev/groundwork"
	"github.com/groundwork-dev/groundwork/db"
	"github.com/groundwork-dev/groundwork/db/sqlc"
)

// GenerateRecord closes a succeeded Generate run with its stored answer as
// the result. Run twice, the run keeps its first outcome.
func (a *LLM) GenerateRecord(ctx context.Context, in groundwork.GenerateRecordInput) error {
	q := sqlc.New(a.Pool)
	g, err := q.GenerationGet(ctx, in.RunID)
	if db.IsNotFound(err) {
		return temporal.NewNonRetryableApplicationError("the generation's answer is gone", groundwork.ErrTypeNotFound, err)
	}
	if err != nil {
		return fmt.Errorf("load generation: %w", err)
	}
	return finishSucceededRun(ctx, q, in.RunID, db.GenerationResultOf(g), in.Progress)
}

// GenerateDiscard closes a failed or canceled Generate run. Its ledger rows
// stay: the calls were made and billed whatever became of the run.
func (a *LLM) GenerateDiscard(ctx context.Context, in groundwork.RunDiscardInput) error {
	return db.InTx(ctx, a.Pool, func(tx pgx.Tx) error {
		q := sqlc.New(tx)
		if err := q.GenerationDelete(ctx, in.RunID); err != nil {
			return fmt.Errorf("delete generation: %w", err)
		}
		return finishFailedRun(ctx, q, in)
	})
}
