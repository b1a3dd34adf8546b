package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"
)

// attempt is one HTTP request the virtual users sent.
type attempt struct {
	At       time.Time
	Done     time.Time
	Op       string // csv, pdf, docx, generation, research, airtable-sync, track, get
	Status   int    // 0: no answer (connection error, timeout)
	Retry    bool   // the second try of a start
	Err      string
	Start    bool // a start or track (POST) rather than a GET
	RunID    string
	EventIDs []string
}

// load is the steady load: virtual users sending starts, tracking batches
// and reads through the load balancer.
type load struct {
	base, token, tag string
	customers        []string
	think            time.Duration
	hc               *http.Client

	mu       sync.Mutex
	attempts []attempt
	// acked are event IDs a 2xx answer accepted; maybe are those of batches
	// that got no 2xx answer after the retry (stored or not: unknown).
	acked, maybe map[string]bool
	// keys are the Idempotency-Keys of every start, by op.
	keys map[string]string
}

func newLoad(base, token, tag string, customers []string, think time.Duration) *load {
	return &load{base: base, token: token, tag: tag, customers: customers, think: think,
		hc:    &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}},
		acked: map[string]bool{}, maybe: map[string]bool{}, keys: map[string]string{}}
}

// do sends one request and reads the answer.
func (l *load) do(ctx context.Context, method, path string, body []byte, hdr map[string]string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, l.base+path, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+l.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := l.hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

func (l *load) record(a attempt) {
	l.mu.Lock()
	l.attempts = append(l.attempts, a)
	l.mu.Unlock()
}

// post sends a start (or a tracking batch) and retries it once with the
// same body and Idempotency-Key after a 5xx or no answer. It returns the
// last answer.
func (l *load) post(ctx context.Context, op, path string, body []byte, key string, events []string) (int, []byte) {
	var hdr map[string]string
	if key != "" {
		hdr = map[string]string{"Idempotency-Key": key}
	}
	var status int
	var b []byte
	for try := range 2 {
		a := attempt{At: time.Now(), Op: op, Start: true, Retry: try == 1, EventIDs: events}
		var err error
		status, b, err = l.do(ctx, http.MethodPost, path, body, hdr)
		a.Done, a.Status = time.Now(), status
		if err != nil {
			if ctx.Err() != nil {
				return 0, nil
			}
			a.Err = err.Error()
			status = 0
		} else if status >= 300 {
			a.Err = string(truncate(b, 200))
		}
		if status >= 200 && status < 300 {
			var r struct {
				ID string `json:"id"`
			}
			_ = json.Unmarshal(b, &r)
			a.RunID = r.ID
		}
		l.record(a)
		if status != 0 && status < 500 {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	return status, b
}

// user is one virtual user's loop until ctx ends.
func (l *load) user(ctx context.Context, vu int) {
	rng := rand.New(rand.NewPCG(uint64(vu), uint64(time.Now().UnixNano())))
	// Spread the users' first requests over one think time.
	if !sleepCtx(ctx, time.Duration(rng.Int64N(int64(l.think)+1))) {
		return
	}
	lastRun := ""
	for seq := 0; ctx.Err() == nil; seq++ {
		key := fmt.Sprintf("chaos-%s-%d-%d", l.tag, vu, seq)
		switch p := rng.IntN(100); {
		case p < 35:
			l.track(ctx, rng, key)
		case p < 55:
			lastRun = l.export(ctx, rng, key, "csv", lastRun)
		case p < 65:
			lastRun = l.export(ctx, rng, key, "pdf", lastRun)
		case p < 75:
			lastRun = l.export(ctx, rng, key, "docx", lastRun)
		default:
			lastRun = l.generation(ctx, rng, key, lastRun)
		}
		if lastRun != "" && ctx.Err() == nil {
			// The frontend's poll of the user's latest run (nginx retries GETs).
			a := attempt{At: time.Now(), Op: "get"}
			status, b, err := l.do(ctx, http.MethodGet, "/v1/runs/"+lastRun, nil, nil)
			a.Done, a.Status = time.Now(), status
			if err != nil {
				if ctx.Err() != nil {
					return
				}
				a.Err = err.Error()
			} else if status >= 300 {
				a.Err = string(truncate(b, 200))
			}
			l.record(a)
		}
		jitter := time.Duration(rng.Int64N(int64(l.think)/2 + 1))
		if !sleepCtx(ctx, l.think*3/4+jitter) {
			return
		}
	}
}

func (l *load) export(ctx context.Context, rng *rand.Rand, key, format, last string) string {
	rows := make([][]any, 10+rng.IntN(20))
	for i := range rows {
		rows[i] = []any{fmt.Sprintf("Company %d", rng.IntN(10000)), rng.IntN(100), fmt.Sprintf("%s row %d", key, i)}
	}
	body, _ := json.Marshal(map[string]any{"format": format, "filename": "chaos-" + format,
		"columns": []string{"name", "score", "note"}, "rows": rows})
	return l.start(ctx, format, "/v1/exports", body, key, last)
}

func (l *load) generation(ctx context.Context, rng *rand.Rand, key, last string) string {
	// A distinct prompt each time: the cache never answers, so every
	// generation calls the provider and the ledger can be checked.
	body, _ := json.Marshal(map[string]any{"template": "company-summary", "max_tokens": 120,
		"inputs": map[string]any{"company": "Company " + key,
			"notes": fmt.Sprintf("%s sells software to %d logistics firms.", key, rng.IntN(1000))}})
	return l.start(ctx, "generation", "/v1/generations", body, key, last)
}

func (l *load) start(ctx context.Context, op, path string, body []byte, key, last string) string {
	l.mu.Lock()
	l.keys[key] = op
	l.mu.Unlock()
	status, b := l.post(ctx, op, path, body, key, nil)
	if status >= 200 && status < 300 {
		var r struct {
			ID string `json:"id"`
		}
		if json.Unmarshal(b, &r) == nil && r.ID != "" {
			return r.ID
		}
	}
	return last
}

// track sends a batch of 5 events with IDs unique to this bench run; a
// retry resends the same IDs.
func (l *load) track(ctx context.Context, rng *rand.Rand, key string) {
	events := make([]map[string]any, 5)
	ids := make([]string, len(events))
	for i := range events {
		ids[i] = fmt.Sprintf("%s-e%d", key, i)
		events[i] = map[string]any{"id": ids[i], "customer_id": l.customers[rng.IntN(len(l.customers))],
			"type": []string{"login", "feature_used", "export"}[rng.IntN(3)], "occurred_at": time.Now().UTC().Format(time.RFC3339Nano)}
	}
	body, _ := json.Marshal(map[string]any{"events": events})
	status, _ := l.post(ctx, "track", "/v1/track", body, "", ids)
	if ctx.Err() != nil && status == 0 {
		// Cut by the end of the load: unknown whether stored.
		l.mu.Lock()
		for _, id := range ids {
			l.maybe[id] = true
		}
		l.mu.Unlock()
		return
	}
	l.mu.Lock()
	for _, id := range ids {
		if status >= 200 && status < 300 {
			l.acked[id] = true
		} else if status == 0 || status >= 500 {
			l.maybe[id] = true
		}
	}
	l.mu.Unlock()
}

// createCustomers makes n customers to track events against.
func (l *load) createCustomers(ctx context.Context, n int) error {
	for i := range n {
		body, _ := json.Marshal(map[string]any{"name": fmt.Sprintf("Chaos %s %d", l.tag, i), "external_id": fmt.Sprintf("chaos-%s-%d", l.tag, i)})
		status, b, err := l.do(ctx, http.MethodPost, "/v1/customers", body, nil)
		if err != nil {
			return err
		}
		if status != http.StatusCreated && status != http.StatusOK {
			return fmt.Errorf("create customer: %d %s", status, truncate(b, 300))
		}
		var r struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(b, &r); err != nil || r.ID == "" {
			return fmt.Errorf("create customer: no id in %s", truncate(b, 300))
		}
		l.customers = append(l.customers, r.ID)
	}
	return nil
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

func truncate(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}
