package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// requestTimeout is how long one request may take before it counts as a
// transport error: the API's own Temporal start timeout is 5 s, so anything
// past this is a stall worth seeing, not a slow answer.
const requestTimeout = 30 * time.Second

// newAttacker returns a fresh attacker: vegeta attackers stop for good at
// the end of an attack, so every attack gets its own. MaxWorkers stays
// unbounded (the default): when every worker is waiting on a slow answer
// vegeta adds another rather than delaying the next request, which is what
// keeps the load open-loop.
func newAttacker() *vegeta.Attacker {
	return vegeta.NewAttacker(
		vegeta.Timeout(requestTimeout),
		vegeta.KeepAlive(true),
		vegeta.Workers(16),
		vegeta.MaxBody(1<<20),
		vegeta.Redirects(vegeta.NoFollow),
	)
}

// attack runs one vegeta attack to its end, or until ctx is done, and hands
// every result to each, in the order they arrive.
func attack(ctx context.Context, tr vegeta.Targeter, p vegeta.Pacer, du time.Duration, name string, each func(*vegeta.Result)) {
	a := newAttacker()
	stop := context.AfterFunc(ctx, func() { a.Stop() })
	defer stop()
	for r := range a.Attack(tr, p, du, name) {
		each(r)
	}
}

// exportBody is the small CSV export every simulated start sends:
// 3 columns × 20 rows.
var exportBody = func() []byte {
	rows := make([][]any, 20)
	for i := range rows {
		rows[i] = []any{i + 1, fmt.Sprintf("Account %02d", i+1), float64(i) * 12.5}
	}
	b, err := json.Marshal(map[string]any{
		"format":   "csv",
		"filename": "bench.csv",
		"columns":  []string{"id", "account", "amount"},
		"rows":     rows,
	})
	if err != nil {
		panic(err)
	}
	return b
}()

// startTarget is a POST /v1/exports as u. A non-empty fragment is added to
// the URL: vegeta hands the target's URL back in the result but not its
// headers, and the HTTP client never sends a fragment, so this is how a
// result is traced back to its user without touching the request.
func startTarget(api string, u user, fragment string) vegeta.Target {
	target := api + "/v1/exports"
	if fragment != "" {
		target += "#" + fragment
	}
	return vegeta.Target{
		Method: http.MethodPost,
		URL:    target,
		Body:   exportBody,
		Header: http.Header{
			"Authorization": {"Bearer " + u.Token},
			"Content-Type":  {"application/json"},
		},
	}
}

// runID reads the run ID from a start answer's body.
func runID(body []byte) (string, error) {
	var r struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return "", fmt.Errorf("decode run: %w", err)
	}
	if r.ID == "" {
		return "", fmt.Errorf("run without id: %.200s", body)
	}
	return r.ID, nil
}
