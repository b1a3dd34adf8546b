package activities

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/groundwork-dev/groundwork"
	"github.com/groundwork-dev/groundwork/db"
	"github.com/groundwork-dev/groundwork/db/sqlc"
)

// StalledData is the data of a customer.stalled event and e-mail.
type StalledData struct {
	CustomerID     string    `json:"customer_id"`
	ExternalID     string    `json:"external_id,omitempty"`
	Name           string    `json:"name"`
	Stage          string    `json:"stage"`
	OwnerUserID    string    `json:"owner_user_id,omitempty"`
	LastActivityAt time.Time `json:"last_activity_at"`
	StalledDays    int       `json:"stalled_days"`
}

// stalledBatch is the most customers one transaction marks.
const stalledBatch = 500

// StallNewsWindow is how recently a stall must have begun to be
// reported: a customer quiet for years is not news, on the first pass
// after an upgrade or after an outage of the schedule.
const StallNewsWindow = 7 * 24 * time.Hour

// StalledCustomers finds the customers that went quiet since the last
// pass and, in the transaction that remembers each stall, records its
// customer.stalled webhook event and its owner's e-mail: one per stall,
// however often the pass runs.
func (e *Email) StalledCustomers(ctx context.Context) (groundwork.StalledResult, error) {
	var res groundwork.StalledResult
	now := e.now()
	for {
		n := 0
		err := db.InTx(ctx, e.Pool, func(tx pgx.Tx) error {
			q := sqlc.New(tx)
			before := now.Add(-e.StalledAfter)
			rows, err := q.StalledCustomersDetect(ctx, sqlc.StalledCustomersDetectParams{StalledBefore: before,
				BeganAfter: before.Add(-StallNewsWindow), MaxRows: stalledBatch})
			if err != nil {
				return fmt.Errorf("detect stalled customers: %w", err)
			}
			n = len(rows)
			for _, r := range rows {
				d := StalledData{CustomerID: r.ID, Name: r.Name, Stage: r.Stage, LastActivityAt: r.LastSeenAt.UTC(),
					StalledDays: int(now.Sub(r.LastSeenAt) / (24 * time.Hour))}
				if r.ExternalID != nil {
					d.ExternalID = *r.ExternalID
				}
				if r.OwnerUserID != nil {
					d.OwnerUserID = *r.OwnerUserID
				}
				key := r.ID + ":" + r.LastSeenAt.UTC().Format(time.RFC3339Nano)
				if err := db.EnqueueEvent(ctx, q, r.WorkspaceID, key, groundwork.EventCustomerStalled, d); err != nil {
					return err
				}
				if err := db.Notify(ctx, q, d.OwnerUserID, r.WorkspaceID, groundwork.EventCustomerStalled+":"+key,
					[]string{groundwork.EventCustomerStalled}, d); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return res, err
		}
		res.Stalled += n
		if n < stalledBatch {
			return res, nil
		}
	}
}
