package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// What one simulated user does: start an export every startEvery and poll
// its latest run every pollEvery. 1 + 30 requests a minute per user stays
// far below the API's 10/s and 100/min, so a 429 means the bench is wrong.
const (
	startEvery = 60 * time.Second
	pollEvery  = 2 * time.Second
)

// runUsers drives the users scenario: two concurrent open-loop attacks,
// starts at N/60 per second rotating over the users (so their first starts
// are spread evenly over the first minute) and polls at one per user with a
// run every 2 s, then the raw baseline at the start rate.
func runUsers(ctx context.Context, e *env, o options) (*Results, error) {
	logf("creating %d users…", o.users)
	users, err := e.createUsers(ctx, "u", o.users)
	if err != nil {
		return nil, err
	}
	st := newUsersState(users)
	starts := newSample("POST /v1/exports")
	polls := newSample("GET /v1/runs/{id}")
	startRate := float64(o.users) / startEvery.Seconds()

	logf("users: %d users for %s: %.2f starts/s, polls up to %.1f/s…", o.users, o.duration, startRate, float64(o.users)/pollEvery.Seconds())
	began := time.Now()
	var wg sync.WaitGroup
	sctx, stopSoak := context.WithCancel(ctx)
	defer stopSoak()
	if e.soak != nil {
		wg.Go(func() { e.soak.run(sctx, began, o.duration) })
	}
	wg.Go(func() {
		var k atomic.Uint64
		tr := func(t *vegeta.Target) error {
			i := int((k.Add(1) - 1) % uint64(len(users)))
			*t = startTarget(e.api, users[i], "u="+strconv.Itoa(i))
			return nil
		}
		attack(ctx, tr, steady(startRate, o.duration), o.duration, "starts", func(r *vegeta.Result) {
			starts.add(r)
			st.started(r)
			if e.soak != nil {
				e.soak.record(false, r)
			}
		})
	})
	wg.Go(func() {
		// Polling begins once the first run exists; until then no user
		// has anything to poll.
		deadline := began.Add(o.duration)
		select {
		case <-st.first:
		case <-ctx.Done():
			return
		case <-time.After(time.Until(deadline)):
			return
		}
		remaining := time.Until(deadline)
		if remaining <= 0 {
			return
		}
		var k atomic.Uint64
		tr := func(t *vegeta.Target) error {
			u, id := st.pollTarget(k.Add(1) - 1)
			*t = vegeta.Target{
				Method: http.MethodGet,
				URL:    e.api + "/v1/runs/" + url.PathEscape(id),
				Header: http.Header{"Authorization": {"Bearer " + u.Token}},
			}
			return nil
		}
		pacer := &perUserPacer{period: pollEvery, active: st.activeCount, du: remaining}
		attack(ctx, tr, pacer, remaining, "polls", func(r *vegeta.Result) {
			polls.add(r)
			st.polled(r)
			if e.soak != nil {
				e.soak.record(true, r)
			}
		})
	})
	wg.Wait()

	ur := &UsersResult{
		Users:      o.users,
		Duration:   o.duration.String(),
		StartRate:  round2(startRate),
		PollRate:   round2(float64(o.users) / pollEvery.Seconds()),
		Starts:     starts.summary(),
		Polls:      polls.summary(),
		Completion: st.completion(),
		BadBodies:  int(st.badBodies.Load()),
	}
	if e.soak != nil {
		ur.Soak = e.soak.result(ur.Starts.Errors + ur.Polls.Errors)
	}
	if o.raw && ctx.Err() == nil {
		raw, err := newRawServer(ctx, e)
		if err != nil {
			return nil, err
		}
		defer raw.Close()
		drain(ctx, e, o.drainTimeout)
		logf("raw baseline: %.2f start+insert/s for %s…", startRate, o.duration)
		s := raw.measure(ctx, startRate, o.duration)
		ur.Raw = &s
		ur.Ratio = ratio(ur.Starts, s)
	}
	return &Results{Scenario: "users", Users: ur}, nil
}

// usersState is what the users know: each one's latest run, which users
// have one, and when each run was started and seen to finish.
type usersState struct {
	users []user
	// first is closed when the first run exists.
	first     chan struct{}
	active    atomic.Int64
	badBodies atomic.Int64

	mu      sync.RWMutex
	latest  []string // per user; "" until its first start succeeded
	order   []int    // users with a run, in the order they got one
	runs    map[string]*runTrack
	unknown int // polled runs missing from runs; should stay 0
}

// runTrack follows one run from its start to the first poll that saw it
// end.
type runTrack struct {
	posted time.Time
	status string // terminal status seen by a poll; "" while unseen
	took   time.Duration
}

func newUsersState(users []user) *usersState {
	return &usersState{
		users:  users,
		first:  make(chan struct{}),
		latest: make([]string, len(users)),
		runs:   map[string]*runTrack{},
	}
}

func (s *usersState) activeCount() int { return int(s.active.Load()) }

// started records the run a successful start made as its user's latest.
func (s *usersState) started(r *vegeta.Result) {
	if r.Code < 200 || r.Code > 299 {
		return
	}
	id, err := runID(r.Body)
	if err != nil {
		s.badBodies.Add(1)
		return
	}
	u, err := url.Parse(r.URL)
	if err != nil {
		s.badBodies.Add(1)
		return
	}
	i, err := strconv.Atoi(strings.TrimPrefix(u.Fragment, "u="))
	if err != nil || i < 0 || i >= len(s.users) {
		s.badBodies.Add(1)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.runs[id] = &runTrack{posted: r.Timestamp}
	if s.latest[i] == "" {
		s.order = append(s.order, i)
		s.active.Store(int64(len(s.order)))
		if len(s.order) == 1 {
			close(s.first)
		}
	}
	s.latest[i] = id
}

// pollTarget picks the k-th poll's user, round robin over the users that
// have a run, and that user's latest run.
func (s *usersState) pollTarget(k uint64) (user, string) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	i := s.order[k%uint64(len(s.order))]
	return s.users[i], s.latest[i]
}

// polled notes the first poll that saw a run end.
func (s *usersState) polled(r *vegeta.Result) {
	if r.Code != http.StatusOK {
		return
	}
	var run struct {
		ID     string `json:"id"`
		Status string `json:"status"`
	}
	if err := json.Unmarshal(r.Body, &run); err != nil || run.ID == "" {
		s.badBodies.Add(1)
		return
	}
	switch run.Status {
	case "succeeded", "failed", "canceled", "timed_out":
	default:
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.runs[run.ID]
	if t == nil {
		s.unknown++
		return
	}
	if t.status == "" {
		t.status = run.Status
		t.took = r.Timestamp.Add(r.Latency).Sub(t.posted)
	}
}

// Completion is the end-to-end latency of exports as a polling client sees
// it: from sending the POST to receiving the first poll answer that says
// succeeded. Polls come every 2 s, so this overstates the true time by up
// to 2 s; it is what a user waits, not what the worker takes.
type Completion struct {
	Started   int            `json:"started"`
	Succeeded int            `json:"succeeded"`
	Other     map[string]int `json:"other_terminal,omitempty"`
	// Unseen runs were never polled in a terminal state: started near the
	// end, or still running when their user's next start replaced them.
	Unseen int     `json:"unseen"`
	P50ms  float64 `json:"p50_ms"`
	P95ms  float64 `json:"p95_ms"`
	MaxMs  float64 `json:"max_ms"`
}

func (s *usersState) completion() *Completion {
	s.mu.RLock()
	defer s.mu.RUnlock()
	c := &Completion{Started: len(s.runs), Other: map[string]int{}}
	var took []time.Duration
	for _, t := range s.runs {
		switch t.status {
		case "":
			c.Unseen++
		case "succeeded":
			c.Succeeded++
			took = append(took, t.took)
		default:
			c.Other[t.status]++
		}
	}
	if s.unknown > 0 {
		c.Other["unknown_run"] = s.unknown
	}
	if len(took) > 0 {
		slices.Sort(took)
		c.P50ms = ms(percentile(took, 0.50))
		c.P95ms = ms(percentile(took, 0.95))
		c.MaxMs = ms(took[len(took)-1])
	}
	return c
}
