package pglimit

import (
	"context"
	"testing"
	"time"

	"github.com/groundwork-dev/groundwork/internal/testkit/testenv"
)

func TestTokenBucketIsSharedAndSettled(t *testing.T) {
	pool, _ := testenv.Pool(t)
	ctx := context.Background()
	// Two workers, one bucket: 6,000 tokens/min = 100/s, burst 100.
	w1 := &TokenBucket{Pool: pool, PerMinute: 6000, Burst: 100, MaxPoll: 50 * time.Millisecond}
	w2 := &TokenBucket{Pool: pool, PerMinute: 6000, Burst: 100, MaxPoll: 50 * time.Millisecond}
	waits := 0
	count := func(time.Duration) { waits++ }
	if n, err := w1.Take(ctx, "p", 100, count); err != nil || n != 100 || waits != 0 {
		t.Fatalf("first take: %d %v, %d waits", n, err, waits)
	}
	start := time.Now()
	if _, err := w2.Take(ctx, "p", 50, count); err != nil || waits == 0 {
		t.Fatalf("the second worker did not wait for the first's tokens: %v, %d waits", err, waits)
	}
	// 50 tokens at 100/s cannot be there sooner than 0.5 s after the first
	// take: a lower bound the bucket guarantees, however fast the machine.
	if el := time.Since(start); el < 400*time.Millisecond {
		t.Fatalf("took 50 tokens after %s", el)
	}
	// Settling an over-estimate gives the rest back at once.
	if err := w2.Settle(ctx, "p", 50, 0); err != nil {
		t.Fatal(err)
	}
	waits = 0
	if _, err := w1.Take(ctx, "p", 45, count); err != nil || waits != 0 {
		t.Fatalf("settled tokens were not returned: %v, %d waits", err, waits)
	}
	// Other providers have buckets of their own.
	if _, err := w1.Take(ctx, "q", 100, count); err != nil || waits != 0 {
		t.Fatalf("provider q waited on p's bucket: %v, %d waits", err, waits)
	}
}
