package activities

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/groundwork-dev/groundwork/db/sqlc"
)

// SlotLimiter spaces requests to an API at most PerSecond per key, across
// every worker, by reserving time slots in Postgres (rate_slots). Unlike a
// bucket a caller polls, a reservation is one round trip, callers are
// served in the order they asked, and several may hold future slots at
// once, so requests can be prepared while earlier ones are in flight.
//
// A limit like Airtable's counts requests as they arrive in any window of
// one second, so what matters is when a request is sent, not when its turn
// was taken: a request that goes out later than its slot (a stalled
// goroutine, a slow round trip) would arrive bunched with the ones after
// it. A caller that finds itself more than Tolerance past its slot gives
// the slot up and reserves again.
type SlotLimiter struct {
	Pool      *pgxpool.Pool
	PerSecond float64
	// Tolerance is how late a request may go (default 10 ms); keep it well
	// under the margin the rate leaves below the real limit.
	Tolerance time.Duration

	missed atomic.Int64
}

// Reserve blocks until key's next slot and returns a function that
// reports, right before the request is sent, whether the slot still holds;
// when it does not the caller reserves again. waiting is called before a
// wait, so the caller can heartbeat.
func (l *SlotLimiter) Reserve(ctx context.Context, key string, waiting func(wait time.Duration)) (onTime func() bool, err error) {
	if l == nil || l.PerSecond <= 0 {
		return func() bool { return true }, nil
	}
	interval := 1 / l.PerSecond
	asked := time.Now()
	wait, err := sqlc.New(l.Pool).RateSlotReserve(ctx, sqlc.RateSlotReserveParams{Name: key, IntervalSeconds: interval})
	if err != nil {
		return nil, fmt.Errorf("reserve a request slot: %w", err)
	}
	got := time.Now()
	d := time.Duration(wait * float64(time.Second))
	// The slot lies between asked+d and got+d on this clock (Postgres
	// measured d somewhere in the round trip): sleep to the latest, so the
	// request is never early, and judge lateness from the earliest, so it
	// is never late unnoticed.
	earliest, latest := asked.Add(d), got.Add(d)
	if d > 0 {
		if waiting != nil {
			waiting(d)
		}
		t := time.NewTimer(time.Until(latest))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
	}
	tolerance := l.Tolerance
	if tolerance <= 0 {
		tolerance = 10 * time.Millisecond
	}
	return func() bool {
		if time.Since(earliest) <= tolerance {
			return true
		}
		l.missed.Add(1)
		return false
	}, nil
}

// Missed is how many slots were given up for being late.
func (l *SlotLimiter) Missed() int64 {
	if l == nil {
		return 0
	}
	return l.missed.Load()
}
