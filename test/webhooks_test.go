package test

import (
	"bytes"
	"encoding/json"
	"hash/fnv"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/groundwork-dev/groundwork/internal/stdwebhook"
	"github.com/groundwork-dev/groundwork/internal/testkit/testenv"
)

// receiver is a webhook endpoint on loopback that verifies every message
// with the endpoint's secret and fails on purpose: by each message's id,
// some attempts get a 500, a 429 with Retry-After, or no answer in time.
type receiver struct {
	t     *testing.T
	srv   *httptest.Server
	flaky bool
	down  atomic.Bool
	mu    sync.Mutex
	keys  [][]byte
	// secrets are the endpoints' whsec_ secrets, by key; raw every
	// verified message, for the reference implementation's check.
	secrets map[string]string
	raw     []rawMessage
	tries   map[string]int
	got     map[string]int // accepted deliveries per webhook-id
	bad     int
	// delay holds every answer that long (nanoseconds): a slow endpoint.
	delay atomic.Int64
}

func newReceiver(t *testing.T, flaky bool) *receiver {
	r := &receiver{t: t, flaky: flaky, tries: map[string]int{}, got: map[string]int{}, secrets: map[string]string{}}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	keys := r.keys
	r.mu.Unlock()
	id, err := stdwebhook.Verify(req.Header, body, keys, time.Now(), 5*time.Minute)
	if err != nil {
		r.mu.Lock()
		r.bad++
		r.mu.Unlock()
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	r.mu.Lock()
	for _, k := range keys {
		if _, err := stdwebhook.Verify(req.Header, body, [][]byte{k}, time.Now(), 5*time.Minute); err == nil {
			r.raw = append(r.raw, rawMessage{Secret: r.secrets[string(k)], Body: string(body), Headers: map[string]string{
				"webhook-id": req.Header.Get("webhook-id"), "webhook-timestamp": req.Header.Get("webhook-timestamp"),
				"webhook-signature": req.Header.Get("webhook-signature")}})
		}
	}
	r.mu.Unlock()
	if r.down.Load() {
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	time.Sleep(time.Duration(r.delay.Load())) // the endpoint's slowness, not a wait in a test
	r.mu.Lock()
	r.tries[id]++
	try := r.tries[id]
	r.mu.Unlock()
	if r.flaky {
		h := fnv.New32a()
		h.Write([]byte(id))
		// Half the messages fail their first attempt, a quarter their second too.
		switch fail := h.Sum32() % 4; {
		case fail == 1 && try == 1:
			http.Error(w, "boom", http.StatusInternalServerError)
			return
		case fail == 2 && try <= 2:
			w.Header().Set("Retry-After", "1")
			http.Error(w, "slow down", http.StatusTooManyRequests)
			return
		case fail == 3 && try == 1:
			// Past the delivery timeout's patience is too slow for a test;
			// a dropped connection is the same failure to the sender.
			hj, ok := w.(http.Hijacker)
			if ok {
				c, _, _ := hj.Hijack()
				_ = c.Close()
				return
			}
		}
	}
	r.mu.Lock()
	r.got[id]++
	r.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// addSecret makes the receiver accept messages signed with an endpoint's secret.
func (r *receiver) addSecret(t *testing.T, secret string) {
	t.Helper()
	key, err := stdwebhook.Key(secret)
	if err != nil {
		t.Fatal(err)
	}
	r.mu.Lock()
	r.keys = append(r.keys, key)
	r.secrets[string(key)] = secret
	r.mu.Unlock()
}

func (r *receiver) count() (unique, total int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, n := range r.got {
		unique++
		total += n
	}
	return unique, total
}

// rawMessage is a received message as the reference verifier reads it.
type rawMessage struct {
	Secret  string            `json:"secret"`
	Headers map[string]string `json:"headers"`
	Body    string            `json:"body"`
}

// verifyWithReference checks every message with the npm standardwebhooks
// package (installed by make test-deps into internal/testkit/whverify).
func verifyWithReference(t *testing.T, msgs []rawMessage) {
	t.Helper()
	dir := filepath.Join(testenv.RepoRoot(), "internal", "testkit", "whverify")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "standardwebhooks")); err != nil {
		t.Fatalf("the reference verifier is not installed: run make test-deps (npm ci in %s)", dir)
	}
	var in bytes.Buffer
	enc := json.NewEncoder(&in)
	for _, m := range msgs {
		_ = enc.Encode(m)
	}
	cmd := exec.Command("node", "verify.mjs")
	cmd.Dir, cmd.Stdin = dir, &in
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node verify.mjs: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(msgs) == 0 || len(lines) != len(msgs) {
		t.Fatalf("verified %d of %d messages: %s", len(lines), len(msgs), out)
	}
	for _, l := range lines {
		if !strings.HasPrefix(l, "ok ") {
			t.Errorf("standardwebhooks: %s", l)
		}
	}
}

// TestWebhooksDeliveredOnceThroughFailures sends every run's events to a
// flaky endpoint: each message arrives, verified, once by its webhook-id.
// An endpoint that is down has its messages dead-lettered after the
// (scaled) schedule, and a replay once it is back delivers them once. A
// failed run is a dead letter too, replayed as a new run exactly once.
func TestWebhooksDeliveredOnceThroughFailures(t *testing.T) {
	testenv.SkipShort(t, "Postgres and Temporal")
	// A Temporal of its own: the shared stack's workers poll the shared
	// server's queues with another database.
	s := startStack(t, stackOptions{temporalHostPort: testenv.StartTemporal(t).FrontendHostPort(), workers: "all", ratePerSec: 10000,
		ratePerMin: 1000000, research: testResearch(), webhookScale: 20000, maxFile: 4096}, true)
	admin := s.client(t, "wh-admin", "wh-ws", "admin")
	member := s.client(t, "wh-member", "wh-ws", "member")

	flaky, dead := newReceiver(t, true), newReceiver(t, false)
	dead.down.Store(true)
	create := func(r *receiver, events ...string) string {
		t.Helper()
		b, _ := json.Marshal(map[string]any{"url": r.srv.URL + "/hook", "event_types": events, "rate_per_second": 50,
			"headers": map[string]string{"X-Make-Apikey": "make-key"}})
		resp := admin.do(http.MethodPost, "/v1/webhook-endpoints", b)
		if resp.Status != http.StatusCreated {
			t.Fatalf("create endpoint: %d %s", resp.Status, resp.Body)
		}
		var e struct {
			ID     string `json:"id"`
			Secret string `json:"secret"`
		}
		resp.json(t, &e)
		r.addSecret(t, e.Secret)
		return e.ID
	}
	flakyID := create(flaky, "run.succeeded", "export.ready")
	deadID := create(dead, "run.failed")
	if r := member.do(http.MethodGet, "/v1/webhook-endpoints/"+flakyID, nil); r.Status != http.StatusForbidden {
		t.Errorf("a member reads an endpoint: %d", r.Status)
	}
	blocked, _ := json.Marshal(map[string]any{"url": "http://169.254.169.254/latest", "event_types": []string{"run.failed"}})
	if r := admin.do(http.MethodPost, "/v1/webhook-endpoints", blocked); r.Status != http.StatusUnprocessableEntity {
		t.Errorf("an endpoint on the metadata address: %d %s", r.Status, r.Body)
	}

	const runs = 8
	for i := range runs {
		exp, r := admin.startExport(map[string]any{"format": "csv", "columns": []string{"n"}, "rows": [][]any{{i}}})
		if r.Status != http.StatusAccepted {
			t.Fatalf("export: %d %s", r.Status, r.Body)
		}
		if d := admin.waitRun(exp.ID); d.Status != "succeeded" {
			t.Fatalf("export run: %+v", d)
		}
	}
	testenv.Eventually(t, 90*time.Second, "every message delivered", func() bool {
		u, _ := flaky.count()
		return u == 2*runs
	})
	unique, total := flaky.count()
	if total != unique || flaky.bad != 0 {
		t.Errorf("delivered %d times for %d messages, %d bad signatures", total, unique, flaky.bad)
	}
	var msgs struct {
		Messages []struct {
			ID, Status string
			Attempts   int
		} `json:"messages"`
	}
	admin.do(http.MethodGet, "/v1/webhook-endpoints/"+flakyID+"/messages?limit=200", nil).json(t, &msgs)
	retried := 0
	for _, m := range msgs.Messages {
		if m.Status != "delivered" {
			t.Errorf("message %s: %s", m.ID, m.Status)
		}
		if m.Attempts > 1 {
			retried++
		}
	}
	if len(msgs.Messages) != 2*runs || retried == 0 {
		t.Errorf("%d messages, %d retried", len(msgs.Messages), retried)
	}
	// Not only our own verifier: the spec's reference implementation too.
	verifyWithReference(t, flaky.raw)

	// A run that fails: the file passes the 4 KiB cap.
	rows := make([][]any, 500)
	for i := range rows {
		rows[i] = []any{strings.Repeat("x", 20)}
	}
	failed, r := admin.startExport(map[string]any{"format": "csv", "columns": []string{"n"}, "rows": rows})
	if r.Status != http.StatusAccepted {
		t.Fatalf("big export: %d %s", r.Status, r.Body)
	}
	if d := admin.waitRun(failed.ID); d.Status != "failed" {
		t.Fatalf("big export run: %+v", d)
	}
	type deadLetter struct {
		ID, Kind, RunID, MessageID, ReplayedAs, TemporalURL string
	}
	list := func(query string) []deadLetter {
		t.Helper()
		var out struct {
			DeadLetters []struct {
				ID          string `json:"id"`
				Kind        string `json:"kind"`
				RunID       string `json:"run_id"`
				MessageID   string `json:"message_id"`
				ReplayedAs  string `json:"replayed_as"`
				TemporalURL string `json:"temporal_url"`
			} `json:"dead_letters"`
		}
		admin.do(http.MethodGet, "/v1/dead-letters"+query, nil).json(t, &out)
		var dls []deadLetter
		for _, d := range out.DeadLetters {
			dls = append(dls, deadLetter(d))
		}
		return dls
	}
	// The run.failed message to the endpoint that is down dies after the
	// schedule (scaled down) and joins the failed run in the dead letters.
	var deadMsg string
	testenv.Eventually(t, 60*time.Second, "the undeliverable message dead-lettered", func() bool {
		dls := list("?kind=webhook&endpoint_id=" + deadID)
		if len(dls) == 1 {
			deadMsg = dls[0].MessageID
		}
		return len(dls) == 1
	})
	runDL := list("?kind=export")
	if len(runDL) != 1 || runDL[0].RunID != failed.ID || !strings.HasSuffix(runDL[0].TemporalURL, "/workflows/"+failed.ID) {
		t.Fatalf("run dead letters: %+v", runDL)
	}
	// Replayed once as a new run; a second replay is refused.
	resp := admin.do(http.MethodPost, "/v1/dead-letters/"+runDL[0].ID+"/replay", nil)
	var replayed struct {
		ReplayedAs string `json:"replayed_as"`
	}
	resp.json(t, &replayed)
	if resp.Status != http.StatusAccepted || !strings.HasPrefix(replayed.ReplayedAs, "export-") {
		t.Fatalf("replay: %d %s", resp.Status, resp.Body)
	}
	if d := admin.waitRun(replayed.ReplayedAs); d.Status != "failed" {
		t.Errorf("the replayed run: %+v", d)
	}
	if r := admin.do(http.MethodPost, "/v1/dead-letters/"+runDL[0].ID+"/replay", nil); r.Status != http.StatusConflict {
		t.Errorf("a second replay: %d %s", r.Status, r.Body)
	}
	if r := member.do(http.MethodPost, "/v1/dead-letters/"+runDL[0].ID+"/replay", nil); r.Status != http.StatusNotFound {
		t.Errorf("a member replays an admin's dead letter: %d", r.Status)
	}

	// The endpoint comes back: replaying by filter delivers the message once.
	dead.down.Store(false)
	var batch struct {
		Replayed []deadLetter `json:"replayed"`
	}
	b, _ := json.Marshal(map[string]any{"kind": "webhook", "endpoint_id": deadID})
	resp = admin.do(http.MethodPost, "/v1/dead-letters/replay", b)
	resp.json(t, &batch)
	if resp.Status != http.StatusOK || len(batch.Replayed) != 1 {
		t.Fatalf("replay by filter: %d %s", resp.Status, resp.Body)
	}
	delivered := func() int {
		dead.mu.Lock()
		defer dead.mu.Unlock()
		return dead.got[deadMsg]
	}
	testenv.Eventually(t, 30*time.Second, "the replayed message delivered", func() bool { return delivered() > 0 })
	if n := delivered(); n != 1 {
		t.Errorf("the replayed message arrived %d times", n)
	}
	resp = admin.do(http.MethodPost, "/v1/dead-letters/replay", b)
	resp.json(t, &batch)
	if len(batch.Replayed) != 0 {
		t.Errorf("replayed again: %s", resp.Body)
	}
}
