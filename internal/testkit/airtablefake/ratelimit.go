package airtablefake

import "time"

// limiter enforces Airtable's two limits: requests per base and requests per
// token, each counted in a sliding window, with a lockout for whichever key
// went over. The Server's mutex guards it.
type limiter struct {
	perBase, perToken int // <= 0: no limit
	window, lockout   time.Duration
	bases, tokens     map[string]*slidingWindow
}

// slidingWindow holds the arrival times of the admitted requests of one key
// that are still inside the window.
type slidingWindow struct {
	hits        []time.Time // oldest first
	lockedUntil time.Time
}

func newLimiter(perBase, perToken int, window, lockout time.Duration) *limiter {
	return &limiter{
		perBase: perBase, perToken: perToken, window: window, lockout: lockout,
		bases: map[string]*slidingWindow{}, tokens: map[string]*slidingWindow{},
	}
}

// admit decides on a request that arrived at now. A refused request is not
// counted, so a client that keeps knocking during a lockout does not extend
// it; a request that finds its window full starts the lockout. When refused,
// wait is how long until the key could be admitted again.
func (l *limiter) admit(baseID, token string, now time.Time) (ok bool, wait time.Duration) {
	var keys []*slidingWindow
	var limits []int
	if baseID != "" && l.perBase > 0 {
		keys, limits = append(keys, entry(l.bases, baseID)), append(limits, l.perBase)
	}
	if l.perToken > 0 {
		keys, limits = append(keys, entry(l.tokens, token)), append(limits, l.perToken)
	}
	for _, k := range keys {
		k.prune(now, l.window)
		if now.Before(k.lockedUntil) {
			wait = max(wait, k.lockedUntil.Sub(now))
		}
	}
	if wait > 0 {
		return false, wait
	}
	for i, k := range keys {
		if len(k.hits) < limits[i] {
			continue
		}
		if l.lockout > 0 {
			k.lockedUntil = now.Add(l.lockout)
			wait = max(wait, l.lockout)
		} else {
			wait = max(wait, k.hits[0].Add(l.window).Sub(now))
		}
	}
	if wait > 0 {
		return false, wait
	}
	for _, k := range keys {
		k.hits = append(k.hits, now)
	}
	return true, 0
}

func entry(m map[string]*slidingWindow, key string) *slidingWindow {
	w := m[key]
	if w == nil {
		w = &slidingWindow{}
		m[key] = w
	}
	return w
}

// prune drops hits that left the window (now-window, now].
func (w *slidingWindow) prune(now time.Time, window time.Duration) {
	i := 0
	for i < len(w.hits) && now.Sub(w.hits[i]) >= window {
		i++
	}
	w.hits = w.hits[i:]
}
