package main

import (
	"context"
	"fmt"
	"net/http"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/groundwork-dev/groundwork/bench/internal/phase"
	"github.com/groundwork-dev/groundwork/internal/stdwebhook"
)

// The inbound bar: acceptance p95 under 50 ms with 50 concurrent
// senders.
const (
	goalSenders     = 50
	goalAcceptP95ms = 50.0
)

// inboundFigures are one inbound run's results.
type inboundFigures struct {
	// Mode says how messages were sent: "closed loop" (each sender sends
	// its next message when the last was answered) or "paced" (messages
	// sent on schedule at Rate, whatever the latency).
	Mode     string  `json:"mode"`
	SourceID string  `json:"source_id"`
	Senders  int     `json:"senders,omitempty"`
	Rate     float64 `json:"target_per_second,omitempty"`
	Messages int     `json:"messages"`
	// Accepted counts the 202 answers saying "accepted"; Duplicates those
	// saying "duplicate" (0 expected: every webhook-id is fresh).
	Accepted   int64 `json:"accepted"`
	Duplicates int64 `json:"duplicates"`
	// SendSeconds is from the first request sent to the last answer read.
	SendSeconds       float64       `json:"send_seconds"`
	AcceptedPerSecond float64       `json:"accepted_per_second"`
	Accept            phase.Summary `json:"accept_latency"`
	// Done and Failed count the source's messages by status once every
	// accepted one was acted on (or the wait gave up).
	Done   int64 `json:"done"`
	Failed int64 `json:"failed"`
	// ActedSeconds is from the first request sent until every accepted
	// message was seen done or failed (polled every 100 ms);
	// AfterLastAnswer the part of it after the last answer.
	ActedSeconds    float64 `json:"acted_on_seconds"`
	AfterLastAnswer float64 `json:"acted_on_after_last_answer_seconds"`
	ActedPerSecond  float64 `json:"acted_on_per_second"`
	// ActedAtLastAnswer counts the messages acted on when the last answer
	// was read; DrainPerSecond is the rate at which the rest were.
	ActedAtLastAnswer int64   `json:"acted_on_at_last_answer"`
	DrainPerSecond    float64 `json:"drain_per_second"`
	// Events counts the events table's rows of the run's messages (one
	// each expected).
	Events int64 `json:"events"`
	// StartLag is a message's received_at → started_at (the API started
	// its workflow, or failing that the worker's dispatcher did);
	// IngestLag its received_at → its event's received_at: both from
	// Postgres's clock.
	StartLag    phase.Summary `json:"start_lag"`
	IngestLag   phase.Summary `json:"ingest_lag"`
	FailSamples []string      `json:"fail_samples,omitempty"`
	// SendWaits and DrainWaits are what Postgres's backends were doing
	// while the messages were sent and after, until acted on.
	SendWaits  []pgWait `json:"postgres_waits_sending"`
	DrainWaits []pgWait `json:"postgres_waits_until_acted_on"`
}

// inboundBench creates the customers, then measures POST /hooks/{id}
// closed loop from --senders senders and paced at --inbound-rate, each
// run with a source of its own, and waits after each until every message
// was acted on.
func (b *bench) inboundBench(ctx context.Context) error {
	if err := b.createCustomers(ctx); err != nil {
		return err
	}
	o := b.o
	if o.messages > 0 {
		if err := b.inboundClosed(ctx); err != nil {
			return err
		}
	}
	if o.pacedMessages == 0 {
		return nil
	}
	every := time.Duration(float64(time.Second) / o.inboundRate)
	logf("inbound, paced: %d messages at %.0f/s (one every %s)…", o.pacedMessages, o.inboundRate, every)
	paced, err := b.inboundRun(ctx, "paced", fmt.Sprintf("paced, %.0f messages/s", o.inboundRate), o.pacedMessages,
		func(send func(int)) { pacedLoop(ctx, o.pacedMessages, every, send) })
	if paced != nil {
		paced.Rate = o.inboundRate
		b.rep.Inbound = append(b.rep.Inbound, *paced)
		b.inboundVerdicts(*paced)
		// The same bar for senders that each send now and then, not back
		// to back: at the default rate, one message a second from each
		// of 50.
		b.rep.goal(fmt.Sprintf("inbound: acceptance p95, paced at %.0f messages/s", o.inboundRate), fmt.Sprintf("< %.0f ms", goalAcceptP95ms),
			fmt.Sprintf("%s (p50 %s, %.0f messages/s)", phase.FmtMs(paced.Accept.P95ms), phase.FmtMs(paced.Accept.P50ms), paced.AcceptedPerSecond),
			paced.Accept.P95ms < goalAcceptP95ms && paced.Accept.Errors == 0)
	}
	return err
}

// inboundClosed measures --messages messages from --senders senders back
// to back, against the goal.
func (b *bench) inboundClosed(ctx context.Context) error {
	o := b.o
	logf("inbound, closed loop: %d messages from %d senders…", o.messages, o.senders)
	closed, err := b.inboundRun(ctx, "closed", fmt.Sprintf("closed loop, %d senders", o.senders), o.messages,
		func(send func(int)) { closedLoop(ctx, o.messages, o.senders, send) })
	if closed != nil {
		closed.Senders = o.senders
		b.rep.Inbound = append(b.rep.Inbound, *closed)
		b.inboundVerdicts(*closed)
		b.rep.goal(fmt.Sprintf("inbound: acceptance p95, %d senders back to back", o.senders), fmt.Sprintf("< %.0f ms at %d senders", goalAcceptP95ms, goalSenders),
			fmt.Sprintf("%s (p50 %s, %.0f messages/s)", phase.FmtMs(closed.Accept.P95ms), phase.FmtMs(closed.Accept.P50ms), closed.AcceptedPerSecond),
			closed.Accept.P95ms < goalAcceptP95ms && closed.Accept.Errors == 0 && o.senders >= goalSenders)
	}
	return err
}

// inboundVerdicts records the checks of one run: every message accepted
// once, acted on, and its event stored once.
func (b *bench) inboundVerdicts(f inboundFigures) {
	b.rep.check(fmt.Sprintf("inbound %s: every message accepted", f.Mode), f.Accepted == int64(f.Messages) && f.Accept.Errors == 0,
		fmt.Sprintf("%d of %d accepted, %d errors, %d duplicates", f.Accepted, f.Messages, f.Accept.Errors, f.Duplicates))
	b.rep.check(fmt.Sprintf("inbound %s: every accepted message acted on", f.Mode), f.Done == f.Accepted && f.Failed == 0,
		fmt.Sprintf("%d done, %d failed of %d accepted", f.Done, f.Failed, f.Accepted))
	b.rep.check(fmt.Sprintf("inbound %s: one event per message", f.Mode), f.Events == f.Done,
		fmt.Sprintf("%d events for %d messages done", f.Events, f.Done))
}

// createCustomers creates --customers customers, 8 at a time.
func (b *bench) createCustomers(ctx context.Context) error {
	logf("creating %d customers through POST /v1/customers…", b.o.customers)
	b.customers = make([]string, b.o.customers)
	var next atomic.Int64
	g, gctx := errgroup.WithContext(ctx)
	for range 8 {
		g.Go(func() error {
			for gctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= len(b.customers) {
					return nil
				}
				var out struct {
					ID string `json:"id"`
				}
				body := map[string]any{"name": fmt.Sprintf("Hooked customer %d", i), "external_id": fmt.Sprintf("bench-%d", i)}
				if err := b.c.call(gctx, http.MethodPost, "/v1/customers", body, http.StatusCreated, &out); err != nil {
					return fmt.Errorf("create customer %d: %w", i, err)
				}
				b.customers[i] = out.ID
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("create customers: %w", err)
	}
	return nil
}

// source is a created inbound source.
type source struct {
	ID     string `json:"id"`
	Secret string `json:"secret"`
}

// createSource creates a signature-mode source whose messages each track
// one event.
func (b *bench) createSource(ctx context.Context, name string) (source, error) {
	var s source
	spec := map[string]any{"name": name, "mode": "signature", "action": map[string]any{"type": "track"}}
	if err := b.c.call(ctx, http.MethodPost, "/v1/webhook-sources", spec, http.StatusCreated, &s); err != nil {
		return s, fmt.Errorf("create webhook source: %w", err)
	}
	return s, nil
}

// inboundRun sends n messages to a new source, in the order and
// concurrency schedule chooses, then waits until each was acted on and
// reads what Postgres recorded. It returns the figures it got to, also
// with an error.
func (b *bench) inboundRun(ctx context.Context, prefix, mode string, n int, schedule func(send func(int))) (*inboundFigures, error) {
	src, err := b.createSource(ctx, "bench "+mode)
	if err != nil {
		return nil, err
	}
	key, err := stdwebhook.Key(src.Secret)
	if err != nil {
		return nil, fmt.Errorf("source %s: %w", src.ID, err)
	}
	f := &inboundFigures{Mode: mode, SourceID: src.ID, Messages: n}
	path := "/hooks/" + src.ID
	s := phase.NewSample("POST /hooks/{source_id}")
	var accepted, duplicates atomic.Int64
	send := func(i int) {
		id := fmt.Sprintf("msg_%s_%06d", prefix, i)
		now := time.Now()
		// One event, as a sender posting each activity as it happens
		// would; the event's ID is the message's, so the two can be
		// joined in Postgres.
		body := fmt.Appendf(nil, `{"id":%q,"customer_id":%q,"type":"login","occurred_at":%q,"properties":{"via":"bench"}}`,
			id, b.customers[i%len(b.customers)], now.UTC().Format(time.RFC3339Nano))
		h := http.Header{}
		stdwebhook.Sign(h, key, id, now, body)
		a, err := b.c.do(ctx, http.MethodPost, path, h, body)
		if err != nil {
			s.Add(a.took, 0, false, err.Error())
			return
		}
		var res struct {
			Status string `json:"status"`
		}
		if err := a.decode(http.MethodPost, path, http.StatusAccepted, &res); err != nil {
			s.Add(a.took, a.status, false, err.Error())
			return
		}
		switch res.Status {
		case "accepted":
			accepted.Add(1)
		case "duplicate":
			duplicates.Add(1)
		}
		s.Add(a.took, a.status, res.Status == "accepted", "answered "+res.Status)
	}

	name := "inbound, " + mode
	b.timer.WaitQuiet(ctx, name)
	done := b.timer.Start(name)
	waits := b.sampleWaits(ctx)
	start := time.Now()
	schedule(send)
	wall := time.Since(start)
	f.SendWaits = waits.finish()
	done()
	f.SendSeconds = phase.Secs(wall)
	f.Accepted, f.Duplicates = accepted.Load(), duplicates.Load()
	f.AcceptedPerSecond = phase.Round1(float64(f.Accepted) / wall.Seconds())
	f.Accept = s.Summary(wall)
	logf("  %s: %d accepted in %.1f s = %.0f/s; p50 %.1f ms, p95 %.1f ms, p99 %.1f ms, %d errors",
		mode, f.Accepted, f.SendSeconds, f.AcceptedPerSecond, f.Accept.P50ms, f.Accept.P95ms, f.Accept.P99ms, f.Accept.Errors)
	if err := ctx.Err(); err != nil {
		return f, fmt.Errorf("%s: %w", name, err)
	}

	if err := b.pool.QueryRow(ctx, `SELECT count(*) FROM webhook_inbox WHERE source_id = $1 AND status <> 'received'`, f.SourceID).Scan(&f.ActedAtLastAnswer); err != nil {
		return f, fmt.Errorf("count the inbox of %s: %w", f.SourceID, err)
	}
	drained := b.timer.Start(name + ": until acted on")
	waits = b.sampleWaits(ctx)
	err = b.waitActedOn(ctx, f, start, start.Add(wall))
	f.DrainWaits = waits.finish()
	drained()
	if err != nil {
		return f, err
	}
	if err := b.inboundRecords(ctx, f); err != nil {
		return f, err
	}
	logf("  %s: every message acted on %.1f s after the first was sent (%.1f s after the last answer); ingest lag p50 %.1f ms, p95 %.1f ms",
		mode, f.ActedSeconds, f.AfterLastAnswer, f.IngestLag.P50ms, f.IngestLag.P95ms)
	return f, nil
}

// waitActedOn polls the source's inbox every 100 ms until every accepted
// message is done or failed, or --settle-timeout after the last answer.
func (b *bench) waitActedOn(ctx context.Context, f *inboundFigures, start, lastAnswer time.Time) error {
	deadline := lastAnswer.Add(b.o.settleTimeout)
	lastLog := time.Now()
	for {
		var total int64
		err := b.pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE status = 'done'), count(*) FILTER (WHERE status = 'failed'), count(*)
			FROM webhook_inbox WHERE source_id = $1`, f.SourceID).Scan(&f.Done, &f.Failed, &total)
		if err != nil {
			return fmt.Errorf("count the inbox of %s: %w", f.SourceID, err)
		}
		now := time.Now()
		if f.Done+f.Failed >= f.Accepted {
			acted := now.Sub(start)
			f.ActedSeconds = phase.Secs(acted)
			f.AfterLastAnswer = phase.Secs(max(now.Sub(lastAnswer), 0))
			f.ActedPerSecond = phase.Round1(float64(f.Done+f.Failed) / acted.Seconds())
			if rest := now.Sub(lastAnswer); rest > 0 {
				f.DrainPerSecond = phase.Round1(float64(f.Done+f.Failed-f.ActedAtLastAnswer) / rest.Seconds())
			}
			return nil
		}
		if now.After(deadline) {
			return fmt.Errorf("inbound %s: after %s only %d of %d messages were acted on (%d in the inbox)", f.Mode, b.o.settleTimeout, f.Done+f.Failed, f.Accepted, total)
		}
		if now.Sub(lastLog) >= 10*time.Second {
			logf("  … %d of %d acted on", f.Done+f.Failed, f.Accepted)
			lastLog = now
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("inbound %s: waiting for the messages to be acted on: %w", f.Mode, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// inboundRecords reads what Postgres holds of the run: the events
// stored, how long each message took to start and to be ingested, and
// why any failed.
func (b *bench) inboundRecords(ctx context.Context, f *inboundFigures) error {
	rows, err := b.pool.Query(ctx, `SELECT extract(epoch FROM i.started_at - i.received_at) * 1000, extract(epoch FROM e.received_at - i.received_at) * 1000
		FROM webhook_inbox i LEFT JOIN events e ON e.workspace_id = i.workspace_id AND e.id = i.webhook_id
		WHERE i.source_id = $1`, f.SourceID)
	if err != nil {
		return fmt.Errorf("read the inbox of %s: %w", f.SourceID, err)
	}
	var starts, ingests []time.Duration
	for rows.Next() {
		var start, ingest *float64
		if err := rows.Scan(&start, &ingest); err != nil {
			rows.Close()
			return fmt.Errorf("read the inbox of %s: %w", f.SourceID, err)
		}
		if start != nil {
			starts = append(starts, msDuration(*start))
		}
		if ingest != nil {
			ingests = append(ingests, msDuration(*ingest))
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read the inbox of %s: %w", f.SourceID, err)
	}
	f.Events = int64(len(ingests))
	f.StartLag = phase.DurationSummary("received → workflow started", starts, 0)
	f.IngestLag = phase.DurationSummary("received → event ingested", ingests, 0)

	rows, err = b.pool.Query(ctx, `SELECT coalesce(error, ''), count(*) FROM webhook_inbox WHERE source_id = $1 AND status = 'failed'
		GROUP BY 1 ORDER BY 2 DESC LIMIT 5`, f.SourceID)
	if err != nil {
		return fmt.Errorf("read the failures of %s: %w", f.SourceID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var msg string
		var n int64
		if err := rows.Scan(&msg, &n); err != nil {
			return fmt.Errorf("read the failures of %s: %w", f.SourceID, err)
		}
		f.FailSamples = append(f.FailSamples, fmt.Sprintf("×%d: %s", n, msg))
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read the failures of %s: %w", f.SourceID, err)
	}
	return nil
}

// msDuration turns milliseconds read from Postgres into a duration.
func msDuration(v float64) time.Duration {
	return time.Duration(v * float64(time.Millisecond))
}
