package db

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/groundwork-dev/groundwork"
	"github.com/groundwork-dev/groundwork/db/sqlc"
	"github.com/groundwork-dev/groundwork/internal/config"
)

// Ingested is what one batch of events changed.
type Ingested struct {
	// Stored counts the events stored; the others had been sent before.
	Stored int64
	// Achieved are the milestones the batch achieved, each exactly once.
	Achieved []sqlc.MilestonesAchieveByEventsRow
}

// IngestEvents stores a batch of one workspace's events, whose customers
// the caller checked are the workspace's, in one transaction: the events
// not sent before, their counts in the customers' aggregates, and the
// events-rule milestones those counts now reach. A deadlock or a missing
// partition is retried.
func IngestEvents(ctx context.Context, pool *pgxpool.Pool, workspace string, retention time.Duration, events []groundwork.TrackEvent) (Ingested, error) {
	p := sqlc.EventsIngestParams{
		WorkspaceID: workspace,
		Ids:         make([]string, len(events)),
		CustomerIds: make([]string, len(events)),
		Types:       make([]string, len(events)),
		OccurredAt:  make([]time.Time, len(events)),
		Properties:  make([]json.RawMessage, len(events)),
	}
	customers := make([]string, 0, len(events))
	seen := map[string]bool{}
	for i, e := range events {
		p.Ids[i], p.CustomerIds[i], p.Types[i], p.OccurredAt[i] = e.ID, e.CustomerID, e.Type, e.OccurredAt
		if len(e.Properties) > 0 {
			p.Properties[i] = e.Properties
		}
		if !seen[e.CustomerID] {
			seen[e.CustomerID] = true
			customers = append(customers, e.CustomerID)
		}
	}
	var out Ingested
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		err = InTx(ctx, pool, func(tx pgx.Tx) error {
			q := sqlc.New(tx)
			// Shared with other batches; a change of the rules waits.
			if err := q.MilestoneRulesShare(ctx, workspace); err != nil {
				return fmt.Errorf("lock milestone rules: %w", err)
			}
			stored, err := q.EventsIngest(ctx, p)
			if err != nil {
				return fmt.Errorf("store events: %w", err)
			}
			out.Stored = stored
			if stored == 0 {
				out.Achieved = nil
				return nil
			}
			out.Achieved, err = q.MilestonesAchieveByEvents(ctx, sqlc.MilestonesAchieveByEventsParams{WorkspaceID: workspace, CustomerIds: customers})
			if err != nil {
				return fmt.Errorf("achieve milestones: %w", err)
			}
			for _, a := range out.Achieved {
				if err := MilestoneAchieved(ctx, q, workspace, a.CustomerID, a.MilestoneID, a.AchievedAt, "events"); err != nil {
					return err
				}
			}
			return nil
		})
		var pe *pgconn.PgError
		if err == nil || !errors.As(err, &pe) {
			return out, err
		}
		switch pe.Code {
		case "40P01": // deadlock_detected: the other batch went through
		case "23514": // no partition for a row: the schedule has not run yet
			if _, perr := EnsureEventPartitions(ctx, pool, retention); perr != nil {
				return out, perr
			}
		default:
			return out, err
		}
	}
	return out, err
}

// EnsureEventPartitions creates the events table's monthly partitions from
// retention ago to config.EventPartitionsAhead months ahead and drops the
// partitions (and event keys) past retention.
func EnsureEventPartitions(ctx context.Context, pool *pgxpool.Pool, retention time.Duration) (sqlc.EventPartitionsRow, error) {
	r, err := sqlc.New(pool).EventPartitions(ctx, sqlc.EventPartitionsParams{
		AheadMonths: config.EventPartitionsAhead,
		Retention:   pgtype.Interval{Microseconds: retention.Microseconds(), Valid: true},
	})
	if err != nil {
		return r, fmt.Errorf("event partitions: %w", err)
	}
	return r, nil
}

// MilestoneAchieved writes the milestone.achieved event of an achievement.
func MilestoneAchieved(ctx context.Context, q *sqlc.Queries, workspace, customer, milestone string, at time.Time, by string) error {
	return EnqueueEvent(ctx, q, workspace, customer+":"+milestone+":"+at.UTC().Format(time.RFC3339Nano), groundwork.EventMilestoneAchieved,
		map[string]any{"customer_id": customer, "milestone_id": milestone, "achieved_at": at, "achieved_by": by})
}
