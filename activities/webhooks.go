package activities

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/temporal"

	"github.com/groundwork-dev/groundwork"
	"github.com/groundwork-dev/groundwork/db"
	"github.com/groundwork-dev/groundwork/db/sqlc"
	"github.com/groundwork-dev/groundwork/internal/metrics"
	"github.com/groundwork-dev/groundwork/internal/pglimit"
	"github.com/groundwork-dev/groundwork/internal/secretbox"
	"github.com/groundwork-dev/groundwork/internal/stdwebhook"
)

// maxResponseKept is how much of an endpoint's answer an attempt records.
const maxResponseKept = 1024

// Webhooks delivers outbound webhook messages.
type Webhooks struct {
	Pool    *pgxpool.Pool
	Secrets *secretbox.Box
	// HTTP sends the messages; its transport must refuse internal
	// addresses at dial time (ssrf.Dialer). Its timeout bounds an attempt.
	HTTP *http.Client
	Log  *slog.Logger
	// Now is the clock; tests replace it.
	Now func() time.Time
}

func (w *Webhooks) now() time.Time {
	if w.Now != nil {
		return w.Now()
	}
	return time.Now()
}

// WebhookAttempt makes one attempt to deliver a message: it waits for the
// endpoint's rate slot (shared by all workers), signs the body per
// Standard Webhooks with the message's id, POSTs it and records the
// attempt. The endpoint's answer is the attempt's outcome, never an error:
// 2xx delivered, 410 Gone stops and disables the endpoint, anything else
// fails the attempt (with the endpoint's Retry-After), and an endpoint
// failing for groundwork.EndpointFailingFor is disabled.
func (w *Webhooks) WebhookAttempt(ctx context.Context, in groundwork.WebhookAttemptInput) (groundwork.WebhookAttemptOutput, error) {
	q := sqlc.New(w.Pool)
	msg, err := q.WebhookMessageGet(ctx, in.MessageID)
	if db.IsNotFound(err) {
		return groundwork.WebhookAttemptOutput{Stop: true, Error: "the message was deleted with its endpoint"}, nil
	}
	if err != nil {
		return groundwork.WebhookAttemptOutput{}, fmt.Errorf("load message: %w", err)
	}
	if msg.Generation != in.Generation || msg.Status == "delivered" {
		// A later resend owns the message now, or an earlier attempt got through.
		return groundwork.WebhookAttemptOutput{Delivered: msg.Status == "delivered", Stop: true}, nil
	}
	ep, err := q.WebhookEndpointByID(ctx, msg.EndpointID)
	if db.IsNotFound(err) {
		return groundwork.WebhookAttemptOutput{Stop: true, Error: "the endpoint was deleted"}, nil
	}
	if err != nil {
		return groundwork.WebhookAttemptOutput{}, fmt.Errorf("load endpoint: %w", err)
	}
	if ep.DisabledAt != nil {
		return groundwork.WebhookAttemptOutput{Stop: true, Error: "the endpoint is disabled"}, nil
	}
	secret, err := w.Secrets.Open(ep.SecretCiphertext, ep.ID)
	if err != nil {
		return groundwork.WebhookAttemptOutput{}, temporal.NewNonRetryableApplicationError("the endpoint's secret cannot be opened: "+err.Error(), groundwork.ErrTypeInvalidInput, err)
	}
	key, err := stdwebhook.Key(string(secret))
	if err != nil {
		return groundwork.WebhookAttemptOutput{}, temporal.NewNonRetryableApplicationError(err.Error(), groundwork.ErrTypeInvalidInput, err)
	}
	// Beat while the slot and the endpoint keep the attempt waiting: a
	// worker killed mid-delivery is noticed within the heartbeat timeout.
	defer heartbeatEvery(ctx, 2*time.Second, nil)()
	if err := w.waitForSlot(ctx, ep); err != nil {
		return groundwork.WebhookAttemptOutput{}, err
	}

	out, code, latency, response := w.post(ctx, ep, msg, key)
	if out.Delivered {
		metrics.WebhookDeliveries.WithLabelValues("delivered").Inc()
	} else {
		metrics.WebhookDeliveries.WithLabelValues("failed").Inc()
	}
	var status *int32
	if code > 0 {
		c := int32(code)
		status = &c
	}
	var errText *string
	if out.Error != "" {
		errText = &out.Error
	}
	err = db.InTx(ctx, w.Pool, func(tx pgx.Tx) error {
		q := sqlc.New(tx)
		if err := q.WebhookAttemptRecord(ctx, sqlc.WebhookAttemptRecordParams{MessageID: msg.ID, Generation: msg.Generation, Attempt: int32(in.Attempt),
			StatusCode: status, Error: errText, LatencyMs: int32(latency.Milliseconds()), Response: response}); err != nil {
			return fmt.Errorf("record attempt: %w", err)
		}
		if err := q.WebhookMessageAttempted(ctx, msg.ID); err != nil {
			return fmt.Errorf("count attempt: %w", err)
		}
		switch {
		case out.Delivered:
			if err := q.WebhookMessageDelivered(ctx, sqlc.WebhookMessageDeliveredParams{ID: msg.ID, Generation: msg.Generation}); err != nil {
				return fmt.Errorf("mark delivered: %w", err)
			}
			return q.WebhookEndpointSucceeded(ctx, ep.ID)
		case code == http.StatusGone:
			out.Stop = true
			return db.DisableEndpoint(ctx, q, ep, "the endpoint answered 410 Gone")
		default:
			since, err := q.WebhookEndpointFailed(ctx, ep.ID)
			if err != nil {
				return fmt.Errorf("record failure: %w", err)
			}
			if w.now().Sub(since) >= groundwork.EndpointFailingFor {
				out.Stop = true
				return db.DisableEndpoint(ctx, q, ep, fmt.Sprintf("every delivery failed since %s", since.UTC().Format(time.RFC3339)))
			}
			return nil
		}
	})
	return out, err
}

// post sends the signed message once.
func (w *Webhooks) post(ctx context.Context, ep sqlc.WebhookEndpoint, msg sqlc.WebhookMessage, key []byte) (groundwork.WebhookAttemptOutput, int, time.Duration, *string) {
	rctx, cancel := context.WithTimeout(ctx, groundwork.DeliveryTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, ep.Url, bytes.NewReader(msg.Payload))
	if err != nil {
		return groundwork.WebhookAttemptOutput{Error: "bad endpoint URL: " + err.Error()}, 0, 0, nil
	}
	var headers map[string]string
	_ = json.Unmarshal(ep.Headers, &headers)
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Groundwork-Webhooks/1.0")
	stdwebhook.Sign(req.Header, key, msg.ID, w.now(), msg.Payload)
	start := time.Now()
	resp, err := w.HTTP.Do(req)
	latency := time.Since(start)
	if err != nil {
		var ue interface{ Unwrap() error }
		if errors.As(err, &ue) && ue.Unwrap() != nil {
			err = ue.Unwrap() // drop the method and URL net/http prefixes
		}
		return groundwork.WebhookAttemptOutput{Error: "request failed: " + err.Error()}, 0, latency, nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, maxResponseKept))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	text := string(b)
	out := groundwork.WebhookAttemptOutput{StatusCode: resp.StatusCode, Delivered: resp.StatusCode >= 200 && resp.StatusCode < 300}
	if !out.Delivered {
		out.Error = fmt.Sprintf("the endpoint answered %d", resp.StatusCode)
		out.RetryAfter = retryAfter(resp.Header.Get("Retry-After"), w.now())
	}
	return out, resp.StatusCode, latency, &text
}

// waitForSlot takes the endpoint's next rate slot, shared by every worker.
func (w *Webhooks) waitForSlot(ctx context.Context, ep sqlc.WebhookEndpoint) error {
	l := &pglimit.SlotLimiter{Pool: w.Pool, PerSecond: float64(ep.RatePerSecond)}
	for {
		slot, err := l.Reserve(ctx, "webhook:"+ep.ID, nil)
		if err != nil {
			return err
		}
		ok, err := pglimit.Hold(ctx, slot)
		if err != nil || ok {
			return err
		}
	}
}

// retryAfter reads a Retry-After header: seconds or an HTTP date; capped
// at a day.
func retryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	var d time.Duration
	if s, err := strconv.Atoi(v); err == nil {
		d = time.Duration(s) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	return min(max(d, 0), 24*time.Hour)
}

// WebhookExhausted closes a message whose attempts ran out (or were
// stopped) and dead-letters it.
func (w *Webhooks) WebhookExhausted(ctx context.Context, in groundwork.WebhookExhaustedInput) error {
	return db.InTx(ctx, w.Pool, func(tx pgx.Tx) error {
		q := sqlc.New(tx)
		msg, err := q.WebhookMessageGet(ctx, in.MessageID)
		if db.IsNotFound(err) {
			return nil // deleted with its endpoint
		}
		if err != nil {
			return fmt.Errorf("load message: %w", err)
		}
		if msg.Generation != in.Generation || msg.Status != "pending" {
			return nil
		}
		if err := q.WebhookMessageDead(ctx, sqlc.WebhookMessageDeadParams{ID: msg.ID, Generation: msg.Generation}); err != nil {
			return fmt.Errorf("mark dead: %w", err)
		}
		ep, err := q.WebhookEndpointByID(ctx, msg.EndpointID)
		if err != nil {
			return fmt.Errorf("load endpoint: %w", err)
		}
		errType := "delivery_failed"
		if in.Stopped {
			errType = "endpoint_disabled"
		}
		return q.DeadLetterInsert(ctx, sqlc.DeadLetterInsertParams{ID: db.NewDeadLetterID(), WorkspaceID: msg.WorkspaceID, OwnerID: ep.CreatedBy,
			Kind: "webhook", MessageID: &msg.ID, Generation: &msg.Generation, EndpointID: &ep.ID, ErrorType: errType,
			Error: in.Error, Attempts: int32(in.Attempts)})
	})
}
