package test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"

	"github.com/groundwork-dev/groundwork"
	"github.com/groundwork-dev/groundwork/cmd/groundwork/app"
	"github.com/groundwork-dev/groundwork/internal/apikey"
	"github.com/groundwork-dev/groundwork/internal/browser"
	"github.com/groundwork-dev/groundwork/internal/config"
	"github.com/groundwork-dev/groundwork/internal/notify"
	"github.com/groundwork-dev/groundwork/internal/testkit/testenv"
	"github.com/groundwork-dev/groundwork/worker"
)

// stack is a running API (and optionally worker) on real dependencies.
type stack struct {
	URL string
	// MetricsURL is the process's metrics listener (/metrics, /healthz).
	MetricsURL string
	App        *app.App
	Workers    []sdkworker.Worker
}

type stackOptions struct {
	// temporalHostPort defaults to the package's shared dev server.
	temporalHostPort string
	// databaseURL defaults to a fresh database on the shared cluster.
	databaseURL string
	// workers: "all", "main" (no render worker) or "none".
	workers    string
	ratePerSec int
	ratePerMin int
	jwtSecret  []byte
	jwksURL    string
	// jwt sets issuer, audience, max age and the claim paths.
	jwt     config.Config
	maxFile int64
	cors    []string
	quota   int64
	// now is the workers' clock (export TTLs); nil is real time.
	now func() time.Time
	// llm configures generation; no providers turns it off.
	llm config.LLM
	// research configures company research; browser gives the workers a
	// Chrome, so they poll the browser queue.
	research config.Research
	browser  bool
	// airtable configures the Airtable sync (a fake's URL in tests).
	airtable config.Airtable
	// logTo, when set, receives the process's JSON log lines.
	logTo io.Writer
	// maxOpenRuns and maxStreams cap a user's runs and streams (0: defaults).
	maxOpenRuns, maxStreams int
	// trusted are the trusted proxies; authFailures the failed
	// authentications per IP and minute before 429 (0: no limit).
	trusted      []netip.Prefix
	authFailures int
	// webhookScale divides the webhook and e-mail retry schedules (0: real time).
	webhookScale int
	// smtp is the mail server (nil: e-mails are suppressed).
	smtp *notify.SMTP
	// tracesEndpoint receives the stack's spans (empty: tracing off).
	tracesEndpoint string
}

// testResearch lets research reach pages on 127.0.0.1 only: the test
// sites listen there, while the internal targets of the SSRF tests listen
// on other loopback addresses the guard must still refuse.
func testResearch() config.Research {
	return config.Research{
		Allow:       []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")},
		UserAgent:   config.DefaultResearchUserAgent,
		Tabs:        5,
		PageTimeout: 20 * time.Second,
		// Every test site is on 127.0.0.1, which shares one domain bucket.
		DomainRate: 50,
	}
}

var (
	sharedOnce sync.Once
	shared     *stack
)

// sharedStack is one API + worker for the package's ordinary tests; they
// keep apart by using different users, as real users do.
func sharedStack(t *testing.T) *stack {
	t.Helper()
	testenv.SkipShort(t, "Postgres and Temporal")
	sharedOnce.Do(func() {
		shared = startStack(t, stackOptions{workers: "all", ratePerSec: 10000, ratePerMin: 1000000,
			research: testResearch(), browser: true}, false)
	})
	if shared == nil {
		t.Fatal("shared stack failed to start")
	}
	return shared
}

// startStack starts an API and workers; owned stacks stop with the test,
// the shared one with the package.
func startStack(t *testing.T, o stackOptions, owned bool) *stack {
	t.Helper()
	testenv.SkipShort(t, "Postgres and Temporal")
	if o.temporalHostPort == "" {
		o.temporalHostPort = testenv.Temporal(t).FrontendHostPort()
	}
	if o.databaseURL == "" {
		o.databaseURL = testenv.DatabaseURL(t)
	}
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	blobDir, err := os.MkdirTemp("", "gw-blobs-")
	if err != nil {
		t.Fatal(err)
	}
	if o.airtable.EncryptionKey == nil {
		// Seals Airtable tokens and webhook secrets.
		o.airtable.EncryptionKey = make([]byte, 32)
		_, _ = rand.Read(o.airtable.EncryptionKey)
	}
	cfg := config.Config{
		DatabaseURL: o.databaseURL,
		DBMaxConns:  20,
		PublicURL:   "http://" + l.Addr().String(),
		BlobURL:     "file://" + blobDir,
		SigningKey:  key,
		JWTSecret:   o.jwtSecret,
		JWKSURL:     o.jwksURL,

		JWTIssuer:         o.jwt.JWTIssuer,
		JWTAudience:       o.jwt.JWTAudience,
		JWTMaxAge:         o.jwt.JWTMaxAge,
		JWTWorkspaceClaim: o.jwt.JWTWorkspaceClaim,
		JWTRoleClaim:      o.jwt.JWTRoleClaim,
		SessionClaim:      o.jwt.SessionClaim,
		SessionIdle:       o.jwt.SessionIdle,
		SessionsPerUser:   o.jwt.SessionsPerUser,
		RatePerSec:        o.ratePerSec,
		MaxOpenRuns:       o.maxOpenRuns,
		MaxStreamsPerUser: o.maxStreams,

		TrustedProxies:     o.trusted,
		AuthFailuresPerMin: o.authFailures,
		RatePerMin:         o.ratePerMin,
		Pollers:            4,
		ExportTTL:          24 * time.Hour,
		MaxFileBytes:       o.maxFile,
		CORSOrigins:        o.cors,
		QuotaBytes:         o.quota,
		LLM:                o.llm,
		Research:           o.research,
		Airtable:           o.airtable,
		SMTP:               o.smtp,
		TracesEndpoint:     o.tracesEndpoint,
		TracesBatchTimeout: 100 * time.Millisecond,
		LogLevel:           "warn",
	}
	ctx, cancel := context.WithCancel(context.Background())
	log := testenv.Logger(t)
	if o.logTo != nil {
		log = slog.New(slog.NewJSONHandler(o.logTo, nil))
	}
	a, err := app.Open(ctx, cfg, log, client.Options{HostPort: o.temporalHostPort, Namespace: "default"})
	if err != nil {
		cancel()
		t.Fatalf("open app: %v", err)
	}
	var ws []sdkworker.Worker
	var chrome *browser.Browser
	if o.workers != "none" {
		deps := a.WorkerDeps()
		deps.Now = o.now
		if o.browser {
			if chrome, err = worker.NewBrowser(o.research, testenv.Logger(t)); err != nil {
				t.Fatal(err)
			}
			deps.Browser = chrome
		}
		all, err := worker.New(deps)
		if err != nil {
			t.Fatal(err)
		}
		ws = all
		if o.workers == "main" {
			ws = all[:1]
		}
		for _, w := range ws {
			if err := w.Start(); err != nil {
				t.Fatal(err)
			}
		}
		deps.WebhookScale, deps.WebhookDispatchEvery = o.webhookScale, 50*time.Millisecond
		go worker.DispatchOutbox(ctx, deps)
	}
	ml, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 2)
	go func() { served <- a.ServeAPI(ctx, l) }()
	go func() { served <- a.ServeMetrics(ctx, ml) }()
	stop := func() {
		cancel()
		<-served
		<-served
		for _, w := range ws {
			w.Stop()
		}
		if chrome != nil {
			_ = chrome.Close()
		}
		a.Close()
		_ = os.RemoveAll(blobDir)
	}
	if owned {
		t.Cleanup(stop)
	} else {
		registerPackageStop(stop)
	}
	return &stack{URL: cfg.PublicURL, MetricsURL: "http://" + ml.Addr().String(), App: a, Workers: ws}
}

var (
	stopMu    sync.Mutex
	stopFuncs []func()
)

func registerPackageStop(f func()) {
	stopMu.Lock()
	defer stopMu.Unlock()
	stopFuncs = append(stopFuncs, f)
}

// stopPackageStacks stops the shared stack before testenv stops Postgres
// and Temporal under it.
func stopPackageStacks() {
	stopMu.Lock()
	defer stopMu.Unlock()
	for i := len(stopFuncs) - 1; i >= 0; i-- {
		stopFuncs[i]()
	}
}

// newUser creates a user with an API key and returns a client for it.
func (s *stack) newUser(t *testing.T, id string) *apiClient {
	t.Helper()
	_, key, err := apikey.Create(context.Background(), s.App.Pool, apikey.Spec{User: id, Name: "test"})
	if err != nil {
		t.Fatal(err)
	}
	return &apiClient{t: t, base: s.URL, token: key}
}

// with returns the client reporting to t, for use inside a subtest.
func (c *apiClient) with(t *testing.T) *apiClient {
	cp := *c
	cp.t = t
	return &cp
}

// apiClient calls the API as one user would.
type apiClient struct {
	t     *testing.T
	base  string
	token string
}

type response struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r response) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %s: %v", r.Body, err)
	}
}

func (c *apiClient) do(method, path string, body []byte, headers ...string) response {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	recordAnswer(method, req.URL.Path, resp.StatusCode, resp.Header.Get("Content-Type"), b)
	return response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// run mirrors the API's run JSON.
type run struct {
	ID       string         `json:"id"`
	Kind     string         `json:"kind"`
	Status   string         `json:"status"`
	Progress map[string]any `json:"progress"`
	Result   map[string]any `json:"result"`
	Error    *struct {
		Type    string `json:"type"`
		Message string `json:"message"`
	} `json:"error"`
}

type problemDoc struct {
	Type   string `json:"type"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
	Errors []struct {
		Field   string `json:"field"`
		Message string `json:"message"`
	} `json:"errors"`
}

func (c *apiClient) startExport(body any, headers ...string) (run, response) {
	c.t.Helper()
	return c.start("/v1/exports", body, headers...)
}

// start POSTs body to a kind's start route and decodes the run it
// answers with 202 (or 200, when a Prefer: wait saw it end).
func (c *apiClient) start(path string, body any, headers ...string) (run, response) {
	c.t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		c.t.Fatal(err)
	}
	resp := c.do(http.MethodPost, path, b, headers...)
	var r run
	if resp.Status == http.StatusAccepted || resp.Status == http.StatusOK {
		resp.json(c.t, &r)
	}
	return r, resp
}

func (c *apiClient) getRun(id string) run {
	c.t.Helper()
	resp := c.do(http.MethodGet, "/v1/runs/"+id, nil)
	if resp.Status != http.StatusOK {
		c.t.Fatalf("get run %s: %d %s", id, resp.Status, resp.Body)
	}
	var r run
	resp.json(c.t, &r)
	return r
}

// listRuns returns the first page of the user's runs.
func (c *apiClient) listRuns() []run {
	c.t.Helper()
	var list struct {
		Runs []run `json:"runs"`
	}
	resp := c.do(http.MethodGet, "/v1/runs", nil)
	if resp.Status != http.StatusOK {
		c.t.Fatalf("list runs: %d %s", resp.Status, resp.Body)
	}
	resp.json(c.t, &list)
	return list.Runs
}

// waitRun polls the run until it reaches a terminal status.
func (c *apiClient) waitRun(id string) run {
	c.t.Helper()
	var r run
	testenv.Eventually(c.t, 60*time.Second, "run "+id+" to finish", func() bool {
		r = c.getRun(id)
		switch r.Status {
		case "succeeded", "failed", "canceled", "timed_out":
			return true
		}
		return false
	})
	return r
}

func isProblem(resp response) bool {
	return strings.HasPrefix(resp.Header.Get("Content-Type"), "application/problem+json")
}

// startedWorkflows counts workflows the user started, straight from
// Temporal's visibility store.
func startedWorkflows(t *testing.T, s *stack, owner string) int {
	t.Helper()
	resp, err := s.App.Temporal.CountWorkflow(context.Background(), &workflowservice.CountWorkflowExecutionsRequest{
		Query: groundwork.SearchAttrOwnerName + " = '" + owner + "'",
	})
	if err != nil {
		t.Fatal(err)
	}
	return int(resp.GetCount())
}

// startWorkerProcess builds the binary and runs `groundwork worker` as a
// process of its own against the given Temporal and database, with env

var (
	binaryOnce sync.Once
	binary     string
	binaryErr  error
)

// groundworkBinary builds cmd/groundwork once per test run; the tests that
// run a worker process share it.
func groundworkBinary(t *testing.T) string {
	t.Helper()
	binaryOnce.Do(func() {
		dir, err := os.MkdirTemp("", "groundwork-test-bin-")
		if err != nil {
			binaryErr = err
			return
		}
		stopMu.Lock()
		stopFuncs = append(stopFuncs, func() { _ = os.RemoveAll(dir) })
		stopMu.Unlock()
		bin := filepath.Join(dir, "groundwork")
		build := exec.Command("go", "build", "-o", bin, "./cmd/groundwork")
		build.Dir = testenv.RepoRoot()
		if out, err := build.CombinedOutput(); err != nil {
			binaryErr = fmt.Errorf("build: %w\n%s", err, out)
			return
		}
		binary = bin
	})
	if binaryErr != nil {
		t.Fatal(binaryErr)
	}
	return binary
}

// added, so a test can SIGKILL it; it is killed at cleanup if still alive.
func startWorkerProcess(t *testing.T, temporalHostPort, databaseURL string, env ...string) *exec.Cmd {
	t.Helper()
	return startProcess(t, []string{"worker"}, temporalHostPort, databaseURL, env...)
}

// startDevProcess runs `groundwork dev` against the test's Postgres and
// Temporal: API and worker in one process, and the only role that may
// open loopback to research (GROUNDWORK_RESEARCH_ALLOW_CIDRS).
func startDevProcess(t *testing.T, temporalHostPort, databaseURL string, env ...string) *exec.Cmd {
	t.Helper()
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	return startProcess(t, []string{"dev", "--data", t.TempDir(), "--mailpit=false"}, temporalHostPort, databaseURL,
		append([]string{"GROUNDWORK_HTTP_ADDR=127.0.0.1:0", "GROUNDWORK_SIGNING_KEY=" + hex.EncodeToString(key)}, env...)...)
}

// startProcess runs the groundwork binary with args; it is killed with
// the test.
func startProcess(t *testing.T, args []string, temporalHostPort, databaseURL string, env ...string) *exec.Cmd {
	t.Helper()
	proc := exec.Command(groundworkBinary(t), args...)
	proc.Env = append(append(os.Environ(),
		"DATABASE_URL="+databaseURL, "TEMPORAL_ADDRESS="+temporalHostPort, "TEMPORAL_NAMESPACE=default",
		"GROUNDWORK_BLOB_URL=file://"+t.TempDir(), "GROUNDWORK_LOG_LEVEL=warn", "GROUNDWORK_METRICS_ADDR=127.0.0.1:0"), env...)
	proc.Stdout, proc.Stderr = os.Stderr, os.Stderr
	if err := proc.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = proc.Process.Kill(); _ = proc.Wait() })
	return proc
}
