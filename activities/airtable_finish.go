package activities

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/groundwork-dev/groundwork"
	"github.com/groundwork-dev/groundwork/db"
	"github.com/groundwork-dev/groundwork/db/sqlc"
)

// AirtableFinish saves the cursors (not for a dry run), drops the run's
// scratch rows and closes the run with its result, in one transaction.
func (a *Airtable) AirtableFinish(ctx context.Context, in groundwork.AirtableFinishInput) error {
	st := in.State
	res := groundwork.AirtableSyncResult{MappingID: st.Prepared.MappingID, DryRun: st.Prepared.DryRun, Applied: st.Applied, Failed: st.Failed}
	if st.Plan != nil {
		res.ScannedAirtable, res.ScannedPostgres, res.Counts, res.Diff = st.Plan.ScannedAirtable, st.Plan.ScannedPostgres, st.Plan.Counts, st.Plan.Diff
	}
	a.schemas.drop(in.RunID)
	return db.InTx(ctx, a.Pool, func(tx pgx.Tx) error {
		q := sqlc.New(tx)
		fails, err := q.AirtablePlanFailures(ctx, sqlc.AirtablePlanFailuresParams{RunID: in.RunID, MaxRows: 50})
		if err != nil {
			return fmt.Errorf("load failures: %w", err)
		}
		for _, f := range fails {
			res.Failures = append(res.Failures, groundwork.AirtableSyncFailure{Key: f.Key, Error: f.Error})
		}
		if !st.Prepared.DryRun && st.Plan != nil {
			err := q.AirtableSyncStateSave(ctx, sqlc.AirtableSyncStateSaveParams{
				MappingID: st.Prepared.MappingID, AirtableCursor: st.Plan.AirtableCursor, PostgresCursor: st.Plan.PostgresCursor, LastRunID: &in.RunID,
			})
			if err != nil {
				return fmt.Errorf("save cursors: %w", err)
			}
		}
		if err := q.AirtableRunScratchDelete(ctx, in.RunID); err != nil {
			return fmt.Errorf("delete scratch: %w", err)
		}
		return finishSucceededRun(ctx, q, in.RunID, res, in.Progress)
	})
}
