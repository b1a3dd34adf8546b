package pglimit

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/groundwork-dev/groundwork/internal/testkit/testenv"
)

// countingPool is a pool on url that counts the reservation statements it
// sends, so a test can tell one round trip from a poll loop.
func countingPool(t *testing.T, url string) (*pgxpool.Pool, *atomic.Int64) {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	var n atomic.Int64
	cfg.ConnConfig.Tracer = reserveCounter{&n}
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool, &n
}

type reserveCounter struct{ n *atomic.Int64 }

func (c reserveCounter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	if strings.Contains(d.SQL, "name: RateSlotsReserve ") {
		c.n.Add(1)
	}
	return ctx
}

func (reserveCounter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// slotStart is when a slot began on Postgres' clock: its next free time
// less its own length (exact, whatever the machine's load).
func slotStart(s *Slot) time.Time {
	return s.next.Add(-time.Duration(s.cost * float64(time.Second)))
}

// TestSlotLimiterWaitersSleepToDistinctSlots: N callers on two "workers"
// asking at once get N distinct slots at least one interval apart, each
// with one statement (no polling), and each returns no sooner than its
// slot.
func TestSlotLimiterWaitersSleepToDistinctSlots(t *testing.T) {
	_, url := testenv.Pool(t)
	pool, statements := countingPool(t, url)
	const perSecond, waiters = 20.0, 8
	interval := time.Duration(float64(time.Second) / perSecond)
	workers := []*SlotLimiter{{Pool: pool, PerSecond: perSecond}, {Pool: pool, PerSecond: perSecond}}
	ctx := context.Background()
	// The key exists and is busy for one interval: nobody needs to create it.
	first, err := workers[0].Reserve(ctx, "domain:example.com", nil)
	if err != nil {
		t.Fatal(err)
	}
	statements.Store(0)

	type result struct {
		slot     *Slot
		returned time.Time
		waited   bool
	}
	results := make([]result, waiters)
	var wg sync.WaitGroup
	errs := make(chan error, waiters)
	for i := range waiters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var waited bool
			s, err := workers[i%2].Reserve(ctx, "domain:example.com", func(time.Duration) { waited = true })
			if err != nil {
				errs <- err
				return
			}
			results[i] = result{slot: s, returned: time.Now(), waited: waited}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if got := statements.Load(); got != waiters {
		t.Errorf("%d reservation statements for %d waiters, want exactly one each", got, waiters)
	}
	starts := []time.Time{slotStart(first)}
	for i, r := range results {
		if !r.waited {
			t.Errorf("waiter %d did not wait although the key was busy", i)
		}
		starts = append(starts, slotStart(r.slot))
		// It returned no sooner than its slot (on this clock: its earliest
		// possible start).
		if r.returned.Before(r.slot.earliest) {
			t.Errorf("waiter %d returned %v before its slot", i, r.slot.earliest.Sub(r.returned))
		}
	}
	slices.SortFunc(starts, func(a, b time.Time) int { return a.Compare(b) })
	for k := 1; k < len(starts); k++ {
		if gap := starts[k].Sub(starts[k-1]); gap < interval-time.Microsecond {
			t.Errorf("slots %d and %d are %v apart, want ≥ %v", k-1, k, gap, interval)
		}
	}
	// In return order the same holds, less the tolerance of a sleeping
	// goroutine waking.
	slices.SortFunc(results, func(a, b result) int { return a.returned.Compare(b.returned) })
	if span := results[len(results)-1].returned.Sub(results[0].returned); span < time.Duration(waiters-1)*interval-20*time.Millisecond {
		t.Errorf("%d waiters returned within %v, want ≥ %v", waiters, span, time.Duration(waiters-1)*interval)
	}
}

// TestReserveAllTakesEveryLimitInOneStatement: a request limited per base
// and per token reserves both in one statement, at one common start, and
// concurrent callers of either key alone or both still get spaced slots.
func TestReserveAllTakesEveryLimitInOneStatement(t *testing.T) {
	_, url := testenv.Pool(t)
	pool, statements := countingPool(t, url)
	perBase := &SlotLimiter{Pool: pool, PerSecond: 25}
	perToken := &SlotLimiter{Pool: pool, PerSecond: 100}
	ctx := context.Background()
	both := func() ([]*Slot, error) {
		return ReserveAll(ctx, nil, Want{Limiter: perBase, Key: "airtable-base:app1"}, Want{Limiter: perToken, Key: "airtable-token:t1"})
	}
	if _, err := both(); err != nil { // creates the keys
		t.Fatal(err)
	}
	statements.Store(0)
	slots, err := both()
	if err != nil {
		t.Fatal(err)
	}
	if n := statements.Load(); n != 1 {
		t.Fatalf("%d statements to reserve two limits, want 1", n)
	}
	if a, b := slotStart(slots[0]), slotStart(slots[1]); !a.Equal(b) {
		t.Fatalf("base slot starts %v, token slot %v: want one common start", a, b)
	}

	// Pairs and token-only callers at once.
	var (
		mu          sync.Mutex
		base, token []time.Time
		wg          sync.WaitGroup
		errs        = make(chan error, 16)
	)
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i%2 == 0 {
				s, err := both()
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				base, token = append(base, slotStart(s[0])), append(token, slotStart(s[1]))
				mu.Unlock()
				if !slotStart(s[0]).Equal(slotStart(s[1])) {
					errs <- fmt.Errorf("a pair's slots start apart: %v and %v", slotStart(s[0]), slotStart(s[1]))
				}
				return
			}
			s, err := perToken.Reserve(ctx, "airtable-token:t1", nil)
			if err != nil {
				errs <- err
				return
			}
			mu.Lock()
			token = append(token, slotStart(s))
			mu.Unlock()
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name   string
		starts []time.Time
		l      *SlotLimiter
	}{{"base", base, perBase}, {"token", token, perToken}} {
		interval := time.Duration(float64(time.Second) / c.l.PerSecond)
		slices.SortFunc(c.starts, func(a, b time.Time) int { return a.Compare(b) })
		for k := 1; k < len(c.starts); k++ {
			if gap := c.starts[k].Sub(c.starts[k-1]); gap < interval-time.Microsecond {
				t.Errorf("%s slots %d and %d are %v apart, want ≥ %v", c.name, k-1, k, gap, interval)
			}
		}
	}
}

// TestReserveAllIsAllOrNone: when one key does not exist yet, the keys
// that do are not charged for the attempt that reserved nothing.
func TestReserveAllIsAllOrNone(t *testing.T) {
	pool, _ := testenv.Pool(t)
	ctx := context.Background()
	l := &SlotLimiter{Pool: pool, PerSecond: 10}
	before, err := l.Reserve(ctx, "k:a", nil)
	if err != nil {
		t.Fatal(err)
	}
	slots, err := ReserveAll(ctx, nil, Want{Limiter: l, Key: "k:a"}, Want{Limiter: l, Key: "k:new"})
	if err != nil {
		t.Fatal(err)
	}
	// k:a was busy until before.next: the pair starts then, and k:a moves
	// on by exactly one slot, not two.
	if got := slots[0].next.Sub(before.next); got != 100*time.Millisecond {
		t.Fatalf("k:a moved on by %v, want one slot of 100ms", got)
	}
	if !slotStart(slots[1]).Equal(before.next) {
		t.Fatalf("the new key's slot starts %v, want with k:a's at %v", slotStart(slots[1]), before.next)
	}
	if _, err := ReserveAll(ctx, nil, Want{Limiter: l, Key: "k:a"}, Want{Limiter: l, Key: "k:a"}); err == nil {
		t.Fatal("a key wanted twice in one reservation was accepted")
	}
}

// TestWeightedSlotsAndSettle: a token budget as weighted slots. n tokens
// occupy n/rate seconds, a burst goes at once on an idle key, a give-back
// lets the next caller start sooner, and keys are independent.
func TestWeightedSlotsAndSettle(t *testing.T) {
	pool, _ := testenv.Pool(t)
	ctx := context.Background()
	// Two workers, one budget: 6,000 tokens/min = 100/s, burst 100.
	w1 := &SlotLimiter{Pool: pool, PerSecond: 100, Burst: 100}
	w2 := &SlotLimiter{Pool: pool, PerSecond: 100, Burst: 100}
	var told time.Duration
	tell := func(d time.Duration) { told = d }
	s, err := w1.ReserveN(ctx, "tpm:p", 100, tell)
	if err != nil || told != 0 || s.N() != 100 {
		t.Fatalf("the burst on an idle key: %v, told to wait %v, %v units", err, told, s.N())
	}
	start := time.Now()
	if _, err := w2.ReserveN(ctx, "tpm:p", 50, tell); err != nil {
		t.Fatal(err)
	}
	// 50 tokens at 100/s: half a second after the burst, not sooner.
	if told < 400*time.Millisecond || told > 500*time.Millisecond {
		t.Fatalf("the second worker was told to wait %v, want just under 500ms", told)
	}
	if el := time.Since(start); el < 400*time.Millisecond {
		t.Fatalf("took 50 tokens after %v", el)
	}
	// Giving back the 50 unused tokens: 45 more fit at once.
	if err := w2.Settle(ctx, "tpm:p", 50, 0); err != nil {
		t.Fatal(err)
	}
	told = 0
	if _, err := w1.ReserveN(ctx, "tpm:p", 45, tell); err != nil || told != 0 {
		t.Fatalf("settled tokens were not given back: %v, told to wait %v", err, told)
	}
	// Other providers have budgets of their own.
	if _, err := w1.ReserveN(ctx, "tpm:q", 100, tell); err != nil || told != 0 {
		t.Fatalf("provider q waited on p's budget: %v, told to wait %v", err, told)
	}
	// A reservation above the burst starts on an idle key and holds it
	// for its whole size: 200 tokens at 100/s = 2 s.
	big, err := w1.ReserveN(ctx, "tpm:r", 200, tell)
	if err != nil || told != 0 {
		t.Fatalf("an oversize reservation on an idle key: %v, told to wait %v", err, told)
	}
	if got := big.next.Sub(slotStart(big)); got != 2*time.Second {
		t.Fatalf("200 tokens occupy %v, want 2s", got)
	}
	// A nil limiter, or one without a rate, never waits.
	var none *SlotLimiter
	if s, err := none.ReserveN(ctx, "tpm:p", 1e9, tell); err != nil || s != nil || told != 0 {
		t.Fatalf("nil limiter: %v, %v, told %v", s, err, told)
	}
}

// TestWaitersRecheckGiveBacks: with Recheck, a caller waiting for a
// weighted slot far ahead gains what an earlier call gives back while it
// waits; without it, only callers that reserve after the give-back gain.
func TestWaitersRecheckGiveBacks(t *testing.T) {
	pool, _ := testenv.Pool(t)
	ctx := context.Background()
	for _, recheck := range []time.Duration{20 * time.Millisecond, 0} {
		key := fmt.Sprintf("tpm:recheck-%v", recheck)
		l := &SlotLimiter{Pool: pool, PerSecond: 100, Burst: 100, Recheck: recheck}
		first, err := l.ReserveN(ctx, key, 100, nil)
		if err != nil {
			t.Fatal(err)
		}
		// The second caller has to wait a second for the first's 100 tokens.
		reserved := make(chan time.Duration, 1)
		done := make(chan time.Time, 1)
		go func() {
			if _, err := l.ReserveN(ctx, key, 100, func(d time.Duration) {
				select {
				case reserved <- d: // the first call: the wait it was told
				default:
				}
			}); err != nil {
				t.Error(err)
			}
			done <- time.Now()
		}()
		told := <-reserved
		asked := time.Now()
		if told < 800*time.Millisecond {
			t.Fatalf("told to wait %v, want about 1s", told)
		}
		// The first call used nothing: its second is given back.
		if err := l.Settle(ctx, key, first.N(), 0); err != nil {
			t.Fatal(err)
		}
		waited := (<-done).Sub(asked)
		if recheck > 0 && waited > told-400*time.Millisecond {
			t.Errorf("with recheck %v: waited %v of the %v told; the give-back was not taken", recheck, waited, told)
		}
		if recheck == 0 && waited < told-100*time.Millisecond {
			t.Errorf("without recheck: waited only %v of the %v told", waited, told)
		}
	}
}

// TestLongWaitsKeepCallingWaiting: a caller waiting seconds for its slot
// is told again while it waits (an activity must keep heartbeating), not
// only once before the wait. The test ends the wait at the second call.
func TestLongWaitsKeepCallingWaiting(t *testing.T) {
	pool, _ := testenv.Pool(t)
	l := &SlotLimiter{Pool: pool, PerSecond: 0.25} // a slot every 4 s
	if _, err := l.Reserve(context.Background(), "k:slow", nil); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var calls []time.Duration
	_, err := l.Reserve(ctx, "k:slow", func(left time.Duration) {
		calls = append(calls, left)
		if len(calls) == 2 {
			cancel()
		}
	})
	if err != context.Canceled {
		t.Fatalf("Reserve = %v after %d calls of waiting (%v); want a second call while it waited, then context.Canceled", err, len(calls), calls)
	}
	if calls[1] >= calls[0] {
		t.Fatalf("waiting told %v, then %v: want less left the second time", calls[0], calls[1])
	}
}
