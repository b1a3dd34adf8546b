package db

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/groundwork-dev/groundwork"
	"github.com/groundwork-dev/groundwork/db/sqlc"
)

// Event is one outbound webhook event, as the message body receivers get:
// the Standard Webhooks convention of type, timestamp and data.
type Event struct {
	Type      string    `json:"type"`
	Timestamp time.Time `json:"timestamp"`
	Data      any       `json:"data"`
}

// EnqueueEvent writes the event to the webhook outbox of every endpoint of
// the workspace subscribed to it, in q's transaction; key identifies the
// event, so writing it twice sends it once.
func EnqueueEvent(ctx context.Context, q *sqlc.Queries, workspace, key, eventType string, data any) error {
	body, err := json.Marshal(Event{Type: eventType, Timestamp: time.Now().UTC(), Data: data})
	if err != nil {
		return fmt.Errorf("marshal %s event: %w", eventType, err)
	}
	if _, err := q.WebhookEnqueue(ctx, sqlc.WebhookEnqueueParams{WorkspaceID: workspace, EventKey: eventType + ":" + key, EventType: eventType, Payload: body}); err != nil {
		return fmt.Errorf("enqueue %s event: %w", eventType, err)
	}
	return nil
}

// RunEventData is the data of run events.
type RunEventData struct {
	RunID  string               `json:"run_id"`
	Kind   string               `json:"kind"`
	Status string               `json:"status"`
	Result json.RawMessage      `json:"result,omitempty"`
	Error  *groundwork.RunError `json:"error,omitempty"`
}

// RunClosed records what a run's close sends and keeps: its owner's
// e-mail notification, run.succeeded and its kind's event, or run.failed
// and, for a failure (not a cancellation), a dead letter holding the
// run's request (input).
func RunClosed(ctx context.Context, q *sqlc.Queries, run sqlc.Run, input []byte) error {
	data := RunEventData{RunID: run.ID, Kind: run.Kind, Status: string(run.Status)}
	var re groundwork.RunError
	if run.Status == sqlc.RunStatusSucceeded {
		data.Result = run.Result
	} else if len(run.Error) > 0 {
		_ = json.Unmarshal(run.Error, &re)
		data.Error = &re
	}
	if err := Notify(ctx, q, run.OwnerID, run.WorkspaceID, "run:"+run.ID, runNotificationTypes(run), data); err != nil {
		return err
	}
	if run.Status == sqlc.RunStatusSucceeded {
		if err := EnqueueEvent(ctx, q, run.WorkspaceID, run.ID, groundwork.EventRunSucceeded, data); err != nil {
			return err
		}
		if ev, ok := groundwork.KindEvents[groundwork.Kind(run.Kind)]; ok {
			return EnqueueEvent(ctx, q, run.WorkspaceID, run.ID, ev, data)
		}
		return nil
	}
	if err := EnqueueEvent(ctx, q, run.WorkspaceID, run.ID, groundwork.EventRunFailed, data); err != nil {
		return err
	}
	if run.Status != sqlc.RunStatusFailed {
		return nil
	}
	id := run.ID
	err := q.DeadLetterInsert(ctx, sqlc.DeadLetterInsertParams{ID: NewDeadLetterID(), WorkspaceID: run.WorkspaceID, OwnerID: run.OwnerID,
		Kind: run.Kind, RunID: &id, ErrorType: re.Type, Error: re.Message, Body: input})
	if err != nil {
		return fmt.Errorf("record dead letter: %w", err)
	}
	return nil
}

// NewDeadLetterID returns a fresh dead-letter ID, "dl_<ULID>".
func NewDeadLetterID() string {
	return "dl_" + ulid.MustNew(ulid.Now(), rand.Reader).String()
}
