// Command chaos runs `groundwork dev-cluster` (two APIs behind nginx, two
// workers, Postgres with a streaming replica, the Temporal dev server) under
// a steady load of exports, generations, tracking events, researches of a
// local JavaScript test site and two-way Airtable syncs against a fake
// Airtable whose rows change on both sides, with every run's close
// delivered as a webhook to a verifying local receiver,
// injects faults one after the other (SIGKILL a worker, the other worker,
// an API; restart the Temporal dev server; stop the Postgres primary, then
// the replica, for a while), and once every run has settled reconciles
// Postgres, the blob directory, the fake LLM provider, the webhook
// receiver and the fake Airtable against what the clients were told. See bench/README.md
// "### chaos".
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	benchcluster "github.com/groundwork-dev/groundwork/bench/internal/cluster"
	"github.com/groundwork-dev/groundwork/internal/devstack"
	"github.com/groundwork-dev/groundwork/internal/testkit/testsite"
)

type options struct {
	users       int
	think       time.Duration
	lead, gap   time.Duration
	tail        time.Duration
	pgDown      time.Duration
	llmFaults   float64
	research    time.Duration
	syncEvery   time.Duration
	settle      time.Duration
	jsonPath    string
	keep        bool
	bin         string
	temporalCLI string
}

func main() {
	var o options
	flag.IntVar(&o.users, "users", 50, "virtual users sending load through the load balancer")
	flag.DurationVar(&o.think, "think", 3*time.Second, "mean pause of a virtual user between actions")
	flag.DurationVar(&o.lead, "lead", 20*time.Second, "load before the first fault (the baseline row)")
	flag.DurationVar(&o.gap, "gap", 25*time.Second, "time from one fault to the next (and the window each is measured in)")
	flag.DurationVar(&o.tail, "tail", 25*time.Second, "load after the last fault's window")
	flag.DurationVar(&o.pgDown, "pg-down", 10*time.Second, "how long the Postgres primary and the replica stay stopped")
	flag.Float64Var(&o.llmFaults, "llm-faults", 0.04, "share of LLM requests answered with an injected 429 (Retry-After), 500, 503 or a slow answer")
	flag.DurationVar(&o.research, "research-every", 20*time.Second, "start a research of the local test site this often (0: none)")
	flag.DurationVar(&o.syncEvery, "sync-every", 15*time.Second, "edit both sides of the Airtable mapping and start a sync this often (0: none)")
	flag.DurationVar(&o.settle, "settle", 4*time.Minute, "longest wait for the runs to settle after the load")
	flag.StringVar(&o.jsonPath, "json", "", "also write the report as JSON to this file")
	flag.BoolVar(&o.keep, "keep", false, "keep the temp dir (cluster data and logs)")
	flag.StringVar(&o.bin, "groundwork-bin", "", "use this groundwork binary instead of building ./cmd/groundwork")
	flag.StringVar(&o.temporalCLI, "temporal-cli", "bin/temporal", "the temporal CLI (make tools)")
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "chaos:", err)
		os.Exit(1)
	}
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, time.Now().Format("15:04:05")+" chaos: "+format+"\n", args...)
}

// Report is the whole result, as --json writes it.
type Report struct {
	Started  time.Time       `json:"started"`
	Settings map[string]any  `json:"settings"`
	Host     hostInfo        `json:"host"`
	Faults   []faultResult   `json:"faults"`
	Totals   windowStats     `json:"totals"`
	Recon    *Reconciliation `json:"reconciliation"`
	Nginx    *NginxFindings  `json:"nginx,omitempty"`
	Skipped  []string        `json:"skipped,omitempty"`
	Seconds  float64         `json:"wall_seconds"`
}

type hostInfo struct {
	Cores       int     `json:"cores"`
	LoadBefore  string  `json:"loadavg_before"`
	LoadAfter   string  `json:"loadavg_after"`
	BusyCores   float64 `json:"machine_busy_cores_during_load"`
	QuietEnough bool    `json:"quiet_enough"`
}

func run(o options) error {
	began := time.Now()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if _, err := devstack.FindNginx(); err != nil {
		return fmt.Errorf("dev-cluster needs nginx: %w", err)
	}
	tcli, err := filepath.Abs(o.temporalCLI)
	if err != nil {
		return err
	}
	if _, err := os.Stat(tcli); err != nil {
		return fmt.Errorf("temporal CLI missing at %s: run `make tools`", tcli)
	}
	rep := &Report{Started: began, Settings: map[string]any{
		"users": o.users, "think": o.think.String(), "lead": o.lead.String(), "gap": o.gap.String(), "tail": o.tail.String(),
		"pg_down": o.pgDown.String(), "llm_faults": o.llmFaults, "api_replicas": 2, "workers": 2,
		"research_every": o.research.String(), "research_pages": researchPages, "sync_every": o.syncEvery.String(),
	}}
	rep.Host.Cores = runtime.NumCPU()
	rep.Host.LoadBefore = loadavg()

	// Not a t.TempDir-like private dir: the postgres user must reach it.
	dir, err := os.MkdirTemp("", "gw-chaos-")
	if err != nil {
		return err
	}
	_ = os.Chmod(dir, 0o755)
	defer func() {
		if o.keep {
			logf("kept %s", dir)
		} else {
			_ = os.RemoveAll(dir)
		}
	}()
	logf("building groundwork into %s…", dir)
	bin, err := benchcluster.BuildBinary(ctx, dir, o.bin)
	if err != nil {
		return err
	}

	llm := newLLMFront(o.llmFaults)
	defer llm.close()
	var site *testsite.Site
	if o.research > 0 {
		if err := findChrome(); err != nil {
			return err
		}
		site = newResearchSite()
		defer site.Close()
	}
	var at *airtableSide
	if o.syncEvery > 0 {
		at = newAirtableSide()
		defer at.close()
	}
	env := []string{
		"GROUNDWORK_LOG_LEVEL=warn",
		// One user (the dev key) sends all the load.
		"GROUNDWORK_RATE_PER_SECOND=100000", "GROUNDWORK_RATE_PER_MINUTE=1000000", "GROUNDWORK_IP_RATE_PER_SECOND=100000",
		"GROUNDWORK_MAX_OPEN_RUNS=100000",
		"GROUNDWORK_LLM_PROVIDERS=openai", "OPENAI_API_KEY=x", "OPENAI_BASE_URL=" + llm.baseURL(),
		"GROUNDWORK_LLM_TOKENS_PER_MINUTE=1000000", "GROUNDWORK_LLM_REQUESTS_PER_MINUTE=10000",
		"GROUNDWORK_LLM_MONTHLY_TOKEN_BUDGET=100000000",
		"GROUNDWORK_RENDER_CONCURRENCY=2",
		// The webhook receiver listens on 127.0.0.1: dev-cluster gives its
		// APIs and workers the dev role that may open it (and only it).
		"GROUNDWORK_RESEARCH_ALLOW_CIDRS=127.0.0.1/32",
		// Research: two tabs a worker (two Chromiums on a 2-core
		// machine), and the test site's one domain not the bottleneck.
		"GROUNDWORK_RESEARCH_TABS=2", "GROUNDWORK_RESEARCH_DOMAIN_RATE=20",
	}
	if at != nil {
		env = append(env, at.env()...)
	}
	logf("starting dev-cluster (2 APIs, 2 workers) in %s…", dir)
	c, err := benchcluster.Start(ctx, benchcluster.Options{Dir: dir, Bin: bin, TemporalCLI: tcli, APIs: 2, Workers: 2, Env: env, Logf: logf})
	if err != nil {
		return err
	}
	defer func() {
		logf("stopping dev-cluster…")
		c.Stop()
		if o.keep {
			logf("dev-cluster output: %s; logs: %s", c.OutPath, filepath.Join(c.Data, "cluster", "logs"))
		}
	}()
	logf("cluster up after %v: load balancer %s", time.Since(began).Round(time.Second), c.State.LoadBalancer)

	tag := randomTag()
	l := newLoad(c.State.LoadBalancer, c.Key, tag, nil, o.think)
	if err := l.createCustomers(ctx, 5); err != nil {
		return err
	}
	recv := newReceiver()
	defer recv.close()
	endpoint, err := l.createEndpoint(ctx, recv)
	if err != nil {
		return err
	}
	if at != nil {
		if err := at.setup(ctx, c, bin, l); err != nil {
			return err
		}
	}

	// The load and the faults.
	cpu0 := readCPU()
	loadStart := time.Now()
	lctx, stopLoad := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for vu := range o.users {
		wg.Add(1)
		go func() { defer wg.Done(); l.user(lctx, vu) }()
	}
	if site != nil {
		wg.Add(1)
		go func() { defer wg.Done(); l.researcher(lctx, site, o.research) }()
	}
	if at != nil {
		wg.Add(1)
		go func() { defer wg.Done(); at.driver(lctx, l, o.syncEvery) }()
	}
	logf("load: %d users, one action every ~%v each; faults from %v, %v apart", o.users, o.think, o.lead, o.gap)
	var atWrites func(int) int64
	if at != nil {
		atWrites = at.writesInFlightFrom
	}
	faults := runFaults(ctx, c, llm.inFlight, atWrites, o.lead, o.gap, o.pgDown)
	if ctx.Err() == nil {
		sleepCtx(ctx, o.tail)
	}
	loadEnd := time.Now()
	stopLoad()
	wg.Wait()
	// Windows count requests by their end: the last one runs until the
	// last request in flight at the stop has ended.
	drained := time.Now()
	if len(faults) > 0 {
		faults[len(faults)-1].End = drained
	}
	cpu1 := readCPU()
	rep.Host.BusyCores = busyCores(cpu0, cpu1)
	logf("load stopped after %v: %d requests", loadEnd.Sub(loadStart).Round(time.Second), len(l.attempts))

	// Settle, then reconcile.
	logf("waiting (≤ %v) for every run to settle…", o.settle)
	sctx, cancel := context.WithTimeout(context.Background(), o.settle+time.Minute)
	defer cancel()
	// Connected only now: stopping the primary ends every session.
	conn, err := pgx.Connect(sctx, c.State.DatabaseURL)
	if err != nil {
		return err
	}
	defer func() { _ = conn.Close(context.Background()) }()
	took, open, err := waitSettled(sctx, conn, tag, o.settle)
	if err != nil {
		return fmt.Errorf("wait for runs: %w", err)
	}
	// Nothing edits either side any more: one last sync must leave them
	// equal.
	final, finalErr := "", error(nil)
	if at != nil {
		logf("final Airtable sync…")
		final, finalErr = at.finalSync(sctx, l, 2*time.Minute)
	}
	// In-flight LLM calls (a slow answer) end before the ledger is read.
	for i := 0; i < 30 && llm.fake.Stats().InFlight > 0; i++ {
		time.Sleep(time.Second)
	}
	runs, err := loadRuns(sctx, conn, tag)
	if err != nil {
		return err
	}
	rc, err := reconcile(sctx, conn, l, llm, filepath.Join(c.Data, "blobs"), runs)
	if err != nil {
		return err
	}
	problem := func(format string, args ...any) { rc.Problems = append(rc.Problems, fmt.Sprintf(format, args...)) }
	if site != nil {
		if rc.Research, err = reconcileResearch(sctx, conn, runs, site, problem); err != nil {
			return err
		}
	}
	if at != nil {
		if finalErr != nil {
			problem("%v", finalErr)
		}
		if rc.Airtable, err = at.reconcileAirtable(sctx, conn, runs, final, problem); err != nil {
			return err
		}
	}
	// Closed runs enqueued their messages: the deliveries follow.
	deliverIn, err := waitDelivered(sctx, conn, endpoint, time.Minute)
	if err != nil {
		return err
	}
	if rc.Webhooks, err = reconcileWebhooks(sctx, conn, endpoint, recv, runs, problem); err != nil {
		return err
	}
	rc.Webhooks.DeliverIn = deliverIn.Round(time.Second).String()
	if rep.Nginx, err = readNginxLogs(c.Data); err != nil {
		logf("%v", err)
	}
	rc.SettledIn = took.Round(time.Second).String()
	if open > 0 {
		rc.Problems = append(rc.Problems, fmt.Sprintf("%d runs still open after %v", open, o.settle))
	}
	rep.Host.LoadAfter = loadavg()
	// Quiet enough: the 1-minute load average before the start was below
	// the core count (the cluster itself then takes most of the machine).
	rep.Host.QuietEnough = loadBelow(rep.Host.LoadBefore, float64(rep.Host.Cores))
	rep.Faults = analyse(l, faults, runs, loadStart)
	rep.Totals = stats(l.attempts, loadStart, drained)
	rep.Recon = rc
	rep.Seconds = time.Since(began).Round(time.Second).Seconds()

	printReport(os.Stdout, rep)
	if o.jsonPath != "" {
		b, _ := json.MarshalIndent(rep, "", "  ")
		if err := os.WriteFile(o.jsonPath, append(b, '\n'), 0o644); err != nil {
			return err
		}
		logf("wrote %s", o.jsonPath)
	}
	if o.keep {
		for _, f := range rc.NotSucceeded {
			logf("not succeeded: %s %s %s %s", f.ID, f.Kind, f.Status, f.Error)
		}
	}
	return nil
}

func randomTag() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func loadBelow(avg string, limit float64) bool {
	var one float64
	_, err := fmt.Sscan(avg, &one)
	return err == nil && one < limit
}

type cpuTicks struct{ busy, total uint64 }

// readCPU reads the machine's CPU counters from /proc/stat.
func readCPU() cpuTicks {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return cpuTicks{}
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	var t cpuTicks
	for i, s := range f[1:] {
		var v uint64
		_, _ = fmt.Sscan(s, &v)
		t.total += v
		if i != 3 && i != 4 { // idle, iowait
			t.busy += v
		}
	}
	return t
}

func busyCores(a, b cpuTicks) float64 {
	if b.total <= a.total {
		return 0
	}
	share := float64(b.busy-a.busy) / float64(b.total-a.total)
	return float64(int(share*float64(runtime.NumCPU())*100)) / 100
}
