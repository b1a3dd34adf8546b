package activities

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/temporal"

	"github.com/groundwork-dev/groundwork"
	"github.com/groundwork-dev/groundwork/db"
	"github.com/groundwork-dev/groundwork/db/sqlc"
	"github.com/groundwork-dev/groundwork/internal/config"
)

// Analytics maintains the analytics rollups and the events partitions.
type Analytics struct {
	Pool *pgxpool.Pool
	// EventRetention is how long events are kept (0: the default).
	EventRetention time.Duration
	// Now is the clock; tests replace it.
	Now func() time.Time
}

func (a *Analytics) retention() time.Duration {
	if a.EventRetention > 0 {
		return a.EventRetention
	}
	return config.DefaultEventRetention
}

// AnalyticsRollup recomputes the rollups of one granularity for every
// bucket from config.RollupLateness before the watermark (the retention's
// start the first time) to the last complete bucket, replacing what was
// there, and moves the watermark. The same window recomputed gives the
// same rows, which is what folds late events in.
func (a *Analytics) AnalyticsRollup(ctx context.Context, in groundwork.RollupInput) (groundwork.RollupResult, error) {
	g := in.Granularity
	if g != groundwork.GranularityHour && g != groundwork.GranularityDay {
		return groundwork.RollupResult{}, temporal.NewNonRetryableApplicationError("unknown granularity "+g, groundwork.ErrTypeInvalidInput, nil)
	}
	now := time.Now()
	if a.Now != nil {
		now = a.Now()
	}
	to := groundwork.BucketStart(now, g)
	var res groundwork.RollupResult
	err := db.InTx(ctx, a.Pool, func(tx pgx.Tx) error {
		q := sqlc.New(tx)
		if err := q.AnalyticsRollupLock(ctx, g); err != nil {
			return fmt.Errorf("lock rollup: %w", err)
		}
		from := groundwork.BucketStart(now.Add(-a.retention()), g)
		if wm, err := q.AnalyticsWatermark(ctx, g); err == nil {
			from = groundwork.BucketStart(wm.Add(-config.RollupLateness), g)
		} else if !db.IsNotFound(err) {
			return fmt.Errorf("load watermark: %w", err)
		}
		res.From, res.Through = from.Format(time.RFC3339), to.Format(time.RFC3339)
		if !to.After(from) {
			return nil
		}
		if err := q.AnalyticsRollupDelete(ctx, sqlc.AnalyticsRollupDeleteParams{Granularity: g, FromAt: from, ToAt: to}); err != nil {
			return fmt.Errorf("clear rollups: %w", err)
		}
		n, err := q.AnalyticsRollupInsert(ctx, sqlc.AnalyticsRollupInsertParams{Granularity: g, FromAt: from, ToAt: to})
		if err != nil {
			return fmt.Errorf("roll up: %w", err)
		}
		res.Rows = n
		return q.AnalyticsWatermarkSet(ctx, sqlc.AnalyticsWatermarkSetParams{Granularity: g, Through: to})
	})
	return res, err
}

// EventPartitions creates the events table's partitions ahead and drops
// those past retention.
func (a *Analytics) EventPartitions(ctx context.Context) (groundwork.PartitionsResult, error) {
	r, err := db.EnsureEventPartitions(ctx, a.Pool, a.retention())
	if err != nil {
		return groundwork.PartitionsResult{}, err
	}
	return groundwork.PartitionsResult{Created: int(r.Created), Dropped: int(r.Dropped)}, nil
}
