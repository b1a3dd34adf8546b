package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/groundwork-dev/groundwork/client"
)

const testToken = "gw_test_secret"

// fakeRun builds a run as the API writes it (API.md), independent of the
// server's Go types so the client is checked against the documented format.
func fakeRun(id, status, stage string, done, total, version int64) map[string]any {
	pct := int64(0)
	if total > 0 {
		pct = done * 100 / total
	}
	return map[string]any{
		"id": id, "kind": "export", "status": status,
		"created_at": "2025-01-02T03:04:05Z", "updated_at": "2025-01-02T03:04:06Z",
		"progress": map[string]any{
			"stage": stage, "done": done, "total": total, "percent": pct,
			"message":    fmt.Sprintf("%s %d of %d", stage, done, total),
			"updated_at": "2025-01-02T03:04:06Z", "version": version,
		},
		"result": nil, "error": nil,
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeProblemJSON(w http.ResponseWriter, status int, slug, detail string, fields ...map[string]string) {
	p := map[string]any{
		"type":  "https://groundwork.dev/problems/" + slug,
		"title": http.StatusText(status), "status": status, "detail": detail,
	}
	if len(fields) > 0 {
		p["errors"] = fields
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(p)
}

// writeEvent writes one SSE event the way api/events.go does.
func writeEvent(t *testing.T, w http.ResponseWriter, event string, run map[string]any) {
	t.Helper()
	b, err := json.Marshal(run)
	if err != nil {
		t.Fatal(err)
	}
	version := run["progress"].(map[string]any)["version"]
	_, _ = fmt.Fprintf(w, "id: %v\nevent: %s\ndata: %s\n\n", version, event, b)
	w.(http.Flusher).Flush()
}

func startSSE(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, ": keep-alive\n\n")
	w.(http.Flusher).Flush()
}

// newFakeAPI serves mux behind the API's bearer-token check.
func newFakeAPI(t *testing.T, mux *http.ServeMux) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+testToken {
			writeProblemJSON(w, http.StatusUnauthorized, "unauthorized", "missing or invalid credentials")
			return
		}
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func envFor(srv *httptest.Server, token string) func(string) string {
	return func(k string) string {
		switch k {
		case "GROUNDWORK_API_URL":
			return srv.URL
		case "GROUNDWORK_TOKEN":
			return token
		}
		return ""
	}
}

// testClient is a client for srv with delays short enough for tests.
func testClient(t *testing.T, srv *httptest.Server) (*runsClient, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	var out, errOut bytes.Buffer
	c, err := newRunsClient(srv.URL, testToken, &out, &errOut, client.WithPollInterval(5*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	return c, &out, &errOut
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func succeededRun(id string) map[string]any {
	run := fakeRun(id, "succeeded", "uploading", 10, 10, 3)
	run["result"] = map[string]any{
		"export_id": "exp_1", "format": "csv", "size_bytes": 1048576,
		"download_url": "https://dl.example/exp_1?sig=abc",
	}
	return run
}

func TestRunsGet(t *testing.T) {
	const id = "export-01GET"
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/runs/{id}", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("id") != id {
			writeProblemJSON(w, http.StatusNotFound, "not_found", "run not found")
			return
		}
		run := succeededRun(id)
		run["extra_field"] = "kept"
		writeJSON(w, http.StatusOK, run)
	})
	srv := newFakeAPI(t, mux)

	t.Run("human", func(t *testing.T) {
		var out, errOut bytes.Buffer
		if err := runRuns(testCtx(t), []string{"get", id}, envFor(srv, testToken), &out, &errOut); err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{
			"id:", id, "status:", "succeeded", "uploading 10/10 (100%): uploading 10 of 10",
			"result.download_url:", "https://dl.example/exp_1?sig=abc", "1048576",
		} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("output lacks %q:\n%s", want, out.String())
			}
		}
	})

	t.Run("json", func(t *testing.T) {
		var out, errOut bytes.Buffer
		// The flag after the ID checks interspersed parsing.
		if err := runRuns(testCtx(t), []string{"get", id, "--json"}, envFor(srv, testToken), &out, &errOut); err != nil {
			t.Fatal(err)
		}
		var got map[string]any
		if err := json.Unmarshal(out.Bytes(), &got); err != nil {
			t.Fatalf("not JSON: %v\n%s", err, out.String())
		}
		if got["id"] != id || got["extra_field"] != "kept" {
			t.Errorf("raw JSON not passed through: %v", got)
		}
	})

	t.Run("not found", func(t *testing.T) {
		var out, errOut bytes.Buffer
		err := runRuns(testCtx(t), []string{"get", "export-missing"}, envFor(srv, testToken), &out, &errOut)
		if err == nil || !strings.Contains(err.Error(), "Not Found: run not found") {
			t.Fatalf("err = %v, want the problem's title and detail", err)
		}
	})
}

func TestRunsList(t *testing.T) {
	var mu sync.Mutex
	var queries []string
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/runs", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		mu.Lock()
		queries = append(queries, r.URL.RawQuery)
		mu.Unlock()
		if q.Get("kind") != "export" || q.Get("limit") != "2" {
			writeProblemJSON(w, http.StatusUnprocessableEntity, "validation_failed", "bad query")
			return
		}
		switch q.Get("cursor") {
		case "":
			writeJSON(w, http.StatusOK, map[string]any{
				"runs":        []any{fakeRun("export-03", "running", "rendering", 3, 10, 4), fakeRun("export-02", "queued", "queued", 0, 0, 0)},
				"next_cursor": "cursor-page-2",
			})
		case "cursor-page-2":
			writeJSON(w, http.StatusOK, map[string]any{"runs": []any{succeededRun("export-01")}})
		default:
			writeProblemJSON(w, http.StatusBadRequest, "malformed_request", "cursor is not one this API returned")
		}
	})
	srv := newFakeAPI(t, mux)

	t.Run("all pages", func(t *testing.T) {
		var out, errOut bytes.Buffer
		args := []string{"list", "--kind", "export", "--limit", "2", "--all"}
		if err := runRuns(testCtx(t), args, envFor(srv, testToken), &out, &errOut); err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(out.String()), "\n")
		if len(lines) != 4 || !strings.HasPrefix(lines[0], "ID") {
			t.Fatalf("want a header and 3 rows:\n%s", out.String())
		}
		for i, want := range []string{"export-03", "export-02", "export-01"} {
			if !strings.HasPrefix(lines[i+1], want) {
				t.Errorf("row %d = %q, want %s first", i, lines[i+1], want)
			}
		}
		if !strings.Contains(lines[1], "rendering 30%") || !strings.Contains(lines[1], "2025-01-02T03:04:05Z") {
			t.Errorf("row lacks progress or created_at: %q", lines[1])
		}
	})

	t.Run("one page json", func(t *testing.T) {
		var out, errOut bytes.Buffer
		args := []string{"list", "--kind", "export", "--limit", "2", "--json"}
		if err := runRuns(testCtx(t), args, envFor(srv, testToken), &out, &errOut); err != nil {
			t.Fatal(err)
		}
		var page struct {
			Runs       []map[string]any `json:"runs"`
			NextCursor string           `json:"next_cursor"`
		}
		if err := json.Unmarshal(out.Bytes(), &page); err != nil {
			t.Fatalf("not JSON: %v\n%s", err, out.String())
		}
		if len(page.Runs) != 2 || page.NextCursor != "cursor-page-2" {
			t.Errorf("got %d runs, cursor %q; want the first page only", len(page.Runs), page.NextCursor)
		}
	})

	t.Run("validation error", func(t *testing.T) {
		var out, errOut bytes.Buffer
		err := runRuns(testCtx(t), []string{"list", "--kind", "nope"}, envFor(srv, testToken), &out, &errOut)
		if err == nil || !strings.Contains(err.Error(), "Unprocessable Entity: bad query") {
			t.Fatalf("err = %v", err)
		}
	})

	mu.Lock()
	defer mu.Unlock()
	if len(queries) < 2 || !strings.Contains(queries[1], "cursor=cursor-page-2") {
		t.Errorf("second request did not follow next_cursor: %q", queries)
	}
}

func TestRunsWaitSSE(t *testing.T) {
	const id = "export-01SSE"
	var mu sync.Mutex
	var lastEventIDs []string
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/runs/{id}/events", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		lastEventIDs = append(lastEventIDs, r.Header.Get("Last-Event-ID"))
		conn := len(lastEventIDs)
		mu.Unlock()
		startSSE(w)
		if conn == 1 {
			// The first connection drops mid-run; the client must resume.
			writeEvent(t, w, "progress", fakeRun(id, "queued", "queued", 0, 0, 1))
			writeEvent(t, w, "progress", fakeRun(id, "running", "rendering", 3, 10, 2))
			return
		}
		writeEvent(t, w, "progress", fakeRun(id, "running", "rendering", 10, 10, 3))
		writeEvent(t, w, "done", succeededRun(id))
	})
	mux.HandleFunc("GET /v1/runs/{id}", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("polled although the stream worked")
		writeJSON(w, http.StatusOK, succeededRun(id))
	})
	c, out, errOut := testClient(t, newFakeAPI(t, mux))

	if err := c.wait(testCtx(t), id, false); err != nil {
		t.Fatalf("wait: %v", err)
	}
	if !strings.Contains(out.String(), "succeeded") || !strings.Contains(out.String(), "https://dl.example/exp_1") {
		t.Errorf("summary lacks status or download_url:\n%s", out.String())
	}
	if !strings.Contains(errOut.String(), "rendering 3 of 10") || !strings.Contains(errOut.String(), "10/10") {
		t.Errorf("progress bar did not show the stages:\n%q", errOut.String())
	}
	mu.Lock()
	defer mu.Unlock()
	if len(lastEventIDs) != 2 || lastEventIDs[0] != "" || lastEventIDs[1] != "2" {
		t.Errorf("Last-Event-ID per connection = %q, want [\"\" \"2\"]", lastEventIDs)
	}
}

func TestRunsWaitFailed(t *testing.T) {
	const id = "export-01FAIL"
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/runs/{id}/events", func(w http.ResponseWriter, r *http.Request) {
		startSSE(w)
		writeEvent(t, w, "progress", fakeRun(id, "running", "rendering", 1, 4, 1))
		failed := fakeRun(id, "failed", "rendering", 1, 4, 2)
		failed["error"] = map[string]any{"type": "file_too_large", "message": "the file is over 100 MiB"}
		writeEvent(t, w, "done", failed)
	})
	srv := newFakeAPI(t, mux)

	var out, errOut bytes.Buffer
	err := runRuns(testCtx(t), []string{"wait", id}, envFor(srv, testToken), &out, &errOut)
	if err == nil {
		t.Fatal("wait succeeded for a failed run")
	}
	for _, want := range []string{"failed", "file_too_large", "the file is over 100 MiB"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("err %q lacks %q", err, want)
		}
	}
	if !strings.Contains(out.String(), "file_too_large") {
		t.Errorf("summary lacks the error:\n%s", out.String())
	}
}

func TestRunsWaitPollsWhenStreamFails(t *testing.T) {
	const id = "export-01POLL"
	var mu sync.Mutex
	polls := 0
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/runs/{id}/events", func(w http.ResponseWriter, r *http.Request) {
		writeProblemJSON(w, http.StatusInternalServerError, "internal", "internal error")
	})
	mux.HandleFunc("GET /v1/runs/{id}", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		polls++
		n := polls
		mu.Unlock()
		switch n {
		case 1:
			writeJSON(w, http.StatusOK, fakeRun(id, "running", "rendering", 1, 2, 1))
		case 2:
			w.Header().Set("Retry-After", "0")
			writeProblemJSON(w, http.StatusServiceUnavailable, "dependency_unavailable", "postgres is unavailable; retry later")
		default:
			writeJSON(w, http.StatusOK, succeededRun(id))
		}
	})
	c, out, _ := testClient(t, newFakeAPI(t, mux))

	if err := c.wait(testCtx(t), id, false); err != nil {
		t.Fatalf("wait: %v", err)
	}
	if !strings.Contains(out.String(), "succeeded") {
		t.Errorf("summary lacks the status:\n%s", out.String())
	}
	mu.Lock()
	defer mu.Unlock()
	if polls != 3 {
		t.Errorf("polled %d times, want 3 (running, 503, succeeded)", polls)
	}
}

func TestRunsWaitCanceled(t *testing.T) {
	const id = "export-01CTRLC"
	ctx, cancel := context.WithCancel(testCtx(t))
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/runs/{id}/events", func(w http.ResponseWriter, r *http.Request) {
		startSSE(w)
		writeEvent(t, w, "progress", fakeRun(id, "running", "rendering", 1, 4, 1))
		cancel() // the user presses Ctrl-C while the run goes on
		<-r.Context().Done()
	})
	c, _, _ := testClient(t, newFakeAPI(t, mux))

	err := c.wait(ctx, id, false)
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "stopped waiting") {
		t.Fatalf("err = %v, want a canceled wait", err)
	}
}

func TestRunsUnauthorized(t *testing.T) {
	srv := newFakeAPI(t, http.NewServeMux())
	var out, errOut bytes.Buffer
	err := runRuns(testCtx(t), []string{"get", "export-01"}, envFor(srv, "gw_wrong"), &out, &errOut)
	if err == nil {
		t.Fatal("no error for a bad token")
	}
	for _, want := range []string{"401", "Unauthorized: missing or invalid credentials", "GROUNDWORK_TOKEN"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("err %q lacks %q", err, want)
		}
	}
}

func TestRunsMissingToken(t *testing.T) {
	var out, errOut bytes.Buffer
	err := runRuns(context.Background(), []string{"list"}, func(string) string { return "" }, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "GROUNDWORK_TOKEN") {
		t.Fatalf("err = %v, want it to name GROUNDWORK_TOKEN", err)
	}
}

func TestRunsRateLimited(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/runs", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "7")
		writeProblemJSON(w, http.StatusTooManyRequests, "rate_limited", "slow down",
			map[string]string{"field": "limit", "message": "too many"})
	})
	srv := newFakeAPI(t, mux)
	var out, errOut bytes.Buffer
	err := runRuns(testCtx(t), []string{"list"}, envFor(srv, testToken), &out, &errOut)
	if err == nil {
		t.Fatal("no error for a 429")
	}
	for _, want := range []string{"Too Many Requests: slow down", "limit: too many", "Retry-After", "7 s"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("err %q lacks %q", err, want)
		}
	}
}

func TestRunsCancel(t *testing.T) {
	const id = "export-01CANCEL"
	var posts int
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/runs/{id}/cancel", func(w http.ResponseWriter, r *http.Request) {
		posts++
		if r.PathValue("id") != id {
			writeProblemJSON(w, http.StatusNotFound, "not_found", "run not found")
			return
		}
		writeJSON(w, http.StatusAccepted, fakeRun(id, "running", "rendering", 1, 10, 2))
	})
	srv := newFakeAPI(t, mux)
	var out, errOut bytes.Buffer
	if err := runRuns(testCtx(t), []string{"cancel", id}, envFor(srv, testToken), &out, &errOut); err != nil {
		t.Fatal(err)
	}
	if posts != 1 || !strings.Contains(out.String(), id) {
		t.Errorf("%d POSTs; output:\n%s", posts, out.String())
	}
	err := runRuns(testCtx(t), []string{"cancel", "export-missing"}, envFor(srv, testToken), &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "run not found") {
		t.Errorf("cancel of a missing run: %v", err)
	}
}
