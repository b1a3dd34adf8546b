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

// Issue 14's ingest goal.
const (
	goalIngestPerSecond = 5000.0
	goalIngestP95ms     = 100.0
)

// ingestFigures are the ingest benchmark's results.
type ingestFigures struct {
	Batches   int `json:"batches"`
	BatchSize int `json:"batch_size"`
	Clients   int `json:"clients"`
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

// ingestBench posts --ingest-batches fresh batches to POST /v1/track from
// --ingest-clients clients, each sending its next batch as soon as the
// previous one was answered. The bodies are made before the clock starts.
func (b *bench) ingestBench(ctx context.Context) error {
	o := b.o
	logf("ingest benchmark: %d batches of %d events, %d clients…", o.ingestBatches, o.ingestBatch, o.ingestClients)
	bodies, err := b.ingestBodies(o.ingestBatches, o.ingestBatch)
	if err != nil {
		return err
	}
	f := &ingestFigures{Batches: o.ingestBatches, BatchSize: o.ingestBatch, Clients: o.ingestClients}
	total := 0
	for _, body := range bodies {
		total += len(body)
	}
	f.BodyBytes = total / len(bodies)
	b.rep.Ingest = f

	s := newSample("POST /v1/track")
	var (
		next                         atomic.Int64
		stored, duplicates, achieved atomic.Int64
		wg                           sync.WaitGroup
	)
	start := time.Now()
	for range o.ingestClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= len(bodies) {
					return
				}
				a, err := b.c.send(ctx, http.MethodPost, "/v1/track", bodies[i])
				if err != nil {
					s.add(a.took, 0, false, err.Error())
					continue
				}
				var res struct {
					Stored             int64             `json:"stored"`
					Duplicates         int64             `json:"duplicates"`
					MilestonesAchieved []json.RawMessage `json:"milestones_achieved"`
				}
				if err := a.decode(http.MethodPost, "/v1/track", http.StatusOK, &res); err != nil {
					s.add(a.took, a.status, false, err.Error())
					continue
				}
				stored.Add(res.Stored)
				duplicates.Add(res.Duplicates)
				achieved.Add(int64(len(res.MilestonesAchieved)))
				ok := res.Stored == int64(o.ingestBatch)
				s.add(a.took, a.status, ok, fmt.Sprintf("stored %d of %d", res.Stored, o.ingestBatch))
			}
		}()
	}
	wg.Wait()
	wall := time.Since(start)
	f.Seconds = secs(wall)
	f.Stored, f.Duplicates, f.MilestonesAchieved = stored.Load(), duplicates.Load(), achieved.Load()
	f.EventsPerSecond = round1(float64(f.Stored) / wall.Seconds())
	f.Latency = s.summary(wall)
	b.rep.goal("ingest: events/s sustained through POST /v1/track", fmt.Sprintf("≥ %.0f", goalIngestPerSecond),
		fmt.Sprintf("%.0f", f.EventsPerSecond), f.EventsPerSecond >= goalIngestPerSecond && f.Latency.Errors == 0)
	b.rep.goal(fmt.Sprintf("ingest: p95 per %d-event batch", o.ingestBatch), fmt.Sprintf("< %.0f ms", goalIngestP95ms),
		fmtMs(f.Latency.P95ms), f.Latency.P95ms < goalIngestP95ms && f.Latency.Errors == 0)
	logf("ingest: %d events in %.1f s = %.0f events/s; batch p50 %.1f ms, p95 %.1f ms", f.Stored, f.Seconds, f.EventsPerSecond, f.Latency.P50ms, f.Latency.P95ms)
	if ctx.Err() != nil {
		return fmt.Errorf("ingest benchmark: %w", ctx.Err())
	}
	return nil
}

// ingestBodies makes the batches: fresh IDs, random customers, events that
// happened in the last minutes as live tracking sends them (2 % up to a
// week late, as a client's retry queue would).
func (b *bench) ingestBodies(n, size int) ([][]byte, error) {
	r := rand.New(rand.NewPCG(b.o.seed, 5))
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
			e := gen.event(fmt.Sprintf("live-%05d-%04d", i, j), custs[r.IntN(len(custs))].ID, at, at)
			events[j] = e
		}
		body, err := json.Marshal(map[string]any{"events": events})
		if err != nil {
			return nil, fmt.Errorf("marshal batch: %w", err)
		}
		bodies[i] = body
	}
	return bodies, nil
}
