// Command load measures the Groundwork API under open-loop load with vegeta
// and compares its start path with a raw Temporal start plus one Postgres
// insert measured in the same run. See bench/README.md.
//
//	go run ./bench/load --scenario users --users 50
//	go run ./bench/load --scenario ramp --ramp 5,10,20,40,80 --step 10s
//	go run ./bench/load --scenario research --tabs 1,5
//	go run ./bench/load --scenario latency
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/groundwork-dev/groundwork/bench/internal/benchstack"
	"github.com/groundwork-dev/groundwork/internal/testkit/llmfake"
)

// Bounds on what one invocation may do, so a typo cannot turn the tool into
// an hour-long flood of a shared machine.
const (
	maxUsers     = 5000
	maxDuration  = 30 * time.Minute
	maxRampRate  = 1000.0
	maxRampSteps = 20
	maxStep      = 10 * time.Minute
	maxTabs      = 20
	maxTabCounts = 8
)

// options are the parsed command-line flags.
type options struct {
	scenario     string
	users        int
	duration     time.Duration
	ramp         []float64
	step         time.Duration
	apiURL       string
	databaseURL  string
	temporalAddr string
	namespace    string
	pgFast       bool
	temporalDB   string
	groundwork   string
	serverEnv    []string
	raw          bool
	drainTimeout time.Duration
	jsonFile     string
	keep         bool
	iterations   int
	generations  int
	llmTPM       int
	genMaxTokens int
	tabs         []int
	pageDelay    time.Duration
	renderDelay  time.Duration
	domainRate   float64
	// latencyResearch is how many researches the latency scenario times.
	latencyResearch int
	// cluster starts a dev-cluster; clusterJSON targets a running one;
	// sampleEvery is the soak sampler's interval with either.
	cluster     bool
	clusterJSON string
	temporalCLI string
	sampleEvery time.Duration
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// A second Ctrl-C should still kill us if cleanup hangs: restore the
	// default handling as soon as the first one arrived.
	go func() { <-ctx.Done(); stop() }()
	if err := run(ctx, os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(2)
		}
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	o, err := parseFlags(args)
	if err != nil {
		return err
	}
	// Hard ceiling on the whole run: the planned attack time plus room for
	// starting the stack, creating users, draining and the raw baseline.
	ctx, cancel := context.WithTimeout(ctx, o.plannedAttackTime()*2+15*time.Minute)
	defer cancel()

	if o.scenario == "research" || (o.scenario == "latency" && o.latencyResearch > 0) {
		if err := checkChrome(o); err != nil {
			return err
		}
	}
	var fake *llmfake.Server
	if o.scenario == "generate" {
		var env []string
		fake, env = startGenerateFake(o)
		defer fake.Close()
		o.serverEnv = append(o.serverEnv, env...)
	}
	var ct *clusterTarget
	var st *benchstack.Stack
	if o.cluster || o.clusterJSON != "" {
		st, ct, err = startClusterStack(ctx, o)
		if err != nil {
			return err
		}
		defer ct.stop()
	} else {
		st, err = startStack(ctx, o)
		if err != nil {
			return err
		}
		defer st.Stop()
	}

	env, err := openEnv(ctx, o, st)
	if err != nil {
		return err
	}
	defer env.close()
	if ct != nil {
		env.soak = newSoakSampler(ct.statePath, o.sampleEvery)
	}

	var res *Results
	switch o.scenario {
	case "users":
		res, err = runUsers(ctx, env, o)
	case "ramp":
		res, err = runRamp(ctx, env, o)
	case "report":
		res, err = runReport(ctx, env, o)
	case "generate":
		res, err = runGenerate(ctx, env, o, fake)
	case "research":
		res, err = runResearch(ctx, env, o, st)
	case "latency":
		res, err = runLatency(ctx, env, o, st)
	}
	if err != nil {
		return err
	}
	res.At, res.Host, res.Stack = time.Now().UTC(), hostInfo(), describe(st, o)
	if ct != nil {
		res.Stack.Mode = "dev-cluster --api-replicas 2 --workers 2 (" + ct.statePath + ")"
		if ct.own == nil {
			res.Stack.Mode = "running dev-cluster (" + ct.statePath + ")"
		}
	}
	printResults(os.Stdout, res)
	if o.jsonFile != "" {
		if err := writeJSON(o.jsonFile, res); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "results written to %s\n", o.jsonFile)
	}
	if ctx.Err() != nil {
		return fmt.Errorf("stopped early; the figures above are partial: %w", context.Cause(ctx))
	}
	if r := res.Research; r != nil && !r.Pass {
		return fmt.Errorf("research: the bar was not met (%s)", r.Criteria)
	}
	if r := res.Latency; r != nil && !r.Pass {
		return fmt.Errorf("latency: the bar was not met (%s)", r.Criteria)
	}
	return nil
}

func parseFlags(args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	fs.StringVar(&o.scenario, "scenario", "users", "users | ramp | report | generate | research | latency")
	fs.IntVar(&o.generations, "generations", 200, "generate scenario: generations started at once")
	fs.IntVar(&o.llmTPM, "llm-tpm", 10_000, "generate scenario: tokens per minute, for Groundwork and the fake provider alike")
	fs.IntVar(&o.genMaxTokens, "max-tokens", 150, "generate scenario: max_tokens of each generation")
	fs.IntVar(&o.iterations, "iterations", 20, "report scenario: renders and end-to-end exports of the 20-page report; latency scenario: rounds of each measurement (default 100 there); research scenario: researches per tab count (default 3 there)")
	tabsFlag := fs.String("tabs", "1,5", "research scenario: GROUNDWORK_RESEARCH_TABS values to compare, one worker start each")
	fs.DurationVar(&o.pageDelay, "page-delay", time.Second, "research scenario: how long the test site's content API takes to answer each page's script (network and backend latency)")
	fs.DurationVar(&o.renderDelay, "render-delay", 200*time.Millisecond, "research scenario: how long each page's script waits before fetching its content (the worker captures a page after 500 ms of network quiet, so from 500ms on it captures the page before its content)")
	fs.IntVar(&o.latencyResearch, "latency-research", 2, "latency scenario: researches of the 20-page test site at the default politeness (0: none)")
	fs.Float64Var(&o.domainRate, "domain-rate", 0, "research scenario: GROUNDWORK_RESEARCH_DOMAIN_RATE, requests/s per domain (0 = off; the product's default is 1)")
	fs.IntVar(&o.users, "users", 50, "users scenario: simulated users (each starts an export every 60s and polls it every 2s)")
	fs.DurationVar(&o.duration, "duration", 60*time.Second, "users scenario: how long to attack")
	rampFlag := fs.String("ramp", "5,10,20,40,80", "ramp scenario: POST /v1/exports rates per second, one step each")
	fs.DurationVar(&o.step, "step", 10*time.Second, "ramp scenario: duration of each step")
	fs.StringVar(&o.apiURL, "api", "", "attack this running API (loopback only) instead of starting a stack")
	fs.StringVar(&o.apiURL, "url", "", "the same as --api (with --cluster-json: instead of the cluster's load balancer)")
	fs.BoolVar(&o.cluster, "cluster", false, "users scenario: start `groundwork dev-cluster --api-replicas 2 --workers 2` on free ports in a temp dir, attack its nginx and sample every process's RSS (the soak; no raw baseline)")
	fs.StringVar(&o.clusterJSON, "cluster-json", "", "users scenario: attack the running dev-cluster of this cluster.json (its nginx unless --url) and sample its processes' RSS")
	fs.StringVar(&o.temporalCLI, "temporal-cli", "bin/temporal", "with --cluster: the temporal CLI (make tools)")
	fs.DurationVar(&o.sampleEvery, "sample-every", time.Minute, "with --cluster or --cluster-json: the soak's sampling interval (p95 and RSS)")
	fs.StringVar(&o.databaseURL, "database-url", os.Getenv("DATABASE_URL"), "with --api: its Postgres, for bench users and the raw baseline")
	fs.StringVar(&o.temporalAddr, "temporal-address", os.Getenv("TEMPORAL_ADDRESS"), "with --api: its Temporal frontend, for the raw baseline")
	fs.StringVar(&o.namespace, "namespace", "default", "Temporal namespace of the raw baseline (with --api)")
	fs.BoolVar(&o.pgFast, "pg-fast", false, "start Postgres without fsync (faster, unlike make dev)")
	fs.StringVar(&o.temporalDB, "temporal-db", "file", "file (WAL SQLite, like make dev) | memory")
	fs.StringVar(&o.groundwork, "groundwork-bin", "", "groundwork binary to run (default: build ./cmd/groundwork into the temp dir)")
	fs.Func("server-env", "KEY=VALUE passed to the groundwork process (repeatable), e.g. GROUNDWORK_EAGER_START=true", func(s string) error {
		if !strings.Contains(s, "=") {
			return errors.New("want KEY=VALUE")
		}
		o.serverEnv = append(o.serverEnv, s)
		return nil
	})
	fs.BoolVar(&o.raw, "raw", true, "also measure the raw Temporal start + Postgres insert baseline")
	fs.DurationVar(&o.drainTimeout, "drain-timeout", 3*time.Minute, "longest wait for the API's workflows to finish before the raw baseline")
	fs.StringVar(&o.jsonFile, "json", "", "also write the results as JSON to this file")
	fs.BoolVar(&o.keep, "keep", false, "keep the temp dir (logs, data) of a stack this tool started")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	var err error
	if o.ramp, err = parseRamp(*rampFlag); err != nil {
		return o, err
	}
	if o.tabs, err = parseTabs(*tabsFlag); err != nil {
		return o, err
	}
	if o.scenario == "research" {
		set := false
		fs.Visit(func(f *flag.Flag) { set = set || f.Name == "iterations" })
		if !set {
			o.iterations = 3
		}
		o.serverEnv = append(o.serverEnv, researchServerEnv(o)...)
	}
	if o.scenario == "latency" {
		set := false
		fs.Visit(func(f *flag.Flag) { set = set || f.Name == "iterations" })
		if !set {
			o.iterations = 100
		}
		if o.latencyResearch > 0 {
			// The test site is on loopback; the product's default politeness
			// (1 request/s per domain) stays.
			o.serverEnv = append(o.serverEnv, "GROUNDWORK_RESEARCH_ALLOW_CIDRS=127.0.0.1/32")
		}
	}
	if o.apiURL == "" {
		// Every simulated user comes from 127.0.0.1: the per-address limit
		// before authentication (200/s by default) would count them all as
		// one client. The per-user limits still hold.
		o.serverEnv = append(o.serverEnv, "GROUNDWORK_IP_RATE_PER_SECOND=1000000")
	}
	if (o.scenario == "report" || o.scenario == "latency") && o.apiURL == "" {
		// These scenarios poll each run every 10–20 ms to time it
		// closely, which the per-user limits would refuse.
		o.serverEnv = append(o.serverEnv, "GROUNDWORK_RATE_PER_SECOND=100000", "GROUNDWORK_RATE_PER_MINUTE=1000000")
	}
	if o.cluster || o.clusterJSON != "" {
		// The raw baseline would take as long again; a soak measures the
		// cluster over time, not against a bare start.
		o.raw = false
	}
	return o, o.validate()
}

func parseRamp(s string) ([]float64, error) {
	var rates []float64
	for _, f := range strings.Split(s, ",") {
		r, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil || r <= 0 || r > maxRampRate {
			return nil, fmt.Errorf("--ramp: %q is not a rate in (0, %g]", f, maxRampRate)
		}
		rates = append(rates, r)
	}
	if len(rates) > maxRampSteps {
		return nil, fmt.Errorf("--ramp: at most %d steps", maxRampSteps)
	}
	return rates, nil
}

func parseTabs(s string) ([]int, error) {
	var tabs []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || n > maxTabs {
			return nil, fmt.Errorf("--tabs: %q is not a tab count in 1..%d", f, maxTabs)
		}
		tabs = append(tabs, n)
	}
	if len(tabs) > maxTabCounts {
		return nil, fmt.Errorf("--tabs: at most %d counts", maxTabCounts)
	}
	return tabs, nil
}

func (o options) validate() error {
	switch o.scenario {
	case "users", "ramp":
	case "generate":
		if o.apiURL != "" {
			return fmt.Errorf("--scenario generate starts its own stack pointed at a fake provider; drop --api")
		}
		if o.generations < 1 || o.generations > 2000 || o.llmTPM < 100 || o.genMaxTokens < 1 {
			return fmt.Errorf("--generations 1..2000, --llm-tpm ≥ 100 and --max-tokens ≥ 1")
		}
	case "report":
		if o.iterations < 1 || o.iterations > 200 {
			return fmt.Errorf("--iterations: want 1..200")
		}
	case "latency":
		if o.iterations < 1 || o.iterations > 1000 {
			return fmt.Errorf("--iterations: want 1..1000 rounds")
		}
		if o.latencyResearch < 0 || o.latencyResearch > 10 {
			return fmt.Errorf("--latency-research: want 0..10 researches")
		}
	case "research":
		if o.apiURL != "" {
			return fmt.Errorf("--scenario research restarts its own worker with each tab count; drop --api")
		}
		if o.iterations < 1 || o.iterations > 20 {
			return fmt.Errorf("--iterations: want 1..20 researches per tab count")
		}
		if o.pageDelay < 0 || o.pageDelay > 10*time.Second || o.renderDelay < 0 || o.renderDelay > 10*time.Second {
			return fmt.Errorf("--page-delay and --render-delay: want 0..10s")
		}
		if o.domainRate < 0 {
			return fmt.Errorf("--domain-rate: want requests per second ≥ 0")
		}
	default:
		return fmt.Errorf("--scenario: %q is not users, ramp, report, generate or research", o.scenario)
	}
	if o.users < 1 || o.users > maxUsers {
		return fmt.Errorf("--users: want 1..%d", maxUsers)
	}
	if o.duration < time.Second || o.duration > maxDuration {
		return fmt.Errorf("--duration: want 1s..%s", maxDuration)
	}
	if o.step < time.Second || o.step > maxStep {
		return fmt.Errorf("--step: want 1s..%s", maxStep)
	}
	if o.cluster || o.clusterJSON != "" {
		if o.scenario != "users" {
			return errors.New("--cluster and --cluster-json go with --scenario users")
		}
		if o.cluster && o.clusterJSON != "" {
			return errors.New("--cluster starts a cluster, --cluster-json targets a running one: not both")
		}
		if o.cluster && o.apiURL != "" {
			return errors.New("--cluster attacks the nginx of the cluster it starts: drop --api/--url")
		}
		if o.sampleEvery < time.Second || o.sampleEvery > o.duration {
			return fmt.Errorf("--sample-every: want 1s..--duration")
		}
		if o.apiURL != "" {
			u, err := url.Parse(o.apiURL)
			if err != nil || u.Host == "" {
				return fmt.Errorf("--url: %q is not a URL", o.apiURL)
			}
			return requireLoopback("--url", u.Hostname())
		}
		return nil
	}
	if o.temporalDB != "file" && o.temporalDB != "memory" {
		return fmt.Errorf("--temporal-db: %q is neither file nor memory", o.temporalDB)
	}
	if o.apiURL == "" {
		return nil
	}
	// Load goes to this machine only: refuse anything that is not loopback.
	u, err := url.Parse(o.apiURL)
	if err != nil || u.Host == "" {
		return fmt.Errorf("--api: %q is not a URL", o.apiURL)
	}
	if err := requireLoopback("--api", u.Hostname()); err != nil {
		return err
	}
	if o.databaseURL == "" || o.temporalAddr == "" {
		return errors.New("--api needs --database-url and --temporal-address (or DATABASE_URL and TEMPORAL_ADDRESS) for bench users and the raw baseline")
	}
	d, err := url.Parse(o.databaseURL)
	if err != nil {
		return fmt.Errorf("--database-url: %w", err)
	}
	if err := requireLoopback("--database-url", d.Hostname()); err != nil {
		return err
	}
	host, _, err := net.SplitHostPort(o.temporalAddr)
	if err != nil {
		return fmt.Errorf("--temporal-address: %w", err)
	}
	return requireLoopback("--temporal-address", host)
}

func requireLoopback(flagName, host string) error {
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("%s: host %q is not loopback; this tool only loads 127.0.0.1", flagName, host)
}

// plannedAttackTime is how long the attacks themselves should take.
func (o options) plannedAttackTime() time.Duration {
	var d time.Duration
	switch o.scenario {
	case "users":
		d = o.duration
	case "research":
		// Even one page at a time at 1 page/s, 20 pages take well under
		// two minutes.
		return time.Duration(len(o.tabs)*o.iterations) * 2 * time.Minute
	case "latency":
		// Three runs of well under a second and three think times a round,
		// and researches of about 25 s.
		return time.Duration(o.iterations)*2*time.Second + time.Duration(o.latencyResearch)*time.Minute
	case "generate":
		// Prompt and answer of one generation stay well under 500 tokens.
		return time.Duration(float64(o.generations*(o.genMaxTokens+500)) / float64(o.llmTPM) * float64(time.Minute))
	default:
		d = o.step * time.Duration(len(o.ramp))
	}
	if o.raw {
		d *= 2
	}
	return d
}
