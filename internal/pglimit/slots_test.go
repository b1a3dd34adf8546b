package pglimit

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/groundwork-dev/groundwork/internal/testkit/testenv"
)

// TestSlotLimiterSpacesSendsAcrossWorkers has three "workers" (limiters of
// their own on one database) send through one key at once: in send order,
// any n+1 sends span at least n intervals less the tolerance, so no window
// of the limit's length ever holds one too many.
func TestSlotLimiterSpacesSendsAcrossWorkers(t *testing.T) {
	pool, _ := testenv.Pool(t)
	const perSecond, workers, each = 50.0, 3, 15
	tolerance := 10 * time.Millisecond
	interval := time.Duration(float64(time.Second) / perSecond)
	var (
		mu     sync.Mutex
		sent   []time.Time
		missed int64
		wg     sync.WaitGroup
		errs   = make(chan error, workers)
	)
	for range workers {
		l := &SlotLimiter{Pool: pool, PerSecond: perSecond, Tolerance: tolerance}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				mu.Lock()
				missed += l.Missed() + l.Moved()
				mu.Unlock()
			}()
			for n := 0; n < each; {
				slot, err := l.Reserve(context.Background(), "test:spacing", nil)
				if err != nil {
					errs <- err
					return
				}
				if ok, err := Hold(context.Background(), slot); err != nil {
					errs <- err
					return
				} else if !ok {
					continue
				}
				mu.Lock()
				sent = append(sent, time.Now())
				mu.Unlock()
				n++
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if len(sent) != workers*each {
		t.Fatalf("%d sends, want %d", len(sent), workers*each)
	}
	slices.SortFunc(sent, func(a, b time.Time) int { return a.Compare(b) })
	for n := 1; n <= 5; n++ {
		for k := n; k < len(sent); k++ {
			if gap := sent[k].Sub(sent[k-n]); gap < time.Duration(n)*interval-tolerance {
				t.Errorf("sends %d and %d are %v apart; %d intervals less the tolerance is %v", k-n, k, gap, n, time.Duration(n)*interval-tolerance)
			}
		}
	}
	t.Logf("%d sends, %d slots moved or given up as late", len(sent), missed)
}

// TestSlotLimiterLateSlots: a caller that has not sent by its slot plus
// the tolerance moves the slot to now when no one reserved after it, and
// otherwise gives it up.
func TestSlotLimiterLateSlots(t *testing.T) {
	pool, _ := testenv.Pool(t)
	ctx := context.Background()
	// A tolerance well above a loaded machine's round trip, so that the
	// moved slot is on time when Hold checks it again.
	l := &SlotLimiter{Pool: pool, PerSecond: 1000, Tolerance: 50 * time.Millisecond}
	mine, err := l.Reserve(ctx, "test:late", nil)
	if err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 5*time.Second, "the slot to pass", mine.late)
	if ok, err := Hold(ctx, mine); err != nil || !ok {
		t.Fatalf("Hold of a late slot no one follows = %v, %v; want it moved", ok, err)
	}
	moved := l.Moved()
	if moved < 1 || l.Missed() != 0 {
		t.Fatalf("moved %d, missed %d; want at least 1, 0", moved, l.Missed())
	}

	mine, err = l.Reserve(ctx, "test:late", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Reserve(ctx, "test:late", nil); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 5*time.Second, "the slot to pass", mine.late)
	if ok, err := Hold(ctx, mine); err != nil || ok {
		t.Fatalf("Hold of a late slot someone follows = %v, %v; want it given up", ok, err)
	}
	if l.Moved() != moved || l.Missed() != 1 {
		t.Fatalf("moved %d, missed %d; want %d, 1", l.Moved(), l.Missed(), moved)
	}
}

// TestSlotLimiterWaitsInTurn: with one slot a second, a second caller is
// told to wait most of a second and honours it however it is cancelled.
func TestSlotLimiterWaitsInTurn(t *testing.T) {
	pool, _ := testenv.Pool(t)
	l := &SlotLimiter{Pool: pool, PerSecond: 1}
	if _, err := l.Reserve(context.Background(), "test:turn", nil); err != nil {
		t.Fatal(err)
	}
	var told time.Duration
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := l.Reserve(ctx, "test:turn", func(d time.Duration) { told = d; cancel() })
		done <- err
	}()
	if err := <-done; err != context.Canceled {
		t.Fatalf("Reserve = %v, want context.Canceled", err)
	}
	if told < 900*time.Millisecond || told > time.Second {
		t.Fatalf("told to wait %v, want just under 1s", told)
	}
}
