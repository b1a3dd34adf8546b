package test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/groundwork-dev/groundwork/internal/devstack"
	"github.com/groundwork-dev/groundwork/internal/testkit/testenv"
)

// lockedBuffer is a log sink safe for the server's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestInternalErrorsLeakNothing forces an internal error (a table the
// handler reads is gone): the answer is a generic 500 with the request ID,
// the cause is in the log line of that request ID, and every response
// carries X-Request-ID.
func TestInternalErrorsLeakNothing(t *testing.T) {
	logs := &lockedBuffer{}
	s := startStack(t, stackOptions{workers: "none", ratePerSec: 1000, ratePerMin: 100000, logTo: logs}, true)
	admin := s.client(t, "leak-admin", "leak-ws", "admin")
	if _, err := s.App.Pool.Exec(context.Background(), `DROP TABLE airtable_sync_tables`); err != nil {
		t.Fatal(err)
	}
	r := admin.do(http.MethodPost, "/v1/airtable/mappings", []byte(walkerMapping))
	id := r.Header.Get("X-Request-ID")
	if r.Status != http.StatusInternalServerError || id == "" {
		t.Fatalf("forced internal error: %d, request ID %q: %s", r.Status, id, r.Body)
	}
	if strings.Contains(string(r.Body), "airtable_sync_tables") || strings.Contains(string(r.Body), "relation") || !strings.Contains(string(r.Body), id) {
		t.Fatalf("the 500 body leaks its cause or lacks the request ID: %s", r.Body)
	}
	testenv.Eventually(t, 5*time.Second, "the request's log line with its cause", func() bool {
		for _, line := range strings.Split(logs.String(), "\n") {
			if strings.Contains(line, `"request_id":"`+id+`"`) && strings.Contains(line, "airtable_sync_tables") {
				return true
			}
		}
		return false
	})
	if ok := admin.do(http.MethodGet, "/v1/runs", nil); ok.Header.Get("X-Request-ID") == "" || ok.Header.Get("X-Request-ID") == id {
		t.Errorf("a second response's X-Request-ID: %q", ok.Header.Get("X-Request-ID"))
	}
	// A client cannot choose its request ID (it would forge log lines).
	req, _ := http.NewRequest(http.MethodGet, s.URL+"/healthz", nil)
	req.Header.Set("X-Request-ID", "forged")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Header.Get("X-Request-ID") == "forged" {
		t.Error("the client's X-Request-ID was taken")
	}
}

// TestWorkerServesMetricsAndHealthz: `groundwork worker` has a metrics
// listener of its own.
func TestWorkerServesMetricsAndHealthz(t *testing.T) {
	testenv.SkipShort(t, "Postgres and Temporal")
	port, err := devstack.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	startWorkerProcess(t, testenv.Temporal(t).FrontendHostPort(), testenv.DatabaseURL(t), "GROUNDWORK_METRICS_ADDR="+addr)
	var body string
	testenv.Eventually(t, time.Minute, "the worker's /metrics", func() bool {
		resp, err := http.Get("http://" + addr + "/metrics")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		_, _ = b.ReadFrom(resp.Body)
		body = b.String()
		return resp.StatusCode == http.StatusOK && strings.Contains(body, "temporal_")
	})
	resp, err := http.Get("http://" + addr + "/healthz")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("worker /healthz: %v %v", resp, err)
	}
	resp.Body.Close()
}
