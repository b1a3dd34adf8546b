// Command webhooks measures Groundwork's webhooks on a throwaway stack:
//
//   - inbound: a Standard Webhooks source whose action tracks an event for
//     a customer; senders POST signed messages to /hooks/{source_id}, first
//     --senders (50) of them back to back (closed loop: the acceptance
//     latency with that many messages always in flight), then paced at
//     --inbound-rate; per request p50/p95/p99/max, messages accepted per
//     second, and the time until every message was acted on (its event
//     ingested, the message marked done);
//   - outbound: an endpoint at --endpoint-rate deliveries/s pointing at a
//     fast loopback receiver (204, Standard Webhooks signature checked,
//     unique webhook-ids counted); events written to the outbox with
//     db.EnqueueEvent, one transaction each, first all at once (the
//     deliveries/s from the first enqueue to the last receipt), then paced
//     at --outbound-rate; the lag from each event's commit to its receipt.
//
// See bench/README.md.
//
//	go run ./bench/webhooks
//	go run ./bench/webhooks --messages 2000 --paced-messages 500 --outbound 500 --paced-outbound 200
//	go run ./bench/webhooks --skip-outbound --json inbound.json
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
	maxMessages = 1_000_000
	maxSenders  = 1000
	maxRate     = 10_000.0
)

// options are the parsed command-line flags.
type options struct {
	customers int

	messages      int
	senders       int
	pacedMessages int
	inboundRate   float64

	outbound       int
	enqueueClients int
	pacedOutbound  int
	outboundRate   float64
	endpointRate   int

	skipInbound  bool
	skipOutbound bool

	settleTimeout time.Duration
	jsonFile      string
	keep          bool
	pgFast        bool
	groundwork    string
	serverEnv     []string
	timeout       time.Duration
	quietWait     time.Duration
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
			fmt.Fprintln(os.Stderr, "webhooks:", err)
		}
		os.Exit(1)
	}
}

func parseFlags(args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("webhooks", flag.ContinueOnError)
	fs.IntVar(&o.customers, "customers", 100, "customers created through POST /v1/customers; inbound messages track events for them in turn")
	fs.IntVar(&o.messages, "messages", 10_000, "inbound, closed loop: messages sent, --senders at a time, each sender sending its next when the last was answered (0: no closed-loop run, nor its goal)")
	fs.IntVar(&o.senders, "senders", goalSenders, "inbound, closed loop: concurrent senders")
	fs.IntVar(&o.pacedMessages, "paced-messages", 3000, "inbound, paced: messages sent at --inbound-rate, whatever the latency (0: no paced run)")
	fs.Float64Var(&o.inboundRate, "inbound-rate", 50, "inbound, paced: messages/s (50 = one a second from each of 50 senders)")
	fs.IntVar(&o.outbound, "outbound", 2000, "outbound, burst: events enqueued at once, --enqueue-clients transactions at a time")
	fs.IntVar(&o.enqueueClients, "enqueue-clients", 4, "outbound, burst: concurrent enqueue transactions")
	fs.IntVar(&o.pacedOutbound, "paced-outbound", 1000, "outbound, paced: events enqueued at --outbound-rate (0: no paced run)")
	fs.Float64Var(&o.outboundRate, "outbound-rate", 20, "outbound, paced: events/s")
	fs.IntVar(&o.endpointRate, "endpoint-rate", 1000, "outbound: the endpoint's rate_per_second (the API takes at most 1000)")
	fs.BoolVar(&o.skipInbound, "skip-inbound", false, "skip the inbound benchmark")
	fs.BoolVar(&o.skipOutbound, "skip-outbound", false, "skip the outbound benchmark")
	fs.DurationVar(&o.settleTimeout, "settle-timeout", 10*time.Minute, "how long to wait, after the last message was sent, for every message to be acted on or delivered")
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
	fs.DurationVar(&o.timeout, "timeout", time.Hour, "give up after this long")
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
	case o.customers < 1 || o.customers > 10_000:
		return errors.New("--customers: want 1..10000")
	case o.messages < 0 || o.messages > maxMessages:
		return fmt.Errorf("--messages: want 0..%d", maxMessages)
	case o.senders < 1 || o.senders > maxSenders:
		return fmt.Errorf("--senders: want 1..%d", maxSenders)
	case o.pacedMessages < 0 || o.pacedMessages > maxMessages:
		return fmt.Errorf("--paced-messages: want 0..%d", maxMessages)
	case o.inboundRate <= 0 || o.inboundRate > maxRate:
		return fmt.Errorf("--inbound-rate: want more than 0, up to %.0f messages/s", maxRate)
	case o.outbound < 1 || o.outbound > maxMessages:
		return fmt.Errorf("--outbound: want 1..%d", maxMessages)
	case o.enqueueClients < 1 || o.enqueueClients > 64:
		return errors.New("--enqueue-clients: want 1..64")
	case o.pacedOutbound < 0 || o.pacedOutbound > maxMessages:
		return fmt.Errorf("--paced-outbound: want 0..%d", maxMessages)
	case o.outboundRate <= 0 || o.outboundRate > maxRate:
		return fmt.Errorf("--outbound-rate: want more than 0, up to %.0f events/s", maxRate)
	case o.endpointRate < 1 || o.endpointRate > 1000:
		return errors.New("--endpoint-rate: want 1..1000")
	case o.settleTimeout <= 0:
		return errors.New("--settle-timeout must be positive")
	case o.quietWait < 0:
		return errors.New("--quiet-wait must not be negative")
	case o.timeout <= 0:
		return errors.New("--timeout must be positive")
	}
	return nil
}

// stackEnv lifts the API's per-caller and per-IP limits, which the bench
// is not about (every sender is on 127.0.0.1), lets the worker's SSRF
// guard dial the loopback receiver (as bench/load's research scenario
// does for its test site), then adds --server-env.
func (o options) stackEnv() []string {
	env := []string{
		"GROUNDWORK_RATE_PER_SECOND=1000000",
		"GROUNDWORK_RATE_PER_MINUTE=100000000",
		"GROUNDWORK_IP_RATE_PER_SECOND=1000000",
		"GROUNDWORK_MAX_OPEN_RUNS=1000000",
		"GROUNDWORK_RESEARCH_ALLOW_CIDRS=127.0.0.1/32",
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
		TempPrefix: "groundwork-bench-webhooks-",
		Groundwork: o.groundwork,
		Keep:       o.keep,
		PGFast:     o.pgFast,
		ServerEnv:  o.stackEnv(),
		Logf:       logf,
	})
	if err != nil {
		return fmt.Errorf("start the stack: %w", err)
	}
	defer st.Stop()
	pool, err := db.Open(ctx, st.DatabaseURL, db.PoolConfig{MaxConns: int32(o.enqueueClients + 4)})
	if err != nil {
		return fmt.Errorf("bench postgres pool: %w", err)
	}
	defer pool.Close()
	_, token, err := apikey.Create(ctx, pool, apikey.Spec{User: benchUser, Workspace: benchWorkspace, Role: "admin", Name: "bench/webhooks"})
	if err != nil {
		return fmt.Errorf("create bench API key: %w", err)
	}
	b := &bench{o: o, c: newClient(st.APIURL, token, max(o.senders, 32)), pool: pool, rep: rep, timer: &phase.Timer{PGPID: st.PostgresPID(), QuietWait: o.quietWait, Logf: logf}}
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

// phases runs each benchmark not skipped.
func (b *bench) phases(ctx context.Context) error {
	if !b.o.skipInbound {
		if err := b.inboundBench(ctx); err != nil {
			return err
		}
	}
	if !b.o.skipOutbound {
		if err := b.outboundBench(ctx); err != nil {
			return err
		}
	}
	return nil
}

// logf reports progress on stderr, keeping stdout for the results.
func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "webhooks: "+format+"\n", args...)
}
