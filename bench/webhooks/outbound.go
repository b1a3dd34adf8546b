package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/groundwork-dev/groundwork"
	"github.com/groundwork-dev/groundwork/bench/internal/phase"
	"github.com/groundwork-dev/groundwork/db"
	"github.com/groundwork-dev/groundwork/db/sqlc"
	"github.com/groundwork-dev/groundwork/internal/stdwebhook"
)

// outboundFigures are one outbound run's results.
type outboundFigures struct {
	// Mode says how events were enqueued: "burst" (all at once,
	// Clients transactions at a time) or "paced" (on schedule at Rate).
	Mode       string  `json:"mode"`
	EndpointID string  `json:"endpoint_id"`
	Events     int     `json:"events"`
	Clients    int     `json:"enqueue_clients,omitempty"`
	Rate       float64 `json:"target_per_second,omitempty"`
	// EnqueueSeconds is from the first enqueue begun to the last
	// committed; Enqueue is each one's transaction.
	EnqueueSeconds float64       `json:"enqueue_seconds"`
	Enqueue        phase.Summary `json:"enqueue"`
	// Delivered counts the events the receiver got (each once).
	Delivered int `json:"delivered"`
	// FirstSeconds is from the first enqueue begun to the first receipt.
	FirstSeconds float64 `json:"first_seconds"`
	// Seconds is from the first enqueue begun to the last event's first
	// receipt.
	Seconds             float64 `json:"seconds"`
	DeliveriesPerSecond float64 `json:"deliveries_per_second"`
	// Lag is each event's commit → its first receipt.
	Lag phase.Summary `json:"lag"`
	// Dispatch (created_at → dispatched_at: the outbox dispatcher started
	// its workflow) and Deliver (dispatched_at → delivered_at: the
	// workflow ran, the attempt posted and recorded) are Postgres's view
	// of the same messages.
	Dispatch phase.Summary `json:"dispatch"`
	Deliver  phase.Summary `json:"deliver"`
	// DispatchPerSecond is the messages ÷ (first created → last
	// dispatched): the rate the dispatcher started their workflows at.
	DispatchPerSecond float64 `json:"dispatch_per_second"`
	// Statuses counts the messages by status; Retried those attempted
	// more than once.
	Statuses map[string]int64 `json:"statuses"`
	Retried  int64            `json:"retried"`
	// SlotWrites counts the rows written to rate_slots during the run
	// (pg_stat_user_tables): each delivery reserves the endpoint's next
	// slot there, and reserves again or moves the slot when it judged
	// itself late for it, so more than one per delivery is slots lost.
	SlotWrites            int64   `json:"rate_slot_writes"`
	SlotWritesPerDelivery float64 `json:"rate_slot_writes_per_delivery"`
	// Waits are what Postgres's backends were doing from the first
	// enqueue to the last receipt.
	Waits []pgWait `json:"postgres_waits"`
}

// endpoint is a created outbound endpoint.
type endpoint struct {
	ID     string `json:"id"`
	Secret string `json:"secret"`
}

// outboundBench creates one endpoint at the receiver subscribed to
// run.succeeded, then measures a burst of --outbound events and a paced
// run of --paced-outbound.
func (b *bench) outboundBench(ctx context.Context) error {
	o := b.o
	recv := newReceiver()
	defer recv.close()
	var ep endpoint
	spec := groundwork.WebhookEndpointSpec{URL: recv.url(), Description: "bench/webhooks receiver",
		EventTypes: []string{groundwork.EventRunSucceeded}, RatePerSec: o.endpointRate}
	if err := b.c.call(ctx, http.MethodPost, "/v1/webhook-endpoints", spec, http.StatusCreated, &ep); err != nil {
		return fmt.Errorf("create webhook endpoint: %w", err)
	}
	key, err := stdwebhook.Key(ep.Secret)
	if err != nil {
		return fmt.Errorf("endpoint %s: %w", ep.ID, err)
	}
	recv.key.Store(&key)
	defer func() { b.rep.Receiver = recv.figures() }()

	logf("outbound, burst: %d events, %d enqueue transactions at a time, endpoint at %d/s…", o.outbound, o.enqueueClients, o.endpointRate)
	burst, err := b.outboundRun(ctx, recv, ep.ID, "burst", fmt.Sprintf("burst, %d enqueue clients", o.enqueueClients), o.outbound,
		func(send func(int)) { closedLoop(ctx, o.outbound, o.enqueueClients, send) })
	if burst != nil {
		burst.Clients = o.enqueueClients
		b.rep.Outbound = append(b.rep.Outbound, *burst)
		b.outboundVerdicts(*burst)
	}
	if err != nil {
		return err
	}
	if o.pacedOutbound == 0 {
		return nil
	}
	every := time.Duration(float64(time.Second) / o.outboundRate)
	logf("outbound, paced: %d events at %.0f/s (one every %s)…", o.pacedOutbound, o.outboundRate, every)
	paced, err := b.outboundRun(ctx, recv, ep.ID, "paced", fmt.Sprintf("paced, %.0f events/s", o.outboundRate), o.pacedOutbound,
		func(send func(int)) { pacedLoop(ctx, o.pacedOutbound, every, send) })
	if paced != nil {
		paced.Rate = o.outboundRate
		b.rep.Outbound = append(b.rep.Outbound, *paced)
		b.outboundVerdicts(*paced)
	}
	return err
}

// outboundVerdicts records the checks of one run: every event delivered,
// marked delivered, at the first attempt.
func (b *bench) outboundVerdicts(f outboundFigures) {
	b.rep.check(fmt.Sprintf("outbound %s: every event enqueued and received", f.Mode), f.Enqueue.Errors == 0 && f.Delivered == f.Events,
		fmt.Sprintf("%d of %d received, %d enqueue errors", f.Delivered, f.Events, f.Enqueue.Errors))
	b.rep.check(fmt.Sprintf("outbound %s: every message delivered at the first attempt", f.Mode), f.Statuses["delivered"] == int64(f.Events) && f.Retried == 0,
		fmt.Sprintf("statuses %v, %d retried", f.Statuses, f.Retried))
}

// runPrefix is the run_id prefix of a run's events.
func runPrefix(mode string) string { return "run_bench_" + mode + "_" }

// outboundRun enqueues n run.succeeded events, each in a transaction of
// its own as a closing run writes it, in the order and concurrency
// schedule chooses, and waits until the receiver got each. It returns
// the figures it got to, also with an error.
func (b *bench) outboundRun(ctx context.Context, recv *receiver, endpointID, prefix, mode string, n int, schedule func(send func(int))) (*outboundFigures, error) {
	f := &outboundFigures{Mode: mode, EndpointID: endpointID, Events: n}
	runs := make([]string, n)
	commits := make([]time.Time, n)
	s := phase.NewSample("db.EnqueueEvent transaction")
	send := func(i int) {
		run := fmt.Sprintf("%s%06d", runPrefix(prefix), i)
		runs[i] = run
		// The shape of a small export's run.succeeded.
		data := db.RunEventData{RunID: run, Kind: string(groundwork.KindExport), Status: "succeeded",
			Result: json.RawMessage(fmt.Sprintf(`{"file_id":"exp_%s","format":"csv","rows":20,"bytes":512}`, run))}
		start := time.Now()
		err := db.InTx(ctx, b.pool, func(tx pgx.Tx) error {
			return db.EnqueueEvent(ctx, sqlc.New(tx), benchWorkspace, run, groundwork.EventRunSucceeded, data)
		})
		commits[i] = time.Now()
		if err != nil {
			s.Add(commits[i].Sub(start), 0, false, err.Error())
			return
		}
		s.Add(commits[i].Sub(start), http.StatusOK, true, "")
	}

	name := "outbound, " + mode
	b.timer.WaitQuiet(ctx, name)
	slotsBefore, err := b.tableWrites(ctx, "rate_slots")
	if err != nil {
		return nil, err
	}
	done := b.timer.Start(name)
	waits := b.sampleWaits(ctx)
	start := time.Now()
	schedule(send)
	enqueued := time.Since(start)
	f.EnqueueSeconds = phase.Secs(enqueued)
	f.Enqueue = s.Summary(enqueued)
	werr := b.waitDelivered(ctx, recv, f, prefix, start.Add(enqueued))
	f.Waits = waits.finish()
	done()

	var first, last time.Time
	var lags []time.Duration
	for i, run := range runs {
		if at, ok := recv.receipt(run); ok && !commits[i].IsZero() {
			lags = append(lags, at.Sub(commits[i]))
			if at.After(last) {
				last = at
			}
			if first.IsZero() || at.Before(first) {
				first = at
			}
		}
	}
	f.Delivered = len(lags)
	if f.Delivered > 0 {
		wall := last.Sub(start)
		f.Seconds = phase.Secs(wall)
		f.FirstSeconds = phase.Secs(first.Sub(start))
		f.DeliveriesPerSecond = phase.Round1(float64(f.Delivered) / wall.Seconds())
	}
	f.Lag = phase.DurationSummary("enqueue committed → received", lags, 0)
	logf("  %s: %d of %d delivered in %.1f s = %.1f/s; lag p50 %.1f ms, p95 %.1f ms",
		mode, f.Delivered, n, f.Seconds, f.DeliveriesPerSecond, f.Lag.P50ms, f.Lag.P95ms)
	if werr != nil {
		return f, werr
	}
	if err := b.outboundRecords(ctx, f, prefix); err != nil {
		return f, err
	}
	// Backends report their table statistics when idle, at the latest
	// 10 s after their last transaction.
	logf("  waiting %s for Postgres's table statistics…", statsDelay)
	select {
	case <-ctx.Done():
		return f, fmt.Errorf("%s: %w", name, ctx.Err())
	case <-time.After(statsDelay):
	}
	slotsAfter, err := b.tableWrites(ctx, "rate_slots")
	if err != nil {
		return f, err
	}
	f.SlotWrites = slotsAfter - slotsBefore
	if f.Delivered > 0 {
		f.SlotWritesPerDelivery = math.Round(float64(f.SlotWrites)/float64(f.Delivered)*100) / 100
	}
	logf("  %s: %d rate-slot writes for %d deliveries (%.2f each)", mode, f.SlotWrites, f.Delivered, f.SlotWritesPerDelivery)
	return f, nil
}

// statsDelay is how long table statistics may take to reach
// pg_stat_user_tables (PGSTAT_IDLE_INTERVAL, 10 s, and a margin).
const statsDelay = 11 * time.Second

// tableWrites is the rows inserted and updated in table so far.
func (b *bench) tableWrites(ctx context.Context, table string) (int64, error) {
	var n int64
	err := b.pool.QueryRow(ctx, `SELECT coalesce(sum(n_tup_ins + n_tup_upd), 0)::bigint FROM pg_stat_user_tables WHERE relname = $1`, table).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("read the statistics of %s: %w", table, err)
	}
	return n, nil
}

// waitDelivered waits until the receiver got every event of the run, or
// --settle-timeout after the last enqueue.
func (b *bench) waitDelivered(ctx context.Context, recv *receiver, f *outboundFigures, prefix string, lastEnqueue time.Time) error {
	deadline := lastEnqueue.Add(b.o.settleTimeout)
	lastLog := time.Now()
	for {
		n, _ := recv.received(runPrefix(prefix))
		if n >= f.Events-f.Enqueue.Errors {
			return nil
		}
		now := time.Now()
		if now.After(deadline) {
			return fmt.Errorf("outbound %s: after %s only %d of %d events were delivered", f.Mode, b.o.settleTimeout, n, f.Events)
		}
		if now.Sub(lastLog) >= 10*time.Second {
			logf("  … %d of %d delivered", n, f.Events)
			lastLog = now
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("outbound %s: waiting for the deliveries: %w", f.Mode, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// outboundRecords reads Postgres's view of the run's messages, once each
// received one was also recorded as delivered (up to 30 s).
func (b *bench) outboundRecords(ctx context.Context, f *outboundFigures, prefix string) error {
	keyPrefix := groundwork.EventRunSucceeded + ":" + runPrefix(prefix)
	deadline := time.Now().Add(30 * time.Second)
	for {
		var delivered int64
		err := b.pool.QueryRow(ctx, `SELECT count(*) FROM webhook_messages WHERE endpoint_id = $1 AND starts_with(event_key, $2) AND status = 'delivered'`,
			f.EndpointID, keyPrefix).Scan(&delivered)
		if err != nil {
			return fmt.Errorf("count delivered messages: %w", err)
		}
		if delivered >= int64(f.Delivered) || time.Now().After(deadline) {
			break
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("outbound %s: waiting for the deliveries to be recorded: %w", f.Mode, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
	rows, err := b.pool.Query(ctx, `SELECT status, attempts, extract(epoch FROM dispatched_at - created_at) * 1000, extract(epoch FROM delivered_at - dispatched_at) * 1000
		FROM webhook_messages WHERE endpoint_id = $1 AND starts_with(event_key, $2)`, f.EndpointID, keyPrefix)
	if err != nil {
		return fmt.Errorf("read messages: %w", err)
	}
	defer rows.Close()
	f.Statuses = map[string]int64{}
	var dispatch, deliver []time.Duration
	for rows.Next() {
		var status string
		var attempts int32
		var toDispatch, toDeliver *float64
		if err := rows.Scan(&status, &attempts, &toDispatch, &toDeliver); err != nil {
			return fmt.Errorf("read messages: %w", err)
		}
		f.Statuses[status]++
		if attempts > 1 {
			f.Retried++
		}
		if toDispatch != nil {
			dispatch = append(dispatch, msDuration(*toDispatch))
		}
		if toDeliver != nil {
			deliver = append(deliver, msDuration(*toDeliver))
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read messages: %w", err)
	}
	var span *float64
	err = b.pool.QueryRow(ctx, `SELECT extract(epoch FROM max(dispatched_at) - min(created_at))::float8 FROM webhook_messages WHERE endpoint_id = $1 AND starts_with(event_key, $2)`,
		f.EndpointID, keyPrefix).Scan(&span)
	if err != nil {
		return fmt.Errorf("read the dispatch span: %w", err)
	}
	if span != nil && *span > 0 {
		f.DispatchPerSecond = phase.Round1(float64(len(dispatch)) / *span)
	}
	f.Dispatch = phase.DurationSummary("created → dispatched (workflow started)", dispatch, 0)
	f.Deliver = phase.DurationSummary("dispatched → delivered (recorded)", deliver, 0)
	return nil
}
