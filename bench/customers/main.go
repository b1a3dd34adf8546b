// Command customers measures the customer-success features of issue 14
// on a throwaway stack: it seeds one workspace with customers (through the
// API), milestones and an assessment definition (through the API), a
// million tracked events (straight into Postgres with db.IngestEvents, as
// seeding is not what is measured) and some assessments, then measures
//
//   - reads at that volume, after the hourly and daily rollups ran:
//     progress, insights and the analytics overview;
//   - ingest through POST /v1/track: 1,000-event batches from concurrent
//     clients back to back (events/s sustained, the latency of a batch),
//     then the latency at the goal's rate of 5,000 events/s, and the same
//     pace through db.IngestEvents in process as a baseline;
//   - assessments: POST /v1/assessments, each polled until it succeeded,
//     runs/s and POST → succeeded.
//
// See bench/README.md.
//
//	go run ./bench/customers
//	go run ./bench/customers --customers 200 --events 50000 --assessments-bench 500
//	go run ./bench/customers --skip-ingest --skip-reads --events 0 --assessments 0
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/groundwork-dev/groundwork/bench/internal/benchstack"
	"github.com/groundwork-dev/groundwork/bench/internal/phase"
	"github.com/groundwork-dev/groundwork/db"
	"github.com/groundwork-dev/groundwork/internal/apikey"
)

// Bounds on one invocation, so that a typo cannot fill the disk or keep
// a shared machine busy for hours.
const (
	maxCustomers   = 100_000
	maxEvents      = 20_000_000
	maxAssessments = 100_000
	maxBatches     = 100_000
	maxClients     = 256
)

// options are the parsed command-line flags.
type options struct {
	customers   int
	events      int
	assessments int
	seedBatch   int
	seedWorkers int
	seed        uint64
	vacuum      bool

	ingestBatches int
	ingestBatch   int
	ingestClients int
	ingestRate    float64
	ingestRaw     bool

	reads       int
	readClients int

	assessBench       int
	assessConcurrency int
	poll              time.Duration

	skipIngest      bool
	skipReads       bool
	skipAssessments bool

	jsonFile   string
	keep       bool
	pgFast     bool
	groundwork string
	serverEnv  []string
	timeout    time.Duration
	quietWait  time.Duration
}

// errGoalMissed makes the exit status 1 after the report was printed.
var errGoalMissed = errors.New("a goal was missed")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// A second Ctrl-C kills us if cleanup hangs.
	go func() { <-ctx.Done(); stop() }()
	if err := run(ctx, os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(2)
		}
		if !errors.Is(err, errGoalMissed) {
			fmt.Fprintln(os.Stderr, "customers:", err)
		}
		os.Exit(1)
	}
}

func parseFlags(args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("customers", flag.ContinueOnError)
	fs.IntVar(&o.customers, "customers", 2000, "customers created through POST /v1/customers")
	fs.IntVar(&o.events, "events", 1_000_000, "events seeded straight into Postgres (db.IngestEvents)")
	fs.IntVar(&o.assessments, "assessments", 500, "assessments seeded through the API before the reads (not measured)")
	fs.IntVar(&o.seedBatch, "seed-batch", 5000, "events per db.IngestEvents call while seeding")
	fs.IntVar(&o.seedWorkers, "seed-workers", 4, "concurrent db.IngestEvents calls while seeding")
	fs.Uint64Var(&o.seed, "seed", 1, "seed of the generated data")
	fs.BoolVar(&o.vacuum, "vacuum", true, "VACUUM (ANALYZE) the database after seeding, as autovacuum would have by then")
	fs.IntVar(&o.ingestBatches, "ingest-batches", 300, "ingest benchmark: POST /v1/track batches")
	fs.IntVar(&o.ingestBatch, "ingest-batch", 1000, "ingest benchmark: events per batch (the API takes at most 1000)")
	fs.IntVar(&o.ingestClients, "ingest-clients", 4, "ingest benchmark: concurrent clients of the closed-loop run")
	fs.Float64Var(&o.ingestRate, "ingest-rate", goalIngestPerSecond, "ingest benchmark: events/s of the paced run that follows the closed-loop one (0: none)")
	fs.BoolVar(&o.ingestRaw, "ingest-raw", true, "ingest benchmark: after the paced run, the same pace through db.IngestEvents in process (the transaction alone)")
	fs.IntVar(&o.reads, "reads", 500, "read benchmark: requests per endpoint")
	fs.IntVar(&o.readClients, "read-clients", 4, "read benchmark: concurrent clients")
	fs.IntVar(&o.assessBench, "assessments-bench", 10000, "assessment benchmark: assessments posted and waited for")
	fs.IntVar(&o.assessConcurrency, "assessment-concurrency", 16, "assessment benchmark: assessments in flight at once (each client posts, polls until closed, posts the next)")
	fs.DurationVar(&o.poll, "poll", 20*time.Millisecond, "assessment benchmark: GET /v1/runs/{id} interval of each run in flight")
	fs.BoolVar(&o.skipIngest, "skip-ingest", false, "skip the ingest benchmark")
	fs.BoolVar(&o.skipReads, "skip-reads", false, "skip the rollups and the read benchmark")
	fs.BoolVar(&o.skipAssessments, "skip-assessments", false, "skip the assessment benchmark")
	fs.StringVar(&o.jsonFile, "json", "", "also write the figures as JSON to this file")
	fs.BoolVar(&o.keep, "keep", false, "keep the temp dir with the stack's logs and data")
	fs.BoolVar(&o.pgFast, "pg-fast", false, "run Postgres with fsync off (default: on, like make dev)")
	fs.StringVar(&o.groundwork, "groundwork-bin", "", "use this groundwork binary instead of building ./cmd/groundwork")
	fs.Func("server-env", "KEY=VALUE passed to the groundwork process after the bench's own (repeatable)", func(s string) error {
		if !strings.Contains(s, "=") {
			return errors.New("want KEY=VALUE")
		}
		o.serverEnv = append(o.serverEnv, s)
		return nil
	})
	fs.DurationVar(&o.timeout, "timeout", 90*time.Minute, "give up after this long")
	fs.DurationVar(&o.quietWait, "quiet-wait", 5*time.Minute, "before each measured phase, wait up to this long for other work on the machine to stop (0: don't)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	return o, o.validate()
}

func (o options) validate() error {
	switch {
	case o.customers < 1 || o.customers > maxCustomers:
		return fmt.Errorf("--customers: want 1..%d", maxCustomers)
	case o.events < 0 || o.events > maxEvents:
		return fmt.Errorf("--events: want 0..%d", maxEvents)
	case o.assessments < 0 || o.assessments > maxAssessments:
		return fmt.Errorf("--assessments: want 0..%d", maxAssessments)
	case o.seedBatch < 1 || o.seedBatch > 50_000:
		return errors.New("--seed-batch: want 1..50000")
	case o.seedWorkers < 1 || o.seedWorkers > 32:
		return errors.New("--seed-workers: want 1..32")
	case o.ingestBatches < 1 || o.ingestBatches > maxBatches:
		return fmt.Errorf("--ingest-batches: want 1..%d", maxBatches)
	case o.ingestBatch < 1 || o.ingestBatch > 1000:
		return errors.New("--ingest-batch: want 1..1000")
	case o.ingestClients < 1 || o.ingestClients > maxClients:
		return fmt.Errorf("--ingest-clients: want 1..%d", maxClients)
	case o.ingestRate < 0 || o.ingestRate > 1_000_000:
		return errors.New("--ingest-rate: want 0..1000000 events/s")
	case o.reads < 1 || o.reads > 100_000:
		return errors.New("--reads: want 1..100000")
	case o.readClients < 1 || o.readClients > maxClients:
		return fmt.Errorf("--read-clients: want 1..%d", maxClients)
	case o.assessBench < 1 || o.assessBench > maxAssessments:
		return fmt.Errorf("--assessments-bench: want 1..%d", maxAssessments)
	case o.assessConcurrency < 1 || o.assessConcurrency > maxClients:
		return fmt.Errorf("--assessment-concurrency: want 1..%d", maxClients)
	case o.poll < time.Millisecond || o.poll > 10*time.Second:
		return errors.New("--poll: want 1ms..10s")
	case o.quietWait < 0:
		return errors.New("--quiet-wait must not be negative")
	case o.timeout <= 0:
		return errors.New("--timeout must be positive")
	}
	return nil
}

// stackEnv lifts the API's per-caller limits, which the bench is not
// about (one integration's key sends every batch), then adds --server-env.
func (o options) stackEnv() []string {
	env := []string{
		"GROUNDWORK_RATE_PER_SECOND=1000000",
		"GROUNDWORK_RATE_PER_MINUTE=100000000",
		"GROUNDWORK_IP_RATE_PER_SECOND=1000000",
		"GROUNDWORK_MAX_OPEN_RUNS=1000000",
	}
	return append(env, o.serverEnv...)
}

func run(ctx context.Context, args []string) error {
	o, err := parseFlags(args)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()

	// Before the build, which takes the working tree as it is then.
	rep := newReport(o, sourceVersion())
	st, err := benchstack.Start(ctx, benchstack.Options{
		TempPrefix: "groundwork-bench-customers-",
		Groundwork: o.groundwork,
		Keep:       o.keep,
		PGFast:     o.pgFast,
		ServerEnv:  o.stackEnv(),
		Logf:       logf,
	})
	if err != nil {
		return err
	}
	defer st.Stop()
	pool, err := db.Open(ctx, st.DatabaseURL, db.PoolConfig{MaxConns: int32(o.seedWorkers + 4)})
	if err != nil {
		return fmt.Errorf("bench postgres pool: %w", err)
	}
	defer pool.Close()
	_, token, err := apikey.Create(ctx, pool, apikey.Spec{User: benchUser, Workspace: benchWorkspace, Role: "admin", Name: "bench/customers"})
	if err != nil {
		return fmt.Errorf("create bench API key: %w", err)
	}
	b := &bench{o: o, c: newClient(st.APIURL, token, max(o.ingestClients, o.readClients, o.assessConcurrency, 32)), pool: pool, rep: rep, timer: &phase.Timer{PGPID: st.PostgresPID(), QuietWait: o.quietWait, Logf: logf}}
	b.timer.Record = func(u phase.CPUUse) { b.rep.CPU = append(b.rep.CPU, u) }

	// Whatever the phases got to is reported, also when one stopped on an
	// error of the bench itself.
	perr := b.phases(ctx)
	rep.finish()
	rep.print(os.Stdout)
	if o.jsonFile != "" {
		if err := rep.writeJSON(o.jsonFile); err != nil {
			return err
		}
		logf("results written to %s", o.jsonFile)
	}
	if perr != nil {
		return perr
	}
	if !rep.AllGoalsMet {
		return errGoalMissed
	}
	return nil
}

// phases seeds, then runs each benchmark not skipped.
func (b *bench) phases(ctx context.Context) error {
	if err := b.seed(ctx); err != nil {
		return err
	}
	if !b.o.skipReads {
		if err := b.readBench(ctx); err != nil {
			return err
		}
	}
	if !b.o.skipIngest {
		if err := b.ingestBench(ctx); err != nil {
			return err
		}
	}
	if !b.o.skipAssessments {
		if err := b.assessmentBench(ctx); err != nil {
			return err
		}
	}
	return nil
}

// logf reports progress on stderr, keeping stdout for the results.
func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "customers: "+format+"\n", args...)
}
