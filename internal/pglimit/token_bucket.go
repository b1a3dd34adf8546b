package pglimit

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/groundwork-dev/groundwork/db"
	"github.com/groundwork-dev/groundwork/db/sqlc"
)

// TokenBucket is a per-minute budget per key kept in Postgres, so every
// worker process draws from the same bucket: LLM tokens per provider
// ("tpm:<provider>"), where a call takes its estimated tokens before it
// starts and settles the actual usage after, the way the providers
// themselves count; and requests per web domain ("domain:<host>").
type TokenBucket struct {
	Pool      *pgxpool.Pool
	PerMinute int64
	// Burst is the bucket's capacity (default PerMinute).
	Burst int64
	// MaxPoll bounds the wait between two tries (default 1 s), so tokens
	// another call gave back are noticed soon.
	MaxPoll time.Duration
}

func (b *TokenBucket) capacity() float64 {
	if b.Burst > 0 {
		return float64(b.Burst)
	}
	return float64(b.PerMinute)
}

// Take blocks until n tokens (at most the bucket's capacity) are taken from
// key's bucket and returns how many it took. waiting is called
// before each wait, so the caller can heartbeat.
func (b *TokenBucket) Take(ctx context.Context, key string, n int64, waiting func(wait time.Duration)) (int64, error) {
	if b == nil || b.PerMinute <= 0 {
		return 0, nil
	}
	want := math.Min(float64(n), b.capacity())
	perSecond := float64(b.PerMinute) / 60
	q := sqlc.New(b.Pool)
	for {
		row, err := q.RateBucketTake(ctx, sqlc.RateBucketTakeParams{N: want, Name: key, Capacity: b.capacity(), PerSecond: perSecond})
		if db.IsNotFound(err) {
			if err := q.RateBucketEnsure(ctx, sqlc.RateBucketEnsureParams{Name: key, Capacity: b.capacity()}); err != nil {
				return 0, fmt.Errorf("create token bucket: %w", err)
			}
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("take tokens: %w", err)
		}
		if row.Taken {
			return int64(want), nil
		}
		wait := time.Duration((want - row.Level) / perSecond * float64(time.Second))
		wait = min(max(wait, 10*time.Millisecond), b.maxPoll())
		if waiting != nil {
			waiting(wait)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return 0, ctx.Err()
		case <-t.C:
		}
	}
}

// Settle corrects a reservation of taken tokens to the used ones: unused
// tokens go back to the bucket, tokens used beyond the estimate are taken.
func (b *TokenBucket) Settle(ctx context.Context, key string, taken, used int64) error {
	if b == nil || b.PerMinute <= 0 || taken == used {
		return nil
	}
	err := sqlc.New(b.Pool).RateBucketReturn(ctx, sqlc.RateBucketReturnParams{Capacity: b.capacity(), N: float64(taken - used), Name: key})
	if err != nil {
		return fmt.Errorf("settle tokens: %w", err)
	}
	return nil
}

func (b *TokenBucket) maxPoll() time.Duration {
	if b.MaxPoll > 0 {
		return b.MaxPoll
	}
	return time.Second
}
