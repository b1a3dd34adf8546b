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
	Seconds         float64 `json:"seconds"`
	EventsPerSecond float64 `json:"events_per_second"`
	Latency         Summary `json:"batch_latency"`
}

// ingestBench measures POST /v1/track twice, each with fresh batches made
// before its clock starts: closed loop from --ingest-clients clients (the
// capacity), then paced at --ingest-rate events/s (the latency at the
// goal's rate).
func (b *bench) ingestBench(ctx context.Context) error {
	o := b.o
	logf("ingest benchmark, closed loop: %d batches of %d events, %d clients…", o.ingestBatches, o.ingestBatch, o.ingestClients)
	bodies, err := b.ingestBodies("live", o.ingestBatches, o.ingestBatch, 5)
	if err != nil {
		return err
	}
	closed := b.ingestRun(ctx, bodies, fmt.Sprintf("closed loop, %d clients", o.ingestClients), func(send func(int)) {
		var next atomic.Int64
		var wg sync.WaitGroup
		for range o.ingestClients {
			wg.Go(func() {
				for ctx.Err() == nil {
					i := int(next.Add(1)) - 1
					if i >= len(bodies) {
						return
					}
					send(i)
				}
			})
		}
		wg.Wait()
	})
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
	if bodies, err = b.ingestBodies("paced", o.ingestBatches, o.ingestBatch, 6); err != nil {
		return err
	}
	paced := b.ingestRun(ctx, bodies, fmt.Sprintf("paced, %.0f events/s", o.ingestRate), func(send func(int)) {
		var wg sync.WaitGroup
		start := time.Now()
		for i := range bodies {
			// From the batch number, so that lateness never accumulates.
			if d := time.Until(start.Add(time.Duration(i) * perBatch)); d > 0 {
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
	})
	paced.Rate = o.ingestRate
	b.rep.Ingest = append(b.rep.Ingest, paced)
	// The rate is kept when the events stored per wall second (the last
	// answer included) reach 98 % of it.
	kept := paced.EventsPerSecond >= 0.98*o.ingestRate
	b.rep.goal(fmt.Sprintf("ingest: p95 per %d-event batch, paced at %.0f events/s", o.ingestBatch, o.ingestRate), fmt.Sprintf("< %.0f ms", goalIngestP95ms),
		fmt.Sprintf("%s (%.0f events/s achieved)", fmtMs(paced.Latency.P95ms), paced.EventsPerSecond),
		paced.Latency.P95ms < goalIngestP95ms && kept && paced.Latency.Errors == 0 && o.ingestRate >= goalIngestPerSecond)
	if ctx.Err() != nil {
		return fmt.Errorf("ingest benchmark: %w", ctx.Err())
	}
	return nil
}

// ingestRun measures one run: schedule calls send(i) for every batch i, in
// whatever order and concurrency it chooses, and returns when all are done.
func (b *bench) ingestRun(ctx context.Context, bodies [][]byte, mode string, schedule func(send func(int))) ingestFigures {
	size := b.o.ingestBatch
	f := ingestFigures{Mode: mode, Batches: len(bodies), BatchSize: size}
	total := 0
	for _, body := range bodies {
		total += len(body)
	}
	f.BodyBytes = total / len(bodies)
	s := newSample("POST /v1/track")
	var stored, duplicates, achieved atomic.Int64
	send := func(i int) {
		a, err := b.c.send(ctx, http.MethodPost, "/v1/track", bodies[i])
		if err != nil {
			s.add(a.took, 0, false, err.Error())
			return
		}
		var res struct {
			Stored             int64             `json:"stored"`
			Duplicates         int64             `json:"duplicates"`
			MilestonesAchieved []json.RawMessage `json:"milestones_achieved"`
		}
		if err := a.decode(http.MethodPost, "/v1/track", http.StatusOK, &res); err != nil {
			s.add(a.took, a.status, false, err.Error())
			return
		}
		stored.Add(res.Stored)
		duplicates.Add(res.Duplicates)
		achieved.Add(int64(len(res.MilestonesAchieved)))
		s.add(a.took, a.status, res.Stored == int64(size), fmt.Sprintf("stored %d of %d", res.Stored, size))
	}
	b.waitQuiet(ctx, "ingest, "+mode)
	done := b.phaseCPU("ingest, " + mode)
	start := time.Now()
	schedule(send)
	wall := time.Since(start)
	done()
	f.Seconds = secs(wall)
	f.Stored, f.Duplicates, f.MilestonesAchieved = stored.Load(), duplicates.Load(), achieved.Load()
	f.EventsPerSecond = round1(float64(f.Stored) / wall.Seconds())
	f.Latency = s.summary(wall)
	logf("  %s: %d events in %.1f s = %.0f events/s; batch p50 %.1f ms, p95 %.1f ms, p99 %.1f ms, %d errors",
		mode, f.Stored, f.Seconds, f.EventsPerSecond, f.Latency.P50ms, f.Latency.P95ms, f.Latency.P99ms, f.Latency.Errors)
	return f
}

// ingestBodies makes n batches with IDs under prefix: random customers,
// events that happened in the last minutes as live tracking sends them
// (2 % up to a week late, as a client's retry queue would).
func (b *bench) ingestBodies(prefix string, n, size int, stream uint64) ([][]byte, error) {
	r := rand.New(rand.NewPCG(b.o.seed, stream))
	gen := newEventGen(r)
	now := time.Now().UTC()
	custs := b.ds.customers
	bodies := make([][]byte, n)
	events := make([]groundwork.TrackEvent, size)
	for i := range n {
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
			return nil, fmt.Errorf("marshal batch: %w", err)
		}
		bodies[i] = body
	}
	return bodies, nil
}
