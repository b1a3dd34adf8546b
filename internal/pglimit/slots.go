package pglimit

import (
	"context"
	"fmt"
	"slices"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/groundwork-dev/groundwork/db"
	"github.com/groundwork-dev/groundwork/db/sqlc"
	"github.com/groundwork-dev/groundwork/internal/metrics"
)

// SlotLimiter spaces requests to an API at most PerSecond per key, across
// every worker, by reserving time slots in Postgres (rate_slots). Unlike a
// bucket a caller polls, a reservation is one round trip, callers are
// served in the order they asked, and several may hold future slots at
// once.
//
// A limit like Airtable's counts requests as they arrive in any window of
// one second, so what matters is when a request is sent, not when its turn
// was taken: a request that goes out later than its slot (a stalled
// goroutine, a slow round trip) would arrive bunched with the ones after
// it. So a request must go within Tolerance of its slot; a late one moves
// its slot to now when no one has reserved after it, and otherwise gives
// it up and reserves again.
type SlotLimiter struct {
	Pool      *pgxpool.Pool
	PerSecond float64
	// Tolerance is how late a request may go (default 10 ms); keep it well
	// under the margin the rate leaves below the real limit.
	Tolerance time.Duration

	moved, missed atomic.Int64
}

// Slot is a reserved time to send one request.
type Slot struct {
	l   *SlotLimiter
	key string
	// next identifies the slot in rate_slots: the next free time after it.
	next time.Time
	// earliest is the soonest, on this clock, the slot may have begun.
	earliest time.Time
}

func (l *SlotLimiter) interval() float64 { return 1 / l.PerSecond }

func (l *SlotLimiter) tolerance() time.Duration {
	if l.Tolerance > 0 {
		return l.Tolerance
	}
	return 10 * time.Millisecond
}

// Reserve takes key's next slot and blocks until it. waiting is called
// before a wait, so the caller can heartbeat. A nil limiter, or one without
// a rate, gives slots that are always on time.
func (l *SlotLimiter) Reserve(ctx context.Context, key string, waiting func(wait time.Duration)) (*Slot, error) {
	if l == nil || l.PerSecond <= 0 {
		return nil, nil
	}
	asked := time.Now()
	row, err := sqlc.New(l.Pool).RateSlotReserve(ctx, sqlc.RateSlotReserveParams{Name: key, IntervalSeconds: l.interval()})
	if err != nil {
		return nil, fmt.Errorf("reserve a request slot: %w", err)
	}
	got := time.Now()
	d := time.Duration(row.WaitSeconds * float64(time.Second))
	metrics.LimiterWait.WithLabelValues(metrics.LimiterName(key)).Observe(max(d, 0).Seconds())
	// The slot lies between asked+d and got+d on this clock (Postgres
	// measured d somewhere in the round trip): sleep to the latest, so the
	// request is never early, and judge lateness from the earliest, so it
	// is never late unnoticed.
	s := &Slot{l: l, key: key, next: row.NextAt, earliest: asked.Add(d)}
	if d > 0 {
		if waiting != nil {
			waiting(d)
		}
		t := time.NewTimer(time.Until(got.Add(d)))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
	}
	return s, nil
}

// late reports whether the slot is more than the tolerance past.
func (s *Slot) late() bool {
	return s != nil && time.Since(s.earliest) > s.l.tolerance()
}

// move moves a missed slot to now, which only works while no one has
// reserved after it.
func (s *Slot) move(ctx context.Context) (bool, error) {
	asked := time.Now()
	next, err := sqlc.New(s.l.Pool).RateSlotPush(ctx, sqlc.RateSlotPushParams{Name: s.key, NextAt: s.next, IntervalSeconds: s.l.interval()})
	if db.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("move a request slot: %w", err)
	}
	s.next, s.earliest = next, asked
	s.l.moved.Add(1)
	return true, nil
}

// Hold reports, right before a request is sent, whether it may go now:
// every slot is on time, or was moved to now. When it reports false the
// slots are lost and the caller reserves again.
func Hold(ctx context.Context, slots ...*Slot) (bool, error) {
	slots = slices.DeleteFunc(slots, func(s *Slot) bool { return s == nil })
	if len(slots) == 0 {
		return true, nil
	}
	for range 3 {
		onTime := true
		for _, s := range slots {
			if !s.late() {
				continue
			}
			moved, err := s.move(ctx)
			if err != nil {
				return false, err
			}
			if !moved {
				s.l.missed.Add(1)
				return false, nil
			}
			onTime = false
		}
		if onTime {
			return true, nil
		}
		// Moving one slot took a round trip: check them all again.
	}
	slots[0].l.missed.Add(1)
	return false, nil
}

// Missed is how many slots were given up for being late with someone
// reserved after them.
func (l *SlotLimiter) Missed() int64 {
	if l == nil {
		return 0
	}
	return l.missed.Load()
}

// Moved is how many late slots were moved to when the request went.
func (l *SlotLimiter) Moved() int64 {
	if l == nil {
		return 0
	}
	return l.moved.Load()
}
