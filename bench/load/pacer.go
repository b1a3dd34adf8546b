package main

import (
	"math"
	"time"
)

// steadyPacer sends hit k at k/rate from the very start of an attack and
// none at or after du. vegeta's ConstantPacer waits one interval before the
// first hit and, as it always hits after the wait it returns, sends one more
// past the duration; at one start a minute per user that shifts the users'
// first starts and lets the attack overrun by seconds.
type steadyPacer struct {
	rate float64 // per second
	du   time.Duration
}

// steady paces rate hits per second for du.
func steady(rate float64, du time.Duration) steadyPacer {
	return steadyPacer{rate: rate, du: du}
}

// Pace implements vegeta.Pacer.
func (p steadyPacer) Pace(elapsed time.Duration, hits uint64) (time.Duration, bool) {
	// From the hit count, not by adding intervals, so rounding never
	// accumulates: rate × du hits exactly.
	due := time.Duration(math.Round(float64(hits) * float64(time.Second) / p.rate))
	if due >= p.du {
		return 0, true
	}
	return max(due-elapsed, 0), false
}

// Rate implements vegeta.Pacer.
func (p steadyPacer) Rate(time.Duration) float64 { return p.rate }

// perUserPacer paces polls so that every user that has a run is polled once
// per period: the rate is active()/period and follows active() as users get
// their first run. It is still open-loop: the rate depends on how many
// users have started something, never on how fast polls are answered.
//
// vegeta calls Pace from one goroutine and always hits after the wait it
// returns, so the pacer keeps the due time of the next hit itself and
// advances it by one interval, at the current rate, per hit sent.
type perUserPacer struct {
	period time.Duration
	active func() int
	// du ends the attack: no hit is due at or after it.
	du time.Duration

	started bool
	due     time.Duration
	hits    uint64
}

// Pace implements vegeta.Pacer.
func (p *perUserPacer) Pace(elapsed time.Duration, hits uint64) (time.Duration, bool) {
	step := p.period / time.Duration(max(p.active(), 1))
	if !p.started {
		// The first user's first poll comes one period after the attack
		// begins, which is when that user got its first run.
		p.started, p.due = true, elapsed+step
	}
	for ; p.hits < hits; p.hits++ {
		p.due += step
	}
	if p.due >= p.du {
		return 0, true
	}
	return max(p.due-elapsed, 0), false
}

// Rate implements vegeta.Pacer.
func (p *perUserPacer) Rate(time.Duration) float64 {
	return float64(p.active()) / p.period.Seconds()
}
