package db

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/groundwork-dev/groundwork"
	"github.com/groundwork-dev/groundwork/db/sqlc"
)

// Notify writes a user's e-mail notification about an event to the outbox,
// in q's transaction, when the user chose one of types (most specific
// first; only the first chosen is sent). key identifies the event: the
// same key for the same user is one e-mail, whatever writes it again.
func Notify(ctx context.Context, q *sqlc.Queries, userID, workspace, key string, types []string, data any) error {
	if userID == "" || len(types) == 0 {
		return nil
	}
	body, err := json.Marshal(data)
	if err != nil {
		return fmt.Errorf("marshal notification: %w", err)
	}
	templates := make([]string, len(types))
	for i, t := range types {
		templates[i] = groundwork.NotificationTemplates[t]
	}
	if _, err := q.EmailEnqueue(ctx, sqlc.EmailEnqueueParams{ID: groundwork.EmailID(userID, key), UserID: userID, WorkspaceID: workspace,
		Types: types, Templates: templates, Data: body}); err != nil {
		return fmt.Errorf("enqueue e-mail: %w", err)
	}
	return nil
}

// runNotificationTypes are the notification types a closed run may send
// its owner, most specific first: none for a cancellation.
func runNotificationTypes(run sqlc.Run) []string {
	if run.Status == sqlc.RunStatusCanceled {
		return nil // the user asked for it
	}
	if run.Status != sqlc.RunStatusSucceeded {
		return []string{groundwork.EventRunFailed}
	}
	if ev, ok := groundwork.KindEvents[groundwork.Kind(run.Kind)]; ok && groundwork.NotificationTemplates[ev] != "" {
		return []string{ev, groundwork.EventRunSucceeded}
	}
	return []string{groundwork.EventRunSucceeded}
}

// EndpointDisabledData is the data of a webhook_endpoint.disabled notification.
type EndpointDisabledData struct {
	EndpointID string `json:"endpoint_id"`
	URL        string `json:"url"`
	Reason     string `json:"reason"`
}

// DisableEndpoint disables an outbound endpoint for reason and, when this
// call disabled it, e-mails its creator (if they chose to hear of it).
func DisableEndpoint(ctx context.Context, q *sqlc.Queries, ep sqlc.WebhookEndpoint, reason string) error {
	n, err := q.WebhookEndpointDisable(ctx, sqlc.WebhookEndpointDisableParams{ID: ep.ID, Reason: reason})
	if err != nil {
		return fmt.Errorf("disable endpoint: %w", err)
	}
	if n == 0 {
		return nil // already disabled: its creator heard then
	}
	return Notify(ctx, q, ep.CreatedBy, ep.WorkspaceID, "endpoint.disabled:"+ep.ID+":"+ep.UpdatedAt.UTC().Format("20060102T150405.000000"),
		[]string{groundwork.NotifyEndpointDisabled}, EndpointDisabledData{EndpointID: ep.ID, URL: ep.Url, Reason: reason})
}
