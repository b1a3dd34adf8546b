package test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/groundwork-dev/groundwork/internal/testkit/testenv"
)

// TestOpenRunsAndStreamsAreCapped: with no worker, runs stay open; the 51st
// open run is refused with 429 too_many_open_runs, and the 11th event
// stream with 429 too_many_streams until one closes.
func TestOpenRunsAndStreamsAreCapped(t *testing.T) {
	// Its own Temporal: the shared stack's workers would run (and end) the runs.
	s := startStack(t, stackOptions{temporalHostPort: testenv.StartTemporal(t).FrontendHostPort(),
		workers: "none", ratePerSec: 1000, ratePerMin: 100000}, true)
	c := s.newUser(t, "caps-user")
	body := map[string]any{"format": "csv", "columns": []string{"a"}, "rows": [][]any{{"1"}}}
	var ids []string
	// The defaults: 50 open runs, 10 streams.
	for i := range 50 {
		var headers []string
		if i == 0 {
			headers = []string{"Idempotency-Key", "caps-retry"}
		}
		r, resp := c.startExport(body, headers...)
		if resp.Status != http.StatusAccepted {
			t.Fatalf("start: %d %s", resp.Status, resp.Body)
		}
		ids = append(ids, r.ID)
	}
	if _, resp := c.startExport(body); resp.Status != http.StatusTooManyRequests || !strings.HasSuffix(problemType(t, resp), "/too_many_open_runs") {
		t.Fatalf("the 51st open run: %d %s", resp.Status, resp.Body)
	}
	// At the cap, the retry of a start whose answer was lost gets its run.
	if r, resp := c.startExport(body, "Idempotency-Key", "caps-retry"); resp.Status >= 300 || r.ID != ids[0] {
		t.Fatalf("an idempotent retry at the cap: %d %s (run %s, want %s)", resp.Status, resp.Body, r.ID, ids[0])
	}
	if _, resp := s.newUser(t, "caps-other").startExport(body); resp.Status != http.StatusAccepted {
		t.Fatalf("another user's first run: %d %s", resp.Status, resp.Body)
	}

	open := func() (*http.Response, context.CancelFunc) {
		ctx, cancel := context.WithCancel(context.Background())
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/v1/runs/"+ids[0]+"/events", nil)
		req.Header.Set("Authorization", "Bearer "+c.token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			cancel()
			t.Fatal(err)
		}
		return resp, cancel
	}
	first, closeFirst := open()
	if first.StatusCode != http.StatusOK {
		t.Fatalf("the first stream: %d", first.StatusCode)
	}
	for i := 2; i <= 10; i++ {
		r, closeIt := open()
		defer closeIt()
		defer r.Body.Close()
		if r.StatusCode != http.StatusOK {
			t.Fatalf("stream %d: %d", i, r.StatusCode)
		}
	}
	eleventh, closeEleventh := open()
	eleventh.Body.Close()
	closeEleventh()
	if eleventh.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("the 11th stream: %d", eleventh.StatusCode)
	}
	closeFirst()
	first.Body.Close()
	testenv.Eventually(t, 10*time.Second, "a stream slot freed by a closed stream", func() bool {
		r, cancel := open()
		defer cancel()
		defer r.Body.Close()
		return r.StatusCode == http.StatusOK
	})
}
