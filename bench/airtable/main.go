// Command airtable checks the Airtable sync against issue 6's bars on a
// throwaway stack and an in-process fake Airtable with scaled-down rate
// limits: 10,000 records a side with 5,000 shared keys, a dry run, an
// initial sync, 200 edits a side (50 conflicting), a second sync and a
// third that should change nothing. It prints per sync what was read,
// decided and requested, the wall time against the rate-limit floor, and
// whether both sides and the audit log hold what the policy dictates.
// See bench/README.md.
//
//	go run ./bench/airtable
//	go run ./bench/airtable --rate 20 --json airtable.json
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/groundwork-dev/groundwork/bench/internal/benchstack"
	"github.com/groundwork-dev/groundwork/db"
	"github.com/groundwork-dev/groundwork/internal/apikey"
	"github.com/groundwork-dev/groundwork/internal/testkit/airtablefake"
)

// options are the parsed command-line flags.
type options struct {
	rate      int
	lockout   time.Duration
	records   int
	overlap   int
	edits     int
	conflicts int
	seed      uint64
	maxRatio  float64
	poll      time.Duration
	timeout   time.Duration
	jsonFile  string
	keep      bool
	pgFast    bool
	// pgRows > 0 runs the big scenario (big.go) instead of issue 6's.
	pgRows  int
	changes int
	// groundwork is a prebuilt binary; empty builds ./cmd/groundwork.
	groundwork string
}

// errBarFailed makes the exit status 1 after the report was printed.
var errBarFailed = errors.New("a bar failed")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() { <-ctx.Done(); stop() }()
	if err := run(ctx, os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(2)
		}
		if !errors.Is(err, errBarFailed) {
			fmt.Fprintln(os.Stderr, "airtable:", err)
		}
		os.Exit(1)
	}
}

func parseFlags(args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("airtable", flag.ContinueOnError)
	fs.IntVar(&o.rate, "rate", 50, "the fake's and the worker's requests per second per base (per token: 10×)")
	fs.DurationVar(&o.lockout, "lockout", 2*time.Second, "the fake's lockout after a 429, and the worker's wait for it")
	fs.IntVar(&o.records, "records", 10000, "records on each side before the first sync")
	fs.IntVar(&o.overlap, "overlap", 5000, "keys on both sides before the first sync")
	fs.IntVar(&o.edits, "edits", 200, "edits on each side before the second sync")
	fs.IntVar(&o.conflicts, "conflicts", 50, "of the edits, keys edited on the same field on both sides")
	fs.Uint64Var(&o.seed, "seed", 1, "seed of the choice of edited keys")
	fs.Float64Var(&o.maxRatio, "max-ratio", 1.1, "the bar: wall time ÷ rate-limit floor")
	fs.DurationVar(&o.poll, "poll", 50*time.Millisecond, "how often the run is polled (bounds the wall time's error)")
	fs.DurationVar(&o.timeout, "timeout", 30*time.Minute, "give up after this long")
	fs.StringVar(&o.jsonFile, "json", "", "also write the figures as JSON to this file")
	fs.BoolVar(&o.keep, "keep", false, "keep the temp dir with the stack's logs")
	fs.BoolVar(&o.pgFast, "pg-fast", false, "run Postgres with fsync off (default: on, like make dev)")
	fs.IntVar(&o.pgRows, "pg-rows", 0, "run the big scenario instead: one incremental sync of a Postgres table of this many rows (bigint key), already in sync, after --changes edits")
	fs.IntVar(&o.changes, "changes", 1000, "big scenario: edited keys, half in Airtable and half in Postgres (the fake also holds --records other records)")
	fs.StringVar(&o.groundwork, "groundwork-bin", "", "use this groundwork binary instead of building ./cmd/groundwork")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	switch {
	case o.rate < 1 || o.rate > 1000:
		return o, errors.New("--rate must be 1 to 1000")
	case o.records < 1 || o.records > 100000:
		return o, errors.New("--records must be 1 to 100000")
	case o.overlap < 0 || o.overlap > o.records:
		return o, errors.New("--overlap must be 0 to --records")
	case o.edits-o.conflicts < 15 || o.conflicts < 0:
		return o, errors.New("--edits must exceed --conflicts by at least 15 (ten direction-blocked edits and five clears a side)")
	case o.conflicts+2*(o.edits-o.conflicts) > 2*o.records-o.overlap:
		return o, errors.New("more edited keys than keys")
	case o.pgRows < 0 || o.pgRows > 100_000_000:
		return o, errors.New("--pg-rows must be 0 to 100000000")
	case o.pgRows > 0 && (o.changes < 2 || o.changes > o.pgRows):
		return o, errors.New("--changes must be 2 to --pg-rows")
	case o.lockout <= 0:
		return o, errors.New("--lockout must be positive")
	}
	return o, nil
}

func run(ctx context.Context, args []string) error {
	o, err := parseFlags(args)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()

	// Before the build, which takes the working tree as it is then.
	version := sourceVersion()
	d := newDataset(o.records, o.overlap)
	m := newModel()
	fake := newFake(o)
	defer fake.Close()
	tables := "public.contacts@bench-airtable"
	if o.pgRows > 0 {
		createBigTable(fake)
		tables += "," + bigAllowTable
	} else {
		logf("seeding %d Airtable records…", d.atN)
		seedAirtable(fake, d, m)
	}
	proxy, err := newClassifier(fake.URL())
	if err != nil {
		return err
	}
	defer proxy.Close()

	st, err := benchstack.Start(ctx, benchstack.Options{
		TempPrefix: "groundwork-bench-airtable-",
		Groundwork: o.groundwork,
		Keep:       o.keep,
		PGFast:     o.pgFast,
		Logf:       logf,
		ServerEnv: []string{
			"AIRTABLE_API_URL=" + proxy.URL(),
			"AIRTABLE_TOKEN=" + airtablefake.DefaultToken,
			"GROUNDWORK_AIRTABLE_BASES=" + baseID,
			"GROUNDWORK_AIRTABLE_TABLES=" + tables,
			"GROUNDWORK_AIRTABLE_REQUESTS_PER_BASE=" + strconv.Itoa(o.rate),
			"GROUNDWORK_AIRTABLE_REQUESTS_PER_TOKEN=" + strconv.Itoa(10*o.rate),
			"GROUNDWORK_AIRTABLE_LOCKOUT=" + o.lockout.String(),
			// The bench polls its runs; the per-user API limits are not
			// what is measured.
			"GROUNDWORK_RATE_PER_SECOND=1000",
			"GROUNDWORK_RATE_PER_MINUTE=100000",
		},
	})
	if err != nil {
		return err
	}
	defer st.Stop()
	pool, err := db.Open(ctx, st.DatabaseURL, db.PoolConfig{MaxConns: 4})
	if err != nil {
		return fmt.Errorf("bench postgres pool: %w", err)
	}
	defer pool.Close()
	if err := createCustomers(ctx, pool); err != nil {
		return err
	}
	var big bigState
	if o.pgRows > 0 {
		if big, err = loadBig(ctx, pool, fake, o); err != nil {
			return err
		}
	} else {
		logf("seeding %d Postgres rows…", d.pgN)
		if err := seedPostgres(ctx, pool, d, m); err != nil {
			return err
		}
	}
	_, token, err := apikey.Create(ctx, pool, apikey.Spec{User: "bench-airtable", Name: "bench/airtable"})
	if err != nil {
		return fmt.Errorf("create bench user: %w", err)
	}
	c := &apiClient{base: st.APIURL, token: token, hc: &http.Client{Timeout: 30 * time.Second}}
	body := mappingBody()
	if o.pgRows > 0 {
		body = bigMappingBody()
	}
	mappingID, err := c.createMapping(ctx, body)
	if err != nil {
		return err
	}
	if o.pgRows > 0 {
		if err := linkBig(ctx, pool, big, mappingID); err != nil {
			return err
		}
	}

	hist, err := newHistoryReader(ctx, st.TemporalAddress)
	if err != nil {
		return err
	}
	defer hist.Close()
	b := &bench{o: o, c: c, fake: fake, proxy: proxy, hist: hist, mappingID: mappingID}
	rep := &report{At: time.Now().UTC(), Settings: settings{
		Commit: version, Rate: o.rate, RatePerToken: 10 * o.rate, Lockout: o.lockout.String(), Records: o.records, Overlap: o.overlap,
		EditsPerSide: o.edits, Conflicts: o.conflicts, MaxRatio: o.maxRatio, PostgresFsync: !o.pgFast, PollIntervalMs: o.poll.Milliseconds(),
		PostgresRows: o.pgRows, Changes: o.changes,
	}}
	// Whatever the scenario got to is reported, also when it stopped on an
	// error of the bench itself.
	var serr error
	if o.pgRows > 0 {
		serr = b.bigScenario(ctx, pool, big, rep)
	} else {
		serr = b.scenario(ctx, pool, d, m, rep)
	}
	rep.Pass = serr == nil
	for _, ch := range rep.Checks {
		if ch.Bar && !ch.OK {
			rep.Pass = false
		}
	}
	rep.print(os.Stdout)
	if o.jsonFile != "" {
		if err := rep.writeJSON(o.jsonFile); err != nil {
			return err
		}
	}
	if serr != nil {
		return serr
	}
	if !rep.Pass {
		return errBarFailed
	}
	return nil
}

// logf reports progress on stderr, keeping stdout for the results.
func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "airtable: "+format+"\n", args...)
}
