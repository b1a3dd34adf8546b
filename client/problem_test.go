package client

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/groundwork-dev/groundwork"
)

func response(status int, contentType, retryAfter, body string) *http.Response {
	h := http.Header{}
	h.Set("Content-Type", contentType)
	if retryAfter != "" {
		h.Set("Retry-After", retryAfter)
	}
	return &http.Response{StatusCode: status, Header: h, Body: io.NopCloser(strings.NewReader(body))}
}

// TestProblemFrom reads the API's problem documents and a proxy's page
// alike, with Retry-After in both of its forms.
func TestProblemFrom(t *testing.T) {
	p := problemFrom(response(422, "application/problem+json", "",
		`{"type":"https://groundwork.dev/problems/validation_failed","title":"Unprocessable Entity","status":422,"detail":"the request is invalid","errors":[{"field":"rows[0][1]","message":"is not a scalar"}]}`))
	if p.Slug() != groundwork.SlugValidation || p.Status != 422 || len(p.Errors) != 1 || p.Temporary() {
		t.Errorf("422: %+v", p)
	}
	if want := "422 Unprocessable Entity: the request is invalid (rows[0][1]: is not a scalar)"; p.Error() != want {
		t.Errorf("Error() = %q, want %q", p.Error(), want)
	}
	err := fmt.Errorf("start export: %w", p)
	if !IsProblem(err, groundwork.SlugValidation) || IsProblem(err, groundwork.SlugNotFound) {
		t.Errorf("IsProblem does not see through wrapping")
	}

	p = problemFrom(response(429, "application/problem+json", "7",
		`{"type":"https://groundwork.dev/problems/rate_limited","title":"Too Many Requests","status":429}`))
	if p.RetryAfter != 7*time.Second || !p.Temporary() || retryDelay(p, time.Second) != 7*time.Second {
		t.Errorf("429: %+v", p)
	}

	p = problemFrom(response(502, "text/html", "", "<html><body>502 Bad Gateway</body></html>"))
	if p.Slug() != "" || p.Status != 502 || p.Title != "Bad Gateway" || !strings.Contains(p.Detail, "502 Bad Gateway") || !transient(p) {
		t.Errorf("proxy page: %+v", p)
	}
	if transient(errors.Join(&Problem{Status: 404})) {
		t.Errorf("a 404 is not worth retrying")
	}

	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	if got := parseRetryAfter(now.Add(90*time.Second).Format(http.TimeFormat), now); got != 90*time.Second {
		t.Errorf("HTTP-date Retry-After = %v", got)
	}
	for _, v := range []string{"", "soon", "-3"} {
		if got := parseRetryAfter(v, now); got != 0 {
			t.Errorf("Retry-After %q = %v, want 0", v, got)
		}
	}
}
