package activities

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/temporal"

	"github.com/groundwork-dev/groundwork"
	"github.com/groundwork-dev/groundwork/db"
	"github.com/groundwork-dev/groundwork/db/sqlc"
	"github.com/groundwork-dev/groundwork/internal/config"
)

// Inbound carries out the actions of inbound webhook messages.
type Inbound struct {
	Pool *pgxpool.Pool
	// EventRetention bounds the events a track action accepts.
	EventRetention time.Duration
	// Now is the clock; tests replace it.
	Now func() time.Time
}

// refuse fails an inbound message for good: it can never be acted on.
func refuse(format string, a ...any) error {
	return temporal.NewNonRetryableApplicationError(fmt.Sprintf(format, a...), groundwork.ErrTypeInvalidInput, nil)
}

// InboundPrepare turns a stored inbound message into its source's action.
// Tracking happens here (idempotent by event ID); a run is recorded with
// an ID derived from the message, for the workflow to start as a child; a
// signal is checked to target a run of the source's workspace. A message
// the action cannot use fails for good, naming why.
func (a *Inbound) InboundPrepare(ctx context.Context, in groundwork.InboundInput) (groundwork.InboundPlan, error) {
	q := sqlc.New(a.Pool)
	msg, err := q.WebhookInboxGet(ctx, sqlc.WebhookInboxGetParams{SourceID: in.SourceID, WebhookID: in.WebhookID})
	if db.IsNotFound(err) {
		return groundwork.InboundPlan{}, temporal.NewNonRetryableApplicationError("the message is gone", groundwork.ErrTypeNotFound, nil)
	}
	if err != nil {
		return groundwork.InboundPlan{}, fmt.Errorf("load message: %w", err)
	}
	src, err := q.WebhookSourceByID(ctx, in.SourceID)
	if db.IsNotFound(err) {
		return groundwork.InboundPlan{}, temporal.NewNonRetryableApplicationError("the source was deleted", groundwork.ErrTypeNotFound, nil)
	}
	if err != nil {
		return groundwork.InboundPlan{}, fmt.Errorf("load source: %w", err)
	}
	var action groundwork.SourceAction
	if err := json.Unmarshal(src.Action, &action); err != nil {
		return groundwork.InboundPlan{}, refuse("the source's action is unreadable: %v", err)
	}
	var message any
	if err := json.Unmarshal(msg.Body, &message); err != nil {
		return groundwork.InboundPlan{}, refuse("the message is not JSON")
	}
	switch {
	case action.Type == groundwork.ActionTrack:
		return groundwork.InboundPlan{Done: true}, a.track(ctx, q, src, action, message)
	case action.Type == groundwork.ActionSignal:
		v, _ := groundwork.Lookup(message, action.Map["run_id"])
		runID, _ := v.(string)
		if ws, err := q.RunWorkspace(ctx, runID); err != nil || ws != src.WorkspaceID {
			return groundwork.InboundPlan{}, refuse("the message names no run of the workspace at %s", action.Map["run_id"])
		}
		return groundwork.InboundPlan{RunID: runID, Signal: action.Signal, Payload: msg.Body}, nil
	}
	kind, _ := action.RunKind()
	req, err := action.BuildRequest(message)
	if err != nil {
		return groundwork.InboundPlan{}, refuse("%v", err)
	}
	body, err := json.Marshal(req)
	if err != nil {
		return groundwork.InboundPlan{}, refuse("the request cannot be encoded: %v", err)
	}
	runID := groundwork.InboundRunID(kind, src.ID, msg.WebhookID, msg.ReceivedAt)
	_, err = q.RunCreate(ctx, sqlc.RunCreateParams{ID: runID, OwnerID: src.OwnerID, WorkspaceID: src.WorkspaceID, Kind: string(kind),
		RequestHash: groundwork.RequestHash(kind, body), Body: body, MaxOpen: db.NoOpenRunCap})
	if err != nil && !db.IsUniqueViolation(err) { // recorded by an earlier attempt
		return groundwork.InboundPlan{}, fmt.Errorf("record run: %w", err)
	}
	// The run's own workflow validates the request and fails it, with its
	// reason, if it can never be done.
	return groundwork.InboundPlan{Kind: kind, RunID: runID, OwnerID: src.OwnerID}, nil
}

// track ingests the events of a message: a /v1/track batch, a list of
// events, or one event, at the mapped "events" path or the whole message.
func (a *Inbound) track(ctx context.Context, q *sqlc.Queries, src sqlc.WebhookSource, action groundwork.SourceAction, message any) error {
	v := message
	if p := action.Map["events"]; p != "" {
		var ok bool
		if v, ok = groundwork.Lookup(message, p); !ok {
			return refuse("the message has no %s", p)
		}
	}
	if m, ok := v.(map[string]any); ok {
		if list, ok := m["events"]; ok {
			v = list
		} else {
			v = []any{m}
		}
	}
	raw, _ := json.Marshal(v)
	var events []groundwork.TrackEvent
	if err := json.Unmarshal(raw, &events); err != nil || len(events) == 0 || len(events) > groundwork.MaxTrackBatch {
		return refuse("the message holds no batch of 1 to %d events", groundwork.MaxTrackBatch)
	}
	now := time.Now()
	if a.Now != nil {
		now = a.Now()
	}
	retention := a.EventRetention
	if retention <= 0 {
		retention = config.DefaultEventRetention
	}
	ids := make([]string, len(events))
	for i, e := range events {
		if errs := e.Validate(fmt.Sprintf("events[%d].", i), now, retention); len(errs) > 0 {
			return refuse("%s", errs[0].Error())
		}
		ids[i] = e.CustomerID
	}
	known, err := q.CustomerIDsInWorkspace(ctx, sqlc.CustomerIDsInWorkspaceParams{WorkspaceID: src.WorkspaceID, Ids: ids})
	if err != nil {
		return fmt.Errorf("check customers: %w", err)
	}
	seen := map[string]bool{}
	for _, id := range known {
		seen[id] = true
	}
	for i, e := range events {
		if !seen[e.CustomerID] {
			return refuse("events[%d].customer_id: no such customer in the workspace", i)
		}
	}
	if _, err := db.IngestEvents(ctx, a.Pool, src.WorkspaceID, retention, events); err != nil {
		return fmt.Errorf("ingest: %w", err)
	}
	return nil
}

// InboundFinish records how an inbound message's action ended.
func (a *Inbound) InboundFinish(ctx context.Context, in groundwork.InboundFinishInput) error {
	status := "done"
	var errText, runID *string
	if in.Error != "" {
		status, errText = "failed", &in.Error
	}
	if in.RunID != "" {
		runID = &in.RunID
	}
	return sqlc.New(a.Pool).WebhookInboxFinish(ctx, sqlc.WebhookInboxFinishParams{SourceID: in.SourceID, WebhookID: in.WebhookID,
		Status: status, RunID: runID, Error: errText})
}
