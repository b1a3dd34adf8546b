package main

import (
	"context"
	"math"
	"sort"
	"sync"
	"time"
)

// pgWaitEvery is how often a phase samples what Postgres's backends are
// doing.
const pgWaitEvery = 100 * time.Millisecond

// pgWait is one thing Postgres's client backends were doing while a
// phase ran: a wait event ("IO:WALSync", "Lock:transactionid in UPDATE
// …", with the start of the waiting statement), or "running" (active,
// not waiting), with the mean number of backends found doing it per
// sample.
type pgWait struct {
	Event    string  `json:"event"`
	Backends float64 `json:"mean_backends"`
}

// pgWaitSampler counts, every pgWaitEvery, the active client backends of
// the stack's Postgres by wait event, to tell where a phase's
// transactions spend their time (a hot row shows as Lock waits, slow
// commits as IO:WALSync or LWLock:WALWrite).
type pgWaitSampler struct {
	stop    context.CancelFunc
	done    chan struct{}
	mu      sync.Mutex
	counts  map[string]int
	samples int
}

// sampleWaits starts sampling until the returned sampler's finish.
func (b *bench) sampleWaits(ctx context.Context) *pgWaitSampler {
	ctx, stop := context.WithCancel(ctx)
	s := &pgWaitSampler{stop: stop, done: make(chan struct{}), counts: map[string]int{}}
	go func() {
		defer close(s.done)
		t := time.NewTicker(pgWaitEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			// A lock wait names the statement waiting, which tells the
			// contended table.
			rows, err := b.pool.Query(ctx, `SELECT coalesce(wait_event_type || ':' || wait_event, 'running')
					|| CASE WHEN wait_event_type = 'Lock' THEN ' in ' || left(regexp_replace(query, '\s+', ' ', 'g'), 48) || '…' ELSE '' END, count(*)
				FROM pg_stat_activity WHERE state = 'active' AND backend_type = 'client backend' AND pid <> pg_backend_pid() GROUP BY 1`)
			if err != nil {
				continue // a lost sample; the mean is over the others
			}
			got := map[string]int{}
			for rows.Next() {
				var ev string
				var n int
				if rows.Scan(&ev, &n) == nil {
					got[ev] = n
				}
			}
			if rows.Close(); rows.Err() != nil {
				continue
			}
			s.mu.Lock()
			s.samples++
			for ev, n := range got {
				s.counts[ev] += n
			}
			s.mu.Unlock()
		}
	}()
	return s
}

// finish stops sampling and returns the five commonest events, most
// backends first.
func (s *pgWaitSampler) finish() []pgWait {
	s.stop()
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.samples == 0 {
		return nil
	}
	out := make([]pgWait, 0, len(s.counts))
	for ev, n := range s.counts {
		out = append(out, pgWait{Event: ev, Backends: math.Round(float64(n)/float64(s.samples)*100) / 100})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Backends != out[j].Backends {
			return out[i].Backends > out[j].Backends
		}
		return out[i].Event < out[j].Event
	})
	return out[:min(len(out), 5)]
}
