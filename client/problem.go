package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/groundwork-dev/groundwork"
)

// Problem is an answer that is not a 2xx: the API's RFC 9457 problem
// document, plus the Retry-After the answer carried. An answer that is not
// a problem document (a proxy's HTML 502) is one too, with an empty Type
// and a little of its body as Detail.
type Problem struct {
	// Type is groundwork.ProblemBase followed by a slug; see Slug.
	Type string `json:"type"`
	// Title is the HTTP status text.
	Title string `json:"title"`
	// Status is the HTTP status code.
	Status int `json:"status"`
	// Detail explains this occurrence, for people.
	Detail string `json:"detail,omitempty"`
	// Instance identifies this occurrence, when the API names one.
	Instance string `json:"instance,omitempty"`
	// Errors lists each invalid field of a 422 (or 400) request.
	Errors []groundwork.FieldError `json:"errors,omitempty"`
	// RetryAfter is how long Retry-After asked to wait (a 429 or 503);
	// zero when the answer did not say.
	RetryAfter time.Duration `json:"-"`
}

// Error describes the problem on one line: status, title, detail and the
// invalid fields.
func (p *Problem) Error() string {
	title := p.Title
	if title == "" {
		title = http.StatusText(p.Status)
	}
	msg := fmt.Sprintf("%d %s", p.Status, title)
	if p.Detail != "" {
		msg += ": " + p.Detail
	}
	if len(p.Errors) > 0 {
		fields := make([]string, len(p.Errors))
		for i, f := range p.Errors {
			field := f.Field
			if field == "" {
				field = "(body)"
			}
			fields[i] = field + ": " + f.Message
		}
		msg += " (" + strings.Join(fields, "; ") + ")"
	}
	return msg
}

// Slug is the stable last segment of Type (groundwork.SlugNotFound,
// groundwork.SlugValidation…), or "" when the answer was not one of the
// API's problems.
func (p *Problem) Slug() string {
	slug, ok := strings.CutPrefix(p.Type, groundwork.ProblemBase)
	if !ok {
		return ""
	}
	return slug
}

// Temporary reports whether the same request may succeed later: a rate
// limit, a timeout, or a server or proxy error.
func (p *Problem) Temporary() bool {
	return p.Status == http.StatusTooManyRequests || p.Status == http.StatusRequestTimeout || p.Status >= 500
}

// IsProblem reports whether err is (or wraps) a *Problem whose slug is
// slug, for example IsProblem(err, groundwork.SlugNotFound).
func IsProblem(err error, slug string) bool {
	var p *Problem
	return errors.As(err, &p) && p.Slug() == slug
}

// problemFrom reads a non-2xx response into a *Problem.
func problemFrom(resp *http.Response) *Problem {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	var p Problem
	if json.Unmarshal(body, &p) != nil || p.Title == "" {
		// Not the API's (a proxy's page, say): keep a little of it.
		p = Problem{Detail: strings.TrimSpace(string(truncate(body, 200)))}
	}
	p.Status = resp.StatusCode
	if p.Title == "" {
		p.Title = http.StatusText(resp.StatusCode)
	}
	p.RetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	return &p
}

// parseRetryAfter reads Retry-After as seconds or as an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil {
		return max(time.Duration(s)*time.Second, 0)
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0)
	}
	return 0
}

func truncate(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}

// transient reports whether retrying after err may succeed: network
// trouble, or a temporary problem.
func transient(err error) bool {
	var p *Problem
	if !errors.As(err, &p) {
		return true
	}
	return p.Temporary()
}

// retryDelay is how long to wait after err: its Retry-After when the
// answer gave one, else def.
func retryDelay(err error, def time.Duration) time.Duration {
	var p *Problem
	if errors.As(err, &p) && p.RetryAfter > 0 {
		return p.RetryAfter
	}
	return def
}
