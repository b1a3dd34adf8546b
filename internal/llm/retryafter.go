package llm

import (
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// maxRetryAfter caps a provider's hint so a bogus header cannot park a
// workflow for days; no provider limit resets later than this.
const maxRetryAfter = 24 * time.Hour

// retryAfter reads how long the provider asks us to wait, 0 if it says
// nothing. retry-after-ms and retry-after are explicit requests and count on
// any response; the rate-limit reset headers describe buckets that every
// response reports, so they count only when rateLimited (a 429), where they
// say when the exhausted bucket refills.
func retryAfter(h http.Header, rateLimited bool, now time.Time) time.Duration {
	if h == nil {
		return 0
	}
	if d, ok := numberHeader(h.Get("retry-after-ms"), time.Millisecond); ok {
		return d
	}
	if v := strings.TrimSpace(h.Get("retry-after")); v != "" {
		if d, ok := numberHeader(v, time.Second); ok {
			return d
		}
		if t, err := http.ParseTime(v); err == nil {
			return clampWait(t.Sub(now))
		}
	}
	if !rateLimited {
		return 0
	}
	return resetWait(h, now)
}

// numberHeader parses a non-negative count of unit (fractions allowed).
func numberHeader(v string, unit time.Duration) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	n, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(n) || n < 0 {
		return 0, false
	}
	if n*float64(unit) > float64(maxRetryAfter) {
		return maxRetryAfter, true
	}
	return time.Duration(n * float64(unit)), true
}

func clampWait(d time.Duration) time.Duration {
	return min(max(d, 0), maxRetryAfter)
}

// resetLimit names one rate-limit bucket's headers.
type resetLimit struct {
	reset, remaining string
	// rfc3339 is true for Anthropic's absolute reset times; OpenAI's are Go
	// durations such as "1s", "6m0s" or "20ms".
	rfc3339 bool
}

var resetLimits = []resetLimit{
	{"x-ratelimit-reset-requests", "x-ratelimit-remaining-requests", false},
	{"x-ratelimit-reset-tokens", "x-ratelimit-remaining-tokens", false},
	{"anthropic-ratelimit-requests-reset", "anthropic-ratelimit-requests-remaining", true},
	{"anthropic-ratelimit-tokens-reset", "anthropic-ratelimit-tokens-remaining", true},
	{"anthropic-ratelimit-input-tokens-reset", "anthropic-ratelimit-input-tokens-remaining", true},
	{"anthropic-ratelimit-output-tokens-reset", "anthropic-ratelimit-output-tokens-remaining", true},
}

// resetWait is the latest reset among the buckets the response shows
// exhausted (remaining 0), or among all of them when it does not say which:
// waiting for an earlier reset would only earn another 429.
func resetWait(h http.Header, now time.Time) time.Duration {
	var exhausted, all time.Duration
	for _, l := range resetLimits {
		v := strings.TrimSpace(h.Get(l.reset))
		if v == "" {
			continue
		}
		var d time.Duration
		if l.rfc3339 {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				continue
			}
			d = t.Sub(now)
		} else {
			var err error
			if d, err = time.ParseDuration(v); err != nil {
				continue
			}
		}
		d = clampWait(d)
		all = max(all, d)
		if strings.TrimSpace(h.Get(l.remaining)) == "0" {
			exhausted = max(exhausted, d)
		}
	}
	if exhausted > 0 {
		return exhausted
	}
	return all
}
