package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/groundwork-dev/groundwork"
	"github.com/groundwork-dev/groundwork/bench/internal/phase"
	"github.com/groundwork-dev/groundwork/db"
	"github.com/groundwork-dev/groundwork/internal/config"
)

// Issue 14's ingest goal: at least 5,000 events/s with a p95 under 100 ms
// per 1,000-event batch.
const (
	goalIngestPerSecond = 5000.0
	goalIngestP95ms     = 100.0
)

// ingestFigures are one ingest run's results.
type ingestFigures struct {
	// Mode says how batches were sent: "closed loop" (each client sends
	// its next batch when the last was answered: the capacity) or "paced"
	// (batches sent on schedule at Rate, whatever the latency).
	Mode      string  `json:"mode"`
	Batches   int     `json:"batches"`
	BatchSize int     `json:"batch_size"`
	Clients   int     `json:"clients,omitempty"`
	Rate      float64 `json:"target_events_per_second,omitempty"`
	// BodyBytes is the mean request body.
	BodyBytes int `json:"body_bytes"`
	// Stored counts the events the API said it stored; Duplicates those it
	// said were sent before (0 expected: every ID is fresh).
	Stored             int64 `json:"stored"`
	Duplicates         int64 `json:"duplicates"`
	MilestonesAchieved int64 `json:"milestones_achieved"`
	// Seconds is from the first request sent to the last answer read.
	Seconds         float64       `json:"seconds"`
	EventsPerSecond float64       `json:"events_per_second"`
	Latency         phase.Summary `json:"batch_latency"`
}

// ingestBench measures POST /v1/track, each run with fresh batches made
// before its clock starts: closed loop from --ingest-clients clients (the
// capacity), then paced at --ingest-rate events/s (the latency at the
// goal's rate), then, as a baseline, the same pace through db.IngestEvents
// in process: the ingest transaction without HTTP, JSON and validation.
func (b *bench) ingestBench(ctx context.Context) error {
	o := b.o
	logf("ingest benchmark, closed loop: %d batches of %d events, %d clients…", o.ingestBatches, o.ingestBatch, o.ingestClients)
	batches, bodies, err := b.ingestBatches("live", 5)
	if err != nil {
		return err
	}
	closed := b.ingestRun(ctx, "POST /v1/track", fmt.Sprintf("closed loop, %d clients", o.ingestClients), bodies, func(i int) ingestAnswer {
		return b.postBatch(ctx, bodies[i])
	}, func(send func(int)) { closedLoop(ctx, len(batches), o.ingestClients, send) })
	closed.Clients = o.ingestClients
	b.rep.Ingest = append(b.rep.Ingest, closed)
	b.rep.goal(fmt.Sprintf("ingest: events/s through POST /v1/track, closed loop, %d clients", o.ingestClients), fmt.Sprintf("≥ %.0f", goalIngestPerSecond),
		fmt.Sprintf("%.0f", closed.EventsPerSecond), closed.EventsPerSecond >= goalIngestPerSecond && closed.Latency.Errors == 0)
	if ctx.Err() != nil {
		return fmt.Errorf("ingest benchmark: %w", ctx.Err())
	}
	if o.ingestRate <= 0 {
		return nil
	}

	perBatch := time.Duration(float64(o.ingestBatch) / o.ingestRate * float64(time.Second))
	logf("ingest benchmark, paced: %d batches of %d events at %.0f events/s (one every %s)…", o.ingestBatches, o.ingestBatch, o.ingestRate, perBatch)
	if batches, bodies, err = b.ingestBatches("paced", 6); err != nil {
		return err
	}
	paced := b.ingestRun(ctx, "POST /v1/track", fmt.Sprintf("paced, %.0f events/s", o.ingestRate), bodies, func(i int) ingestAnswer {
		return b.postBatch(ctx, bodies[i])
	}, func(send func(int)) { pacedLoop(ctx, len(batches), perBatch, send) })
	paced.Rate = o.ingestRate
	b.rep.Ingest = append(b.rep.Ingest, paced)
	// The rate is kept when the events stored per wall second (the last
	// answer included) reach 98 % of it.
	kept := paced.EventsPerSecond >= 0.98*o.ingestRate
	b.rep.goal(fmt.Sprintf("ingest: p95 per %d-event batch, paced at %.0f events/s", o.ingestBatch, o.ingestRate), fmt.Sprintf("< %.0f ms", goalIngestP95ms),
		fmt.Sprintf("%s (%.0f events/s achieved)", phase.FmtMs(paced.Latency.P95ms), paced.EventsPerSecond),
		paced.Latency.P95ms < goalIngestP95ms && kept && paced.Latency.Errors == 0 && o.ingestRate >= goalIngestPerSecond)
	if ctx.Err() != nil {
		return fmt.Errorf("ingest benchmark: %w", ctx.Err())
	}
	if !o.ingestRaw {
		return nil
	}

	logf("ingest baseline: the same pace through db.IngestEvents in process…")
	if batches, bodies, err = b.ingestBatches("raw", 7); err != nil {
		return err
	}
	raw := b.ingestRun(ctx, "db.IngestEvents", fmt.Sprintf("in process (db.IngestEvents), paced, %.0f events/s", o.ingestRate), bodies, func(i int) ingestAnswer {
		start := time.Now()
		got, err := db.IngestEvents(ctx, b.pool, benchWorkspace, config.DefaultEventRetention, batches[i])
		a := ingestAnswer{took: time.Since(start), status: http.StatusOK, stored: got.Stored, achieved: int64(len(got.Achieved)), err: err}
		a.duplicates = int64(len(batches[i])) - got.Stored
		return a
	}, func(send func(int)) { pacedLoop(ctx, len(batches), perBatch, send) })
	raw.Rate = o.ingestRate
	b.rep.Ingest = append(b.rep.Ingest, raw)
	if ctx.Err() != nil {
		return fmt.Errorf("ingest benchmark: %w", ctx.Err())
	}
	return nil
}

// closedLoop sends batches 0..n-1 from clients goroutines, each sending
// its next batch as soon as its last was answered.
func closedLoop(ctx context.Context, n, clients int, send func(int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				send(i)
			}
		})
	}
	wg.Wait()
}

// pacedLoop sends batch i at i × every from the start, whatever the
// latency (open loop), and waits for every answer.
func pacedLoop(ctx context.Context, n int, every time.Duration, send func(int)) {
	var wg sync.WaitGroup
	start := time.Now()
	for i := range n {
		// From the batch number, so that lateness never accumulates.
		if d := time.Until(start.Add(time.Duration(i) * every)); d > 0 {
			select {
			case <-ctx.Done():
			case <-time.After(d):
			}
		}
		if ctx.Err() != nil {
			break
		}
		wg.Go(func() { send(i) })
	}
	wg.Wait()
}

// ingestAnswer is what ingesting one batch said.
type ingestAnswer struct {
	took time.Duration
	// status is the HTTP status (200 for an in-process call), 0 on a
	// transport error.
	status                       int
	stored, duplicates, achieved int64
	err                          error
}

// postBatch sends one batch to POST /v1/track.
func (b *bench) postBatch(ctx context.Context, body []byte) ingestAnswer {
	a, err := b.c.send(ctx, http.MethodPost, "/v1/track", body)
	out := ingestAnswer{took: a.took, status: a.status, err: err}
	if err != nil {
		return out
	}
	var res struct {
		Stored             int64             `json:"stored"`
		Duplicates         int64             `json:"duplicates"`
		MilestonesAchieved []json.RawMessage `json:"milestones_achieved"`
	}
	out.err = a.decode(http.MethodPost, "/v1/track", http.StatusOK, &res)
	out.stored, out.duplicates, out.achieved = res.Stored, res.Duplicates, int64(len(res.MilestonesAchieved))
	return out
}

// ingestRun measures one run: schedule calls send(i) for every batch i, in
// whatever order and concurrency it chooses, and returns when all are
// done; ingest ingests batch i.
func (b *bench) ingestRun(ctx context.Context, name, mode string, bodies [][]byte, ingest func(int) ingestAnswer, schedule func(send func(int))) ingestFigures {
	size := b.o.ingestBatch
	f := ingestFigures{Mode: mode, Batches: len(bodies), BatchSize: size}
	total := 0
	for _, body := range bodies {
		total += len(body)
	}
	f.BodyBytes = total / len(bodies)
	s := phase.NewSample(name)
	var stored, duplicates, achieved atomic.Int64
	send := func(i int) {
		a := ingest(i)
		if a.err != nil {
			s.Add(a.took, a.status, false, a.err.Error())
			return
		}
		stored.Add(a.stored)
		duplicates.Add(a.duplicates)
		achieved.Add(a.achieved)
		s.Add(a.took, a.status, a.stored == int64(size), fmt.Sprintf("stored %d of %d", a.stored, size))
	}
	b.timer.WaitQuiet(ctx, "ingest, "+mode)
	done := b.timer.Start("ingest, " + mode)
	start := time.Now()
	schedule(send)
	wall := time.Since(start)
	done()
	f.Seconds = phase.Secs(wall)
	f.Stored, f.Duplicates, f.MilestonesAchieved = stored.Load(), duplicates.Load(), achieved.Load()
	f.EventsPerSecond = phase.Round1(float64(f.Stored) / wall.Seconds())
	f.Latency = s.Summary(wall)
	logf("  %s: %d events in %.1f s = %.0f events/s; batch p50 %.1f ms, p95 %.1f ms, p99 %.1f ms, %d errors",
		mode, f.Stored, f.Seconds, f.EventsPerSecond, f.Latency.P50ms, f.Latency.P95ms, f.Latency.P99ms, f.Latency.Errors)
	return f
}

// ingestBatches makes --ingest-batches batches of --ingest-batch events
// with IDs under prefix, and each as the JSON body of POST /v1/track:
// random customers, events that happened in the last minutes as live
// tracking sends them (2 % up to a week late, as a client's retry queue
// would).
func (b *bench) ingestBatches(prefix string, stream uint64) ([][]groundwork.TrackEvent, [][]byte, error) {
	n, size := b.o.ingestBatches, b.o.ingestBatch
	r := rand.New(rand.NewPCG(b.o.seed, stream))
	gen := newEventGen(r)
	now := time.Now().UTC()
	custs := b.ds.customers
	batches := make([][]groundwork.TrackEvent, n)
	bodies := make([][]byte, n)
	for i := range n {
		events := make([]groundwork.TrackEvent, size)
		for j := range events {
			ago := time.Duration(r.ExpFloat64() * float64(10*time.Minute))
			if r.Float64() < 0.02 {
				ago = time.Duration(r.Float64() * float64(7*day))
			}
			at := now.Add(-min(ago, 7*day))
			events[j] = gen.event(fmt.Sprintf("%s-%05d-%04d", prefix, i, j), custs[r.IntN(len(custs))].ID, at, at)
		}
		body, err := json.Marshal(map[string]any{"events": events})
		if err != nil {
			return nil, nil, fmt.Errorf("marshal batch: %w", err)
		}
		batches[i], bodies[i] = events, body
	}
	return batches, bodies, nil
}
