package test

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/groundwork-dev/groundwork/internal/testkit/testenv"
)

// TestMeasureFiveHundredStreams is a measurement, not a check: with
// GROUNDWORK_MEASURE_STREAMS=1 it opens 500 event streams on one open run
// and logs what they cost the database (transactions per second) over
// five seconds. Run:
//
//	GROUNDWORK_MEASURE_STREAMS=1 go test -run MeasureFiveHundredStreams -v ./test
func TestMeasureFiveHundredStreams(t *testing.T) {
	if os.Getenv("GROUNDWORK_MEASURE_STREAMS") == "" {
		t.Skip("a measurement: set GROUNDWORK_MEASURE_STREAMS=1")
	}
	s := startStack(t, stackOptions{temporalHostPort: testenv.StartTemporal(t).FrontendHostPort(),
		workers: "none", ratePerSec: 100000, ratePerMin: 1000000, maxStreams: 1000}, true)
	c := s.newUser(t, "streams-user")
	r, resp := c.startExport(map[string]any{"format": "csv", "columns": []string{"a"}, "rows": [][]any{{"1"}}})
	if resp.Status != http.StatusAccepted {
		t.Fatalf("start: %d", resp.Status)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	tr := &http.Transport{MaxIdleConnsPerHost: 1000}
	hc := &http.Client{Transport: tr}
	for range 500 {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/v1/runs/"+r.ID+"/events", nil)
		req.Header.Set("Authorization", "Bearer "+c.token)
		resp, err := hc.Do(req)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("stream: %v %v", resp, err)
		}
		defer resp.Body.Close()
		// Each stream's first event: it is in its loop, following the run.
		if !firstEvent(resp.Body) {
			t.Fatal("a stream closed before its first event")
		}
	}
	xacts := func() int64 {
		var n int64
		if err := s.App.Pool.QueryRow(context.Background(), `SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	// Postgres publishes a backend's counters up to 10 s late
	// (PGSTAT_IDLE_INTERVAL): wait that out, or the streams' opening
	// requests would be counted in the window.
	time.Sleep(11 * time.Second)
	before, start := xacts(), time.Now()
	time.Sleep(5 * time.Second) // the measurement window, not a wait for a condition
	t.Logf("500 open streams: %.0f database transactions/s", float64(xacts()-before)/time.Since(start).Seconds())
}

// firstEvent reads a stream up to the end of its first event.
func firstEvent(r io.Reader) bool {
	sc := bufio.NewScanner(r)
	seen := false
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "event: ") {
			seen = true
		}
		if seen && sc.Text() == "" {
			return true
		}
	}
	return false
}
