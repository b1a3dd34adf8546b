package pglimit

import (
	"cmp"
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

// SlotLimiter spaces requests to an outside service at most PerSecond
// units per key, across every worker, by reserving time slots in Postgres
// (rate_slots). It is the one limiter of every outbound rate: Airtable's
// requests per base and per token, webhook deliveries per endpoint, web
// pages per research domain and LLM tokens per provider. Unlike a bucket a
// caller polls, a reservation is one round trip, callers are served in the
// order they asked, several may hold future slots at once, and a waiting
// caller sleeps exactly until its slot.
//
// A slot may be weighted: a reservation of n units occupies n/PerSecond
// seconds of the key's time (n LLM tokens, or a robots.txt crawl delay
// longer than the rate's interval), and Burst units may go back to back
// after the key was idle, like a token bucket of that capacity. Settle
// corrects a weighted reservation to what was used.
//
// A limit like Airtable's counts requests as they arrive in any window of
// one second, so what matters is when a request is sent, not when its turn
// was taken: a request that goes out later than its slot (a stalled
// goroutine, a slow round trip) would arrive bunched with the ones after
// it. So for such limits a request must go within Tolerance of its slot
// (Hold): a late one moves its slot to now when no one has reserved after
// it, and otherwise gives it up and reserves again.
type SlotLimiter struct {
	Pool      *pgxpool.Pool
	PerSecond float64
	// Burst is how many units may go back to back once the key has been
	// idle long enough (default 1: requests evenly spaced, never bunched).
	// A reservation larger than the burst may still start on an idle key;
	// it then occupies its full size of the key's time.
	Burst float64
	// Tolerance is how late a request may go (default 10 ms); keep it well
	// under the margin the rate leaves below the real limit.
	Tolerance time.Duration
	// Recheck, when set, is for budgets whose reservations are estimates
	// settled later (LLM tokens): a caller whose slot is further away than
	// this looks, once per Recheck, at what the key's reservations have
	// given back since it reserved, and moves its slot that much sooner,
	// as Settle moved the key's next free time. Without it a give-back
	// only helps callers that reserve after it. Zero (the default) sleeps
	// straight to the slot with no further round trip.
	Recheck time.Duration

	moved, missed atomic.Int64
}

// Slot is a reserved time to send one request (or to spend n units).
type Slot struct {
	l   *SlotLimiter
	key string
	// n is the units reserved; cost is the seconds of the key's time they
	// occupy.
	n, cost float64
	// next identifies the slot in rate_slots: the next free time after it.
	next time.Time
	// earliest is the soonest, on this clock, the slot may have begun.
	earliest time.Time
	// givenBack is the key's given_back when the slot was reserved.
	givenBack float64
}

// Want is one limiter's part of a reservation: N units (at least 1) of
// Key's rate.
type Want struct {
	Limiter *SlotLimiter
	Key     string
	N       float64
}

// N is the units the slot reserved (0 for a slot of no limit), which is
// what Settle corrects.
func (s *Slot) N() float64 {
	if s == nil {
		return 0
	}
	return s.n
}

func (l *SlotLimiter) on() bool { return l != nil && l.PerSecond > 0 }

func (l *SlotLimiter) burst() float64 { return max(l.Burst, 1) }

func (l *SlotLimiter) tolerance() time.Duration {
	if l.Tolerance > 0 {
		return l.Tolerance
	}
	return 10 * time.Millisecond
}

// Reserve takes key's next slot and blocks until it. waiting is called
// with the time left before a wait and every second of it, so the caller
// can heartbeat. A nil limiter, or one without a rate, gives slots that
// are always on time.
func (l *SlotLimiter) Reserve(ctx context.Context, key string, waiting func(wait time.Duration)) (*Slot, error) {
	return l.ReserveN(ctx, key, 1, waiting)
}

// ReserveN reserves n units of key's rate (a slot n/PerSecond seconds
// long) and blocks until the slot begins.
func (l *SlotLimiter) ReserveN(ctx context.Context, key string, n float64, waiting func(wait time.Duration)) (*Slot, error) {
	slots, err := ReserveAll(ctx, waiting, Want{Limiter: l, Key: key, N: n})
	if err != nil {
		return nil, err
	}
	return slots[0], nil
}

// ReserveAll reserves a slot of every want at one common time, in a single
// statement (one round trip, atomic: all or none), and blocks until that
// time: a request limited per Airtable base and per token takes both turns
// at once rather than one after the other. The slots come back in the
// order of wants; a want whose limiter has no rate gets a nil slot. The
// limiters must share one database.
func ReserveAll(ctx context.Context, waiting func(wait time.Duration), wants ...Want) ([]*Slot, error) {
	slots := make([]*Slot, len(wants))
	var (
		pool   *pgxpool.Pool
		params sqlc.RateSlotsReserveParams
		byKey  = map[string]*Slot{}
	)
	for i, w := range wants {
		if !w.Limiter.on() {
			continue
		}
		if byKey[w.Key] != nil {
			return nil, fmt.Errorf("reserve request slots: key %q wanted twice", w.Key)
		}
		pool = cmp.Or(pool, w.Limiter.Pool)
		n := max(w.N, 1)
		s := &Slot{l: w.Limiter, key: w.Key, n: n, cost: n / w.Limiter.PerSecond}
		slots[i], byKey[w.Key] = s, s
		params.Names = append(params.Names, w.Key)
		params.CostSeconds = append(params.CostSeconds, s.cost)
		// A reservation larger than the burst starts on an idle key and
		// occupies its whole size, so its burst is its own size.
		params.BurstSeconds = append(params.BurstSeconds, max(n, w.Limiter.burst())/w.Limiter.PerSecond)
	}
	if len(params.Names) == 0 {
		return slots, nil
	}
	q := sqlc.New(pool)
	var (
		rows       []sqlc.RateSlotsReserveRow
		asked, got time.Time
	)
	for tries := 0; ; tries++ {
		asked = time.Now()
		var err error
		rows, err = q.RateSlotsReserve(ctx, params)
		if err != nil {
			return nil, fmt.Errorf("reserve request slots: %w", err)
		}
		got = time.Now()
		if len(rows) == len(params.Names) {
			break
		}
		// A key seen for the first time (or again after the cleanup
		// schedule forgot it): create it and ask again. Only a key
		// deleted again in between could make this loop twice.
		if tries == 3 {
			return nil, fmt.Errorf("reserve request slots: keys %v keep disappearing", params.Names)
		}
		if err := q.RateSlotsEnsure(ctx, params.Names); err != nil {
			return nil, fmt.Errorf("create request slots: %w", err)
		}
	}
	// Every key got the same start, so the wait is the same for all.
	d := time.Duration(rows[0].WaitSeconds * float64(time.Second))
	for _, r := range rows {
		s := byKey[r.Name]
		s.next, s.givenBack = r.NextAt, r.GivenBack
		// The slot lies between asked+d and got+d on this clock (Postgres
		// measured d somewhere in the round trip): sleep to the latest, so
		// the request is never early, and judge lateness from the
		// earliest, so it is never late unnoticed.
		s.earliest = asked.Add(d)
		metrics.LimiterWait.WithLabelValues(metrics.LimiterName(r.Name)).Observe(max(d, 0).Seconds())
	}
	if d > 0 {
		if waiting != nil {
			waiting(d)
		}
		if err := sleepUntil(ctx, got.Add(d), recheckable(slots), waiting); err != nil {
			return nil, err
		}
	}
	return slots, nil
}

// recheckable is the slot to recheck while waiting: the only slot of a
// reservation whose limiter asks for it. (A reservation of several keys
// keeps its common start.)
func recheckable(slots []*Slot) *Slot {
	var only *Slot
	for _, s := range slots {
		if s == nil {
			continue
		}
		if only != nil {
			return nil
		}
		only = s
	}
	if only == nil || only.l.Recheck <= 0 {
		return nil
	}
	return only
}

// wakeEvery is how often a long wait wakes to call waiting again (no round
// trip): an activity waiting minutes for its slot must keep heartbeating,
// or its heartbeat timeout would fail it and its retry would reserve again
// at the back, leaving its first slot unused.
const wakeEvery = time.Second

// sleepUntil sleeps until at, calling waiting every wakeEvery of it. With
// a slot to recheck, it also looks every Recheck at what the key's
// reservations gave back meanwhile and moves at (and the slot) by it,
// never before now.
func sleepUntil(ctx context.Context, at time.Time, s *Slot, waiting func(time.Duration)) error {
	var rechecked time.Time
	if s != nil {
		rechecked = time.Now()
	}
	for {
		left := time.Until(at)
		if left <= 0 {
			return nil
		}
		step := min(left, wakeEvery)
		if s != nil {
			step = min(step, s.l.Recheck)
		}
		t := time.NewTimer(step)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		if step == left {
			return nil
		}
		if s != nil && time.Since(rechecked) >= s.l.Recheck {
			rechecked = time.Now()
			gb, err := sqlc.New(s.l.Pool).RateSlotGivenBack(ctx, s.key)
			switch {
			case db.IsNotFound(err):
				// Forgotten by the cleanup: keep the slot as it is.
			case err != nil:
				return fmt.Errorf("recheck a request slot: %w", err)
			default:
				if delta := time.Duration((gb - s.givenBack) * float64(time.Second)); delta != 0 {
					at, s.earliest, s.givenBack = at.Add(-delta), s.earliest.Add(-delta), gb
				}
			}
		}
		if left := time.Until(at); left > 0 && waiting != nil {
			waiting(left)
		}
	}
}

// Settle corrects a weighted reservation of reserved units to the used
// ones: what was not used is given back, so the key's next reservation
// starts that much sooner; what was used beyond it is charged. Callers
// already waiting keep their slots (they would have to poll to learn of
// a give-back); the next to reserve gains.
func (l *SlotLimiter) Settle(ctx context.Context, key string, reserved, used float64) error {
	if !l.on() || reserved == used || reserved <= 0 {
		return nil
	}
	err := sqlc.New(l.Pool).RateSlotGiveBack(ctx, sqlc.RateSlotGiveBackParams{Name: key, Seconds: (reserved - used) / l.PerSecond})
	if err != nil {
		return fmt.Errorf("settle a weighted request slot: %w", err)
	}
	return nil
}

// late reports whether the slot is more than the tolerance past.
func (s *Slot) late() bool {
	return s != nil && time.Since(s.earliest) > s.l.tolerance()
}

// move moves a missed slot to now, which only works while no one has
// reserved after it.
func (s *Slot) move(ctx context.Context) (bool, error) {
	asked := time.Now()
	next, err := sqlc.New(s.l.Pool).RateSlotPush(ctx, sqlc.RateSlotPushParams{Name: s.key, NextAt: s.next, IntervalSeconds: s.cost})
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
