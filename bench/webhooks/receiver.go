package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/groundwork-dev/groundwork"
	"github.com/groundwork-dev/groundwork/internal/stdwebhook"
)

// receiver is the endpoint outbound messages are delivered to, on
// 127.0.0.1: it checks each message's Standard Webhooks signature,
// answers 204 at once and records when each webhook-id and each event
// first arrived. A bad signature is counted, not refused, so that it
// cannot turn into retries that skew the figures.
type receiver struct {
	srv *httptest.Server
	// key is the endpoint's signing key, set once the endpoint exists.
	key atomic.Pointer[[]byte]

	mu sync.Mutex
	// ids holds every webhook-id received.
	ids map[string]bool
	// byRun is the first receipt of each event, by the run_id of its data.
	byRun map[string]time.Time
	// requests counts every POST; duplicates those of a webhook-id seen
	// before; badSignatures those that failed verification; unreadable
	// those without a run_id in their data.
	requests, duplicates, badSignatures, unreadable int64
}

// receiverFigures are the receiver's counters over the whole run.
type receiverFigures struct {
	Requests      int64 `json:"requests"`
	UniqueIDs     int   `json:"unique_webhook_ids"`
	Duplicates    int64 `json:"duplicates"`
	BadSignatures int64 `json:"bad_signatures"`
	Unreadable    int64 `json:"unreadable"`
}

func newReceiver() *receiver {
	r := &receiver{ids: map[string]bool{}, byRun: map[string]time.Time{}}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	return r
}

// url is where the endpoint points.
func (r *receiver) url() string { return r.srv.URL + "/hook" }

func (r *receiver) close() { r.srv.Close() }

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	at := time.Now()
	body, err := io.ReadAll(io.LimitReader(req.Body, groundwork.MaxWebhookBody))
	w.WriteHeader(http.StatusNoContent)
	var keys [][]byte
	if k := r.key.Load(); k != nil {
		keys = [][]byte{*k}
	}
	id, verr := stdwebhook.Verify(req.Header, body, keys, at, groundwork.WebhookTolerance)
	var msg struct {
		Data struct {
			RunID string `json:"run_id"`
		} `json:"data"`
	}
	jerr := json.Unmarshal(body, &msg)

	r.mu.Lock()
	defer r.mu.Unlock()
	r.requests++
	if err != nil || verr != nil {
		r.badSignatures++
		return
	}
	if r.ids[id] {
		r.duplicates++
	}
	r.ids[id] = true
	if jerr != nil || msg.Data.RunID == "" {
		r.unreadable++
		return
	}
	if _, seen := r.byRun[msg.Data.RunID]; !seen {
		r.byRun[msg.Data.RunID] = at
	}
}

// received counts the events received whose run_id starts with prefix,
// and the latest first receipt among them.
func (r *receiver) received(prefix string) (int, time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	n, last := 0, time.Time{}
	for run, at := range r.byRun {
		if strings.HasPrefix(run, prefix) {
			n++
			if at.After(last) {
				last = at
			}
		}
	}
	return n, last
}

// receipt is the first receipt of the event of run, if it came.
func (r *receiver) receipt(run string) (time.Time, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	at, ok := r.byRun[run]
	return at, ok
}

func (r *receiver) figures() receiverFigures {
	r.mu.Lock()
	defer r.mu.Unlock()
	return receiverFigures{Requests: r.requests, UniqueIDs: len(r.ids), Duplicates: r.duplicates, BadSignatures: r.badSignatures, Unreadable: r.unreadable}
}
