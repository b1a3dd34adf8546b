package airtablefake

import (
	"fmt"
	"time"
)

// RequestLog records one request, for assertions on a client's behaviour.
type RequestLog struct {
	// Method and Path are the request's method and decoded URL path.
	Method, Path string
	// Query is the raw query string.
	Query string
	// Base is the base ID the path names, "" when it names none.
	Base string
	// Table is the table name or ID the path names, "" when none.
	Table string
	// Token is the bearer token the request carried, valid or not.
	Token string
	// At is when the request arrived, by the real clock.
	At time.Time
	// Status is the response status; 0 while the request is in flight.
	Status int
	// Error is the Airtable error type of an error response, e.g.
	// "RATE_LIMIT_REACHED"; "" for a success or an injected failure.
	Error string
	// Records is the number of records a write carried: the length of the
	// body's "records" (1 for a single-record body) or of a DELETE's
	// records[] parameters; 0 for reads.
	Records int
	// Injected reports a failure from FailNext or FailNextAfterCommit.
	Injected bool
}

// Stats are counters over the requests since New or ResetRequests.
type Stats struct {
	// Requests counts every request received.
	Requests int
	// RateLimited counts 429s from the rate limits, lockouts included.
	RateLimited int
	// Unauthorized counts 401s for a missing or unknown token.
	Unauthorized int
	// Injected counts failures injected by FailNext and FailNextAfterCommit.
	Injected int
	// MaxPerWindowBase is the most requests to one base that arrived within
	// any Window, refused ones included: what the client offered, to compare
	// with PerBase.
	MaxPerWindowBase int
	// MaxPerWindowToken is the same per token, to compare with PerToken.
	MaxPerWindowToken int
	// MaxWriteBatch is the most records a single write carried.
	MaxWriteBatch int
}

// faults are the pending injected failures.
type faults struct {
	before, beforeStatus int // FailNext
	after, afterStatus   int // FailNextAfterCommit
}

// FailNext makes the next n requests fail with status (e.g. 500, 502, 503)
// before they are authenticated, counted against the rate limits or carried
// out, as when Airtable's front end has a bad moment. A status of 429 sends
// Airtable's rate-limit body. It replaces any FailNext still pending.
func (s *Server) FailNext(n, status int) {
	mustFailureStatus(status)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults.before, s.faults.beforeStatus = n, status
}

// FailNextAfterCommit makes the next n requests that are authenticated and
// admitted by the rate limits get status after they were carried out, as
// when a gateway times out on a write Airtable committed: the client sees a
// failure although its records were written, which is what makes retrying
// creates dangerous. FailNext takes precedence for a request both apply to.
func (s *Server) FailNextAfterCommit(n, status int) {
	mustFailureStatus(status)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults.after, s.faults.afterStatus = n, status
}

func mustFailureStatus(status int) {
	if status < 400 || status > 599 {
		panic(fmt.Sprintf("airtablefake: injected status %d is not an error", status))
	}
}

// Requests returns every request since New or ResetRequests, in order of
// arrival.
func (s *Server) Requests() []RequestLog {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]RequestLog, len(s.log))
	for i, r := range s.log {
		out[i] = *r
	}
	return out
}

// ResetRequests clears the request log and Stats, for example between the
// seeding and the measured phase of a benchmark. Rate-limit state is kept,
// since Airtable would not forget it either.
func (s *Server) ResetRequests() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.log, s.counts = nil, Stats{}
}

// Stats returns the counters, with the per-window maxima computed from the
// request log.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.counts
	byBase, byToken := map[string][]time.Time{}, map[string][]time.Time{}
	for _, r := range s.log {
		if r.Base != "" {
			byBase[r.Base] = append(byBase[r.Base], r.At)
		}
		byToken[r.Token] = append(byToken[r.Token], r.At)
	}
	st.MaxPerWindowBase = maxInWindow(byBase, s.opts.Window)
	st.MaxPerWindowToken = maxInWindow(byToken, s.opts.Window)
	return st
}

// maxInWindow is the largest number of times of one key, each list in
// arrival order, that fit in a half-open interval of length window.
func maxInWindow(byKey map[string][]time.Time, window time.Duration) int {
	best := 0
	for _, times := range byKey {
		lo := 0
		for hi, t := range times {
			for t.Sub(times[lo]) >= window {
				lo++
			}
			best = max(best, hi-lo+1)
		}
	}
	return best
}
