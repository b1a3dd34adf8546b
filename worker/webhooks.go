package worker

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/groundwork-dev/groundwork"
	"github.com/groundwork-dev/groundwork/activities"
	"github.com/groundwork-dev/groundwork/db"
	"github.com/groundwork-dev/groundwork/db/sqlc"
	"github.com/groundwork-dev/groundwork/internal/config"
	"github.com/groundwork-dev/groundwork/internal/secretbox"
	"github.com/groundwork-dev/groundwork/internal/ssrf"
)

// newWebhooks builds the delivery activities: their HTTP client dials
// only addresses the research policy allows, checked at dial time, and
// follows no redirect (a redirect is the endpoint's answer).
func newWebhooks(d Deps) *activities.Webhooks {
	secrets, err := secretbox.New(d.Airtable.EncryptionKey)
	if err != nil {
		secrets, _ = secretbox.New(nil)
	}
	dialer := ssrf.Dialer{Policy: ssrf.Policy{Allow: d.Research.Allow, Ports: d.Research.Ports}}
	hc := &http.Client{
		Transport: d.Traces.Transport(&http.Transport{DialContext: dialer.DialContext, MaxIdleConnsPerHost: 8, IdleConnTimeout: time.Minute,
			TLSHandshakeTimeout: 10 * time.Second, ResponseHeaderTimeout: groundwork.DeliveryTimeout}),
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return &activities.Webhooks{Pool: d.Pool, Secrets: secrets, HTTP: hc, Log: d.Log, Now: d.Now}
}

// DispatchOutbox starts the workflow of every webhook message, inbound
// message and e-mail in the outboxes that has none yet, every
// d.WebhookDispatchEvery until ctx ends. Every worker runs it; claims
// skip each other's rows and the workflow IDs (derived from the rows)
// make a second start of the same workflow a no-op.
func DispatchOutbox(ctx context.Context, d Deps) {
	dispatchWebhooks(ctx, d.Client, d.Pool, cmp.Or(d.WebhookDispatchEvery, config.DefaultWebhookDispatchEvery), d.WebhookScale, d.Log)
}

func dispatchWebhooks(ctx context.Context, c client.Client, pool *pgxpool.Pool, every time.Duration, scale int, log *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if n, err := dispatchOnce(ctx, c, pool, scale); err != nil && ctx.Err() == nil {
			log.Warn("dispatch webhooks", "error", err)
		} else if n >= dispatchBatch {
			continue // more are waiting
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// dispatchBatch is the most messages one pass claims.
const dispatchBatch = 100

func dispatchOnce(ctx context.Context, c client.Client, pool *pgxpool.Pool, scale int) (int, error) {
	n := 0
	err := db.InTx(ctx, pool, func(tx pgx.Tx) error {
		q := sqlc.New(tx)
		rows, err := q.WebhookUndispatched(ctx, dispatchBatch)
		if err != nil {
			return fmt.Errorf("claim messages: %w", err)
		}
		for _, r := range rows {
			_, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
				ID:                    groundwork.WebhookWorkflowID(r.ID, r.Generation),
				TaskQueue:             groundwork.TaskQueueDefault,
				WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
				// The schedule's ~27 h plus the waits of rate limits.
				WorkflowExecutionTimeout: 48 * time.Hour,
			}, groundwork.WorkflowWebhookDelivery, groundwork.WebhookDeliveryInput{MessageID: r.ID, Generation: r.Generation, Scale: scale})
			var started *serviceerror.WorkflowExecutionAlreadyStarted
			if err != nil && !errors.As(err, &started) {
				return fmt.Errorf("start delivery of %s: %w", r.ID, err)
			}
			if err := q.WebhookDispatched(ctx, sqlc.WebhookDispatchedParams(r)); err != nil {
				return fmt.Errorf("mark dispatched: %w", err)
			}
			n++
		}
		emails, err := q.EmailUndispatched(ctx, dispatchBatch)
		if err != nil {
			return fmt.Errorf("claim e-mails: %w", err)
		}
		for _, id := range emails {
			_, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
				ID:                    groundwork.EmailWorkflowID(id),
				TaskQueue:             groundwork.TaskQueueDefault,
				WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
				// The send's retries last about a day.
				WorkflowExecutionTimeout: 48 * time.Hour,
			}, groundwork.WorkflowEmailSend, groundwork.EmailSendInput{EmailID: id, Scale: scale})
			var started *serviceerror.WorkflowExecutionAlreadyStarted
			if err != nil && !errors.As(err, &started) {
				return fmt.Errorf("start send of %s: %w", id, err)
			}
			if err := q.EmailDispatched(ctx, id); err != nil {
				return fmt.Errorf("mark dispatched: %w", err)
			}
		}
		n += len(emails)
		// Inbound messages the API stored but could not start.
		inbox, err := q.WebhookInboxUnstarted(ctx, dispatchBatch)
		if err != nil {
			return fmt.Errorf("claim inbound messages: %w", err)
		}
		for _, m := range inbox {
			_, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
				ID:                       groundwork.InboundWorkflowID(m.SourceID, m.WebhookID),
				TaskQueue:                groundwork.TaskQueueDefault,
				WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
				WorkflowExecutionTimeout: time.Hour,
			}, groundwork.WorkflowWebhookInbound, groundwork.InboundInput{SourceID: m.SourceID, WebhookID: m.WebhookID})
			var started *serviceerror.WorkflowExecutionAlreadyStarted
			if err != nil && !errors.As(err, &started) {
				return fmt.Errorf("start inbound action of %s: %w", m.WebhookID, err)
			}
			if err := q.WebhookInboxStarted(ctx, sqlc.WebhookInboxStartedParams(m)); err != nil {
				return fmt.Errorf("mark started: %w", err)
			}
		}
		return nil
	})
	return n, err
}
