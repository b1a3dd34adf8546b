package test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/groundwork-dev/groundwork"
	"github.com/groundwork-dev/groundwork/client"
)

// exchange is one request the Go client sent and the status it got.
type exchange struct {
	method, path string
	status       int
	at           time.Time
}

// tapTransport records what the Go client exchanges with the API: the
// tests assert on it, and its JSON answers join those the contract test
// validates against the OpenAPI document.
type tapTransport struct {
	mu  sync.Mutex
	log []exchange
}

func (tt *tapTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	tt.mu.Lock()
	tt.log = append(tt.log, exchange{method: req.Method, path: req.URL.Path, status: resp.StatusCode, at: time.Now()})
	tt.mu.Unlock()
	if ct := resp.Header.Get("Content-Type"); strings.Contains(ct, "json") {
		b, rerr := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if rerr != nil {
			return nil, rerr
		}
		recordAnswer(req.Method, req.URL.Path, resp.StatusCode, ct, b)
		resp.Body = io.NopCloser(bytes.NewReader(b))
	}
	return resp, nil
}

// matching returns the recorded exchanges of method on path.
func (tt *tapTransport) matching(method, path string) []exchange {
	tt.mu.Lock()
	defer tt.mu.Unlock()
	var out []exchange
	for _, e := range tt.log {
		if e.method == method && e.path == path {
			out = append(out, e)
		}
	}
	return out
}

// goClient is a Go client for base with token, and the tap on its traffic.
func goClient(t *testing.T, base, token string, opts ...client.Option) (*client.Client, *tapTransport) {
	t.Helper()
	tap := &tapTransport{}
	opts = append([]client.Option{client.WithAPIKey(token), client.WithHTTPClient(&http.Client{Transport: tap}),
		client.WithUserAgent("groundwork-client-test")}, opts...)
	c, err := client.New(base, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c, tap
}

// uniqueUser is a user ID no earlier run of the test used, so a repeated
// run (-count=N) on the package's shared database starts from no runs.
func uniqueUser(prefix string) string { return prefix + "-" + rand.Text()[:10] }

func clientCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func csvExport(n int) client.ExportRequest {
	return client.ExportRequest{Format: "csv", Filename: "client-test", Columns: []string{"n", "name"}, Rows: [][]any{{n, "Acme"}}}
}

// TestClientStartWaitOverSSE starts an export and waits for it with the
// stream alone, then reads it again: the second read is a 304 that
// returns the same run, and canceling it now is a run_closed problem.
func TestClientStartWaitOverSSE(t *testing.T) {
	s := sharedStack(t)
	c, tap := goClient(t, s.URL, s.newUser(t, uniqueUser("client-sse")).token)
	ctx := clientCtx(t)

	run, err := c.StartExport(ctx, csvExport(1))
	if err != nil {
		t.Fatal(err)
	}
	if run.Kind != string(groundwork.KindExport) || run.Ended() {
		t.Fatalf("started run: %+v", run.Run)
	}
	var seen []*client.Run
	done, err := c.WaitRun(ctx, run.ID, func(r *client.Run) { seen = append(seen, r) })
	if err != nil {
		t.Fatal(err)
	}
	if done.Status != groundwork.RunSucceeded || done.Result["download_url"] == nil || len(seen) == 0 || seen[len(seen)-1].Status != groundwork.RunSucceeded {
		t.Fatalf("waited run: %+v after %d updates", done.Run, len(seen))
	}
	if polls := tap.matching(http.MethodGet, "/v1/runs/"+run.ID); len(polls) != 0 {
		t.Errorf("polled %d times although the stream worked", len(polls))
	}
	if streams := tap.matching(http.MethodGet, "/v1/runs/"+run.ID+"/events"); len(streams) == 0 || streams[0].status != http.StatusOK {
		t.Errorf("event stream requests: %+v", streams)
	}

	// With a wait the run comes back ended from the start itself.
	waited, err := c.StartExport(ctx, csvExport(1), client.WithWait(10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if !waited.Ended() || waited.Status != groundwork.RunSucceeded || waited.Result["download_url"] == nil {
		t.Fatalf("started with a wait: %+v", waited.Run)
	}

	first, err := c.GetRun(ctx, run.ID)
	if err != nil {
		t.Fatal(err)
	}
	again, err := c.GetRun(ctx, run.ID)
	if err != nil {
		t.Fatal(err)
	}
	reads := tap.matching(http.MethodGet, "/v1/runs/"+run.ID)
	if len(reads) != 2 || reads[0].status != http.StatusOK || reads[1].status != http.StatusNotModified {
		t.Fatalf("reads: %+v, want a 200 then a 304", reads)
	}
	if !bytes.Equal(first.Raw, again.Raw) || again.Status != groundwork.RunSucceeded || again.Result["download_url"] != first.Result["download_url"] {
		t.Errorf("the 304 did not return the run as first read:\n%s\n%s", first.Raw, again.Raw)
	}

	_, err = c.CancelRun(ctx, run.ID)
	var p *client.Problem
	if !errors.As(err, &p) || p.Status != http.StatusConflict || p.Slug() != groundwork.SlugRunClosed {
		t.Errorf("cancel of a succeeded run: %v", err)
	}
}

// TestClientWaitFallsBackToPolling puts the client behind a proxy that
// has no SSE (502 on the events route) and answers the first poll 503
// with Retry-After: 1: the wait still ends, by polling, and the poll after
// the 503 waits the second the answer asked for.
func TestClientWaitFallsBackToPolling(t *testing.T) {
	s := sharedStack(t)
	target, err := url.Parse(s.URL)
	if err != nil {
		t.Fatal(err)
	}
	api := httputil.NewSingleHostReverseProxy(target)
	var mu sync.Mutex
	refused := false
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/events") {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusBadGateway)
			_, _ = io.WriteString(w, "<html><body><h1>502 Bad Gateway</h1></body></html>")
			return
		}
		mu.Lock()
		refuse := r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/v1/runs/") && !refused
		refused = refused || refuse
		mu.Unlock()
		if refuse {
			w.Header().Set("Content-Type", "application/problem+json")
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = fmt.Fprintf(w, `{"type":"%s%s","title":"Service Unavailable","status":503,"detail":"postgres is unavailable; retry later"}`,
				groundwork.ProblemBase, groundwork.SlugUnavailable)
			return
		}
		api.ServeHTTP(w, r)
	}))
	t.Cleanup(proxy.Close)
	c, tap := goClient(t, proxy.URL, s.newUser(t, uniqueUser("client-poll")).token, client.WithPollInterval(20*time.Millisecond))
	ctx := clientCtx(t)

	run, err := c.StartExport(ctx, csvExport(2))
	if err != nil {
		t.Fatal(err)
	}
	updates := 0
	done, err := c.WaitRun(ctx, run.ID, func(*client.Run) { updates++ })
	if err != nil {
		t.Fatal(err)
	}
	if done.Status != groundwork.RunSucceeded || updates == 0 {
		t.Fatalf("waited run: %+v after %d updates", done.Run, updates)
	}
	if streams := tap.matching(http.MethodGet, "/v1/runs/"+run.ID+"/events"); len(streams) != 1 || streams[0].status != http.StatusBadGateway {
		t.Errorf("event stream requests: %+v, want one 502 and then polling", streams)
	}
	polls := tap.matching(http.MethodGet, "/v1/runs/"+run.ID)
	if len(polls) < 2 || polls[0].status != http.StatusServiceUnavailable {
		t.Fatalf("polls: %+v, want a 503 first", polls)
	}
	if gap := polls[1].at.Sub(polls[0].at); gap < time.Second {
		t.Errorf("polled again %v after a 503 with Retry-After: 1", gap)
	}
}

// TestClientProblems decodes the API's problems: another workspace's run
// is a 404 (also to WaitRun, which must not poll it forever), a bad export
// a 422 naming its field, an Idempotency-Key reused with another body a
// 409; the same key and body return the same run.
func TestClientProblems(t *testing.T) {
	s := sharedStack(t)
	ctx := clientCtx(t)
	owner, _ := goClient(t, s.URL, s.client(t, uniqueUser("client-owner"), uniqueUser("client-ws-a"), "admin").token)
	stranger, _ := goClient(t, s.URL, s.client(t, uniqueUser("client-stranger"), uniqueUser("client-ws-b"), "admin").token)

	run, err := owner.StartExport(ctx, csvExport(3), client.WithIdempotencyKey("client-k1"))
	if err != nil {
		t.Fatal(err)
	}
	same, err := owner.StartExport(ctx, csvExport(3), client.WithIdempotencyKey("client-k1"))
	if err != nil || same.ID != run.ID {
		t.Fatalf("same key and body: %v, run %v, want %s", err, same, run.ID)
	}
	_, err = owner.StartExport(ctx, csvExport(4), client.WithIdempotencyKey("client-k1"))
	if !client.IsProblem(err, groundwork.SlugConflict) {
		t.Errorf("same key, another body: %v", err)
	}

	for name, call := range map[string]func() error{
		"get":    func() error { _, err := stranger.GetRun(ctx, run.ID); return err },
		"cancel": func() error { _, err := stranger.CancelRun(ctx, run.ID); return err },
		"wait":   func() error { _, err := stranger.WaitRun(ctx, run.ID, nil); return err },
		"events": func() error { _, err := stranger.Events(ctx, run.ID, ""); return err },
	} {
		var p *client.Problem
		if err := call(); !errors.As(err, &p) || p.Status != http.StatusNotFound || p.Slug() != groundwork.SlugNotFound || p.Title == "" {
			t.Errorf("%s another workspace's run: %v", name, err)
		}
	}

	_, err = owner.StartExport(ctx, client.ExportRequest{Format: "csv", Columns: []string{"a", "b"}, Rows: [][]any{{"1", "2"}, {"3"}}})
	var p *client.Problem
	if !errors.As(err, &p) || p.Status != http.StatusUnprocessableEntity || p.Slug() != groundwork.SlugValidation {
		t.Fatalf("ragged table: %v", err)
	}
	if len(p.Errors) == 0 || p.Errors[0].Field != "rows[1]" || !strings.Contains(err.Error(), "rows[1]") {
		t.Errorf("the 422 does not name rows[1]: %+v", p.Errors)
	}

	second, err := owner.StartExport(ctx, csvExport(5))
	if err != nil {
		t.Fatal(err)
	}
	page, err := owner.ListRuns(ctx, client.ListOptions{Kind: string(groundwork.KindExport), Limit: 1})
	if err != nil || len(page.Runs) != 1 || page.Runs[0].ID != second.ID || page.NextCursor == "" {
		t.Fatalf("first page of one: %v, %+v", err, page)
	}
	var ids []string
	for r, err := range owner.Runs(ctx, client.ListOptions{Limit: 1}) {
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, r.ID)
	}
	if len(ids) != 2 || ids[0] != second.ID || ids[1] != run.ID {
		t.Errorf("Runs over pages of one: %q, want [%s %s]", ids, second.ID, run.ID)
	}
	for _, id := range ids {
		if _, err := owner.WaitRun(ctx, id, nil); err != nil {
			t.Fatal(err)
		}
	}
}

// TestClientCancel cancels a run held at its render step and waits for it
// to end canceled.
func TestClientCancel(t *testing.T) {
	s, held, id := runHeldAtRender(t, uniqueUser("client-cancel"))
	c, _ := goClient(t, s.URL, held.token)
	ctx := clientCtx(t)
	run, err := c.CancelRun(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if run.ID != id {
		t.Fatalf("cancel answered run %s", run.ID)
	}
	done, err := c.WaitRun(ctx, id, nil)
	if err != nil {
		t.Fatal(err)
	}
	if done.Status != groundwork.RunCanceled || done.Result != nil {
		t.Errorf("after cancel: %+v", done.Run)
	}
	if again, err := c.CancelRun(ctx, id); err != nil || again.Status != groundwork.RunCanceled {
		t.Errorf("second cancel: %v, %+v", err, again)
	}
}

// TestClientCLI runs the built `groundwork runs` commands, which use the
// client, against the stack: their output and exit codes (0 done or help
// asked for, 1 an API error or a run that did not succeed).
func TestClientCLI(t *testing.T) {
	s := sharedStack(t)
	token := s.newUser(t, uniqueUser("client-cli")).token
	c, _ := goClient(t, s.URL, token)
	run, err := c.StartExport(clientCtx(t), csvExport(6))
	if err != nil {
		t.Fatal(err)
	}
	bin := groundworkBinary(t)
	cli := func(args ...string) (string, string, int) {
		t.Helper()
		cmd := exec.Command(bin, append([]string{"runs"}, args...)...)
		cmd.Env = append(os.Environ(), "GROUNDWORK_API_URL="+s.URL, "GROUNDWORK_TOKEN="+token)
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		err := cmd.Run()
		var exit *exec.ExitError
		if err != nil && !errors.As(err, &exit) {
			t.Fatalf("runs %q: %v", args, err)
		}
		return out.String(), errOut.String(), cmd.ProcessState.ExitCode()
	}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"wait", run.ID}, 0, "download_url"},
		{[]string{"get", run.ID, "--json"}, 0, `"id": "` + run.ID + `"`},
		{[]string{"list", "--limit", "1", "--all"}, 0, run.ID},
		{[]string{"get", "export-01JD4X7Q2W6ZC5D3V9N8K1M2P3"}, 1, "404 Not Found"},
		{[]string{"cancel", run.ID}, 1, "409 Conflict"},
		{[]string{"list", "--help"}, 0, "-kind"},
	} {
		out, errOut, code := cli(tc.args...)
		if code != tc.code || !strings.Contains(out+errOut, tc.want) {
			t.Errorf("runs %q: exit %d (want %d), output lacks %q?\nstdout: %s\nstderr: %s", tc.args, code, tc.code, tc.want, out, errOut)
		}
	}
}
