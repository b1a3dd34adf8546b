package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/groundwork-dev/groundwork"
	"github.com/groundwork-dev/groundwork/internal/stdwebhook"
)

// receiver is the outbound webhook endpoint of the load, on 127.0.0.1
// (reachable because the bench gives dev-cluster
// GROUNDWORK_RESEARCH_ALLOW_CIDRS=127.0.0.1/32). It verifies each
// message's Standard Webhooks signature with the endpoint's secret
// (internal/stdwebhook, as the workers sign), answers 204, and records
// every webhook-id with the event it carried, so that the reconciliation
// can tell a redelivery (same webhook-id) from a second message for one
// event (a new webhook-id: a duplicate the outbox should prevent).
type receiver struct {
	srv *httptest.Server
	key atomic.Pointer[[]byte]

	mu sync.Mutex
	// byID is every verified message by webhook-id.
	byID map[string]*receipt
	// requests counts every POST; badSignatures those that failed
	// verification (answered 401, so the worker retries them).
	requests, badSignatures int
}

// receipt is one webhook-id as the receiver saw it.
type receipt struct {
	Type  string
	RunID string
	Count int
	First time.Time
}

func newReceiver() *receiver {
	r := &receiver{byID: map[string]*receipt{}}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	return r
}

func (r *receiver) url() string { return r.srv.URL + "/hook" }

func (r *receiver) close() { r.srv.Close() }

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	at := time.Now()
	body, err := io.ReadAll(io.LimitReader(req.Body, groundwork.MaxWebhookBody))
	var keys [][]byte
	if k := r.key.Load(); k != nil {
		keys = [][]byte{*k}
	}
	id, verr := stdwebhook.Verify(req.Header, body, keys, at, groundwork.WebhookTolerance)
	var msg struct {
		Type string `json:"type"`
		Data struct {
			RunID string `json:"run_id"`
		} `json:"data"`
	}
	_ = json.Unmarshal(body, &msg)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.requests++
	if err != nil || verr != nil {
		r.badSignatures++
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	rc := r.byID[id]
	if rc == nil {
		rc = &receipt{Type: msg.Type, RunID: msg.Data.RunID, First: at}
		r.byID[id] = rc
	}
	rc.Count++
	w.WriteHeader(http.StatusNoContent)
}

// createEndpoint registers the receiver for run.succeeded and run.failed
// through the load balancer, at a rate above what the load produces.
func (l *load) createEndpoint(ctx context.Context, r *receiver) (string, error) {
	spec := groundwork.WebhookEndpointSpec{URL: r.url(), Description: "bench/chaos receiver",
		EventTypes: []string{groundwork.EventRunSucceeded, groundwork.EventRunFailed}, RatePerSec: 200}
	body, _ := json.Marshal(spec)
	status, b, err := l.do(ctx, http.MethodPost, "/v1/webhook-endpoints", body, nil)
	if err != nil {
		return "", fmt.Errorf("create webhook endpoint: %w", err)
	}
	if status != http.StatusCreated {
		return "", fmt.Errorf("create webhook endpoint: %d %s", status, truncate(b, 300))
	}
	var ep struct {
		ID     string `json:"id"`
		Secret string `json:"secret"`
	}
	if err := json.Unmarshal(b, &ep); err != nil || ep.ID == "" {
		return "", fmt.Errorf("create webhook endpoint: no id in %s", truncate(b, 300))
	}
	key, err := stdwebhook.Key(ep.Secret)
	if err != nil {
		return "", fmt.Errorf("webhook endpoint %s: %w", ep.ID, err)
	}
	r.key.Store(&key)
	return ep.ID, nil
}

// WebhookReconciliation compares the endpoint's outbox with the bench's
// runs and with what the receiver got.
type WebhookReconciliation struct {
	// Messages counts the endpoint's outbox rows by status; Pending were
	// still undelivered when the wait for them ended.
	Messages  map[string]int `json:"messages_by_status"`
	DeliverIn string         `json:"delivered_within"`
	// RunsClosed are the bench's succeeded or failed runs; RunsWithout
	// have no message of their status's event.
	RunsClosed  int      `json:"runs_closed"`
	RunsWithout []string `json:"runs_without_message,omitempty"`
	// Requests reached the receiver; UniqueIDs distinct webhook-ids;
	// Redeliveries repeated a webhook-id seen before (allowed: at least
	// once); EventsTwice are events received under two webhook-ids (a
	// duplicate that is not a redelivery).
	Requests      int      `json:"receiver_requests"`
	UniqueIDs     int      `json:"receiver_unique_webhook_ids"`
	Redeliveries  int      `json:"receiver_redeliveries"`
	BadSignatures int      `json:"receiver_bad_signatures"`
	NotReceived   []string `json:"messages_not_received,omitempty"`
	Unknown       []string `json:"received_ids_not_in_outbox,omitempty"`
	EventsTwice   []string `json:"events_under_two_webhook_ids,omitempty"`
	// AttemptsRetried are delivery attempts beyond each message's first.
	AttemptsRetried int `json:"attempts_retried"`
}

// waitDelivered waits until the endpoint has no pending message, for at
// most max.
func waitDelivered(ctx context.Context, conn *pgx.Conn, endpoint string, max time.Duration) (time.Duration, error) {
	began := time.Now()
	for {
		var pending int
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM webhook_messages WHERE endpoint_id = $1 AND status = 'pending'`, endpoint).Scan(&pending); err != nil {
			return time.Since(began), fmt.Errorf("count pending webhook messages: %w", err)
		}
		if pending == 0 || time.Since(began) > max {
			return time.Since(began), nil
		}
		if !sleepCtx(ctx, time.Second) {
			return time.Since(began), ctx.Err()
		}
	}
}

// reconcileWebhooks checks: every closed run has its message; every
// message was delivered and received under its own webhook-id; no event
// arrived under two webhook-ids; every signature verified.
func reconcileWebhooks(ctx context.Context, conn *pgx.Conn, endpoint string, recv *receiver, runs map[string]*runRow, problem func(string, ...any)) (*WebhookReconciliation, error) {
	w := &WebhookReconciliation{Messages: map[string]int{}}
	rows, err := conn.Query(ctx, `SELECT id, event_type, payload->'data'->>'run_id', status FROM webhook_messages WHERE endpoint_id = $1`, endpoint)
	if err != nil {
		return nil, fmt.Errorf("read webhook messages: %w", err)
	}
	type msg struct{ typ, run, status string }
	outbox := map[string]msg{}
	byEvent := map[string]string{}
	for rows.Next() {
		var id string
		var m msg
		if err := rows.Scan(&id, &m.typ, &m.run, &m.status); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read webhook messages: %w", err)
		}
		outbox[id] = m
		w.Messages[m.status]++
		byEvent[m.typ+" "+m.run] = id
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read webhook messages: %w", err)
	}
	if err := conn.QueryRow(ctx, `SELECT count(*) - count(DISTINCT a.message_id) FROM webhook_attempts a
		JOIN webhook_messages m ON m.id = a.message_id WHERE m.endpoint_id = $1`, endpoint).Scan(&w.AttemptsRetried); err != nil {
		return nil, fmt.Errorf("count webhook attempts: %w", err)
	}
	for _, r := range runs {
		ev := ""
		switch r.Status {
		case "succeeded":
			ev = groundwork.EventRunSucceeded
		case "failed", "canceled", "timed_out":
			ev = groundwork.EventRunFailed
		default:
			continue
		}
		w.RunsClosed++
		if byEvent[ev+" "+r.ID] == "" {
			w.RunsWithout = append(w.RunsWithout, r.ID+" "+ev)
		}
	}

	recv.mu.Lock()
	w.Requests, w.BadSignatures, w.UniqueIDs = recv.requests, recv.badSignatures, len(recv.byID)
	ids := map[string][]string{}
	for id, rc := range recv.byID {
		w.Redeliveries += rc.Count - 1
		if _, ok := outbox[id]; !ok {
			w.Unknown = append(w.Unknown, id)
		}
		ids[rc.Type+" "+rc.RunID] = append(ids[rc.Type+" "+rc.RunID], id)
	}
	for id := range outbox {
		if recv.byID[id] == nil {
			w.NotReceived = append(w.NotReceived, id)
		}
	}
	recv.mu.Unlock()
	for ev, list := range ids {
		if len(list) > 1 {
			sort.Strings(list)
			w.EventsTwice = append(w.EventsTwice, fmt.Sprintf("%s: %v", ev, list))
		}
	}
	sort.Strings(w.RunsWithout)
	sort.Strings(w.NotReceived)
	sort.Strings(w.Unknown)
	sort.Strings(w.EventsTwice)

	if n := len(w.RunsWithout); n > 0 {
		problem("webhooks: %d closed runs have no message in the outbox", n)
	}
	if n := len(outbox) - w.Messages["delivered"]; n > 0 {
		problem("webhooks: %d messages not delivered (%v)", n, w.Messages)
	}
	if n := len(w.NotReceived); n > 0 {
		problem("webhooks: %d messages never reached the receiver", n)
	}
	if n := len(w.Unknown); n > 0 {
		problem("webhooks: the receiver got %d webhook-ids the outbox does not have", n)
	}
	if n := len(w.EventsTwice); n > 0 {
		problem("webhooks: %d events arrived under two webhook-ids", n)
	}
	if w.BadSignatures > 0 {
		problem("webhooks: %d requests failed signature verification", w.BadSignatures)
	}
	return w, nil
}
