package llmfake

import "time"

// unitsPerToken is the bucket's fixed-point scale: with 60e6 units per token,
// a bucket refilling at TokensPerMinute tokens per minute gains exactly
// TokensPerMinute units per microsecond. Integer arithmetic keeps the
// remaining-token headers and retry-after values exact, which float
// arithmetic would not (6 s at 100/60 tokens per second is not 10 tokens in
// float64).
const unitsPerToken = 60_000_000

// bucket is the TokensPerMinute token bucket; the Server's mutex guards it.
type bucket struct {
	limit int   // tokens per minute, which is also the capacity in tokens
	units int64 // content; negative after charging more than was estimated
	last  time.Time
}

func newBucket(limit int, now time.Time) *bucket {
	return &bucket{limit: limit, units: int64(limit) * unitsPerToken, last: now}
}

// admission is the outcome of asking the bucket for tokens.
type admission struct {
	ok        bool
	tooLarge  bool          // the request needs more than the capacity
	wait      time.Duration // until the request would fit, when neither ok nor tooLarge
	remaining int           // whole tokens left
	reset     time.Duration // until the bucket is full again
}

func (b *bucket) capacity() int64 { return int64(b.limit) * unitsPerToken }

// refill credits the time since the last refill. It advances last only by
// whole microseconds credited, so repeated refills do not lose time, and
// ignores a clock that went backwards.
func (b *bucket) refill(now time.Time) {
	us := now.Sub(b.last).Microseconds()
	if us <= 0 {
		return
	}
	if us >= ceilDiv(b.capacity()-b.units, int64(b.limit)) {
		b.units, b.last = b.capacity(), now
		return
	}
	b.units += us * int64(b.limit)
	b.last = b.last.Add(time.Duration(us) * time.Microsecond)
}

// take debits tokens if the bucket holds them.
func (b *bucket) take(tokens int, now time.Time) admission {
	b.refill(now)
	need := int64(tokens) * unitsPerToken
	var a admission
	switch {
	case tokens > b.limit:
		a.tooLarge = true
	case b.units < need:
		a.wait = time.Duration(ceilDiv(need-b.units, int64(b.limit))) * time.Microsecond
	default:
		b.units -= need
		a.ok = true
	}
	a.remaining = int(max(b.units, 0) / unitsPerToken)
	a.reset = time.Duration(ceilDiv(b.capacity()-b.units, int64(b.limit))) * time.Microsecond
	return a
}

// refund returns tokens that were debited but not used; a negative refund
// charges a request that used more than it was estimated to.
func (b *bucket) refund(tokens int, now time.Time) {
	b.refill(now)
	b.units = min(b.units+int64(tokens)*unitsPerToken, b.capacity())
}

// ceilDiv divides rounding up, for a non-negative a and a positive b.
func ceilDiv(a, b int64) int64 {
	return (a + b - 1) / b
}
