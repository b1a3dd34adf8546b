package airtable

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// maxRetryAfter caps the header so that a bogus value cannot park a
// workflow for days; Airtable's lockouts last seconds.
const maxRetryAfter = time.Hour

// retryAfter reads a Retry-After header, in seconds or as an HTTP date; 0
// when it is absent or unreadable.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n <= 0 {
			return 0
		}
		if n > int64(maxRetryAfter/time.Second) {
			return maxRetryAfter
		}
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return min(max(t.Sub(now), 0), maxRetryAfter)
	}
	return 0
}
