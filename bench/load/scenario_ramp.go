package main

import (
	"context"
	"fmt"
	"math"
	"sync/atomic"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// perUserStartsPerMin is how many starts one ramp user sends a minute: 80
// stays under the API's 100/min with room for window jitter (and 1.3/s is
// far under 10/s), so a 429 means the bench is wrong, not the API.
const perUserStartsPerMin = 80

// Pass criteria of a ramp step.
const (
	passP95ms     = 500
	passErrorRate = 0.001
)

// usersForRate is how many users share a step's starts.
func usersForRate(rate float64) int {
	return int(math.Ceil(rate * 60 / perUserStartsPerMin))
}

// runRamp drives the ramp scenario: POST /v1/exports at each rate for one
// step, each step with its own users, back to back; then, once the API's
// exports are done, the raw baseline at the same rates.
func runRamp(ctx context.Context, e *env, o options) (*Results, error) {
	groups := make([][]user, len(o.ramp))
	total := 0
	for i, r := range o.ramp {
		total += usersForRate(r)
		var err error
		// Users are made before any load, so creating them is not measured.
		if groups[i], err = e.createUsers(ctx, fmt.Sprintf("r%d", i), usersForRate(r)); err != nil {
			return nil, err
		}
	}
	logf("created %d users for %d steps", total, len(o.ramp))

	rr := &RampResult{Step: o.step.String(), Criteria: fmt.Sprintf("p95 < %d ms and errors < %g%%", passP95ms, passErrorRate*100)}
	for i, r := range o.ramp {
		if ctx.Err() != nil {
			break
		}
		us := groups[i]
		logf("ramp step %d/%d: %g starts/s for %s over %d users…", i+1, len(o.ramp), r, o.step, len(us))
		smp := newSample("POST /v1/exports")
		var k atomic.Uint64
		tr := func(t *vegeta.Target) error {
			*t = startTarget(e.api, us[(k.Add(1)-1)%uint64(len(us))], "")
			return nil
		}
		attack(ctx, tr, steady(r, o.step), o.step, fmt.Sprintf("ramp-%g", r), smp.add)
		rr.Steps = append(rr.Steps, RampStep{Rate: r, Users: len(us), API: smp.summary()})
	}

	if o.raw && ctx.Err() == nil {
		raw, err := newRawServer(ctx, e)
		if err != nil {
			return nil, err
		}
		defer raw.Close()
		drain(ctx, e, o.drainTimeout)
		for i := range rr.Steps {
			if ctx.Err() != nil {
				break
			}
			st := &rr.Steps[i]
			logf("raw step %d/%d: %g start+insert/s for %s…", i+1, len(rr.Steps), st.Rate, o.step)
			s := raw.measure(ctx, st.Rate, o.step)
			st.Raw = &s
			st.Ratio = ratio(st.API, s)
		}
	}

	for i := range rr.Steps {
		st := &rr.Steps[i]
		st.Pass = st.API.Requests > 0 && st.API.P95ms < passP95ms && st.API.ErrorRate < passErrorRate
		if st.Pass && (rr.Best == nil || st.Rate > *rr.Best) {
			rr.Best = &st.Rate
		}
	}
	return &Results{Scenario: "ramp", Ramp: rr}, nil
}
