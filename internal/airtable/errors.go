package airtable

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// RateLimitLockout is how long Airtable refuses a base or token after it
// went over its rate limit; a 429 without a Retry-After header waits this.
const RateLimitLockout = 30 * time.Second

// Error is a request that Airtable refused or that never got a usable
// answer. Status is 0 when no response arrived (Err says why).
type Error struct {
	// Status is the HTTP status, 0 for a network failure.
	Status int
	// Type is Airtable's error type, such as "INVALID_VALUE_FOR_COLUMN" or
	// "RATE_LIMIT_REACHED"; empty when the body named none.
	Type string
	// Message is Airtable's explanation, or a snippet of a body that was
	// not Airtable's JSON (a proxy's error page).
	Message string
	// RetryAfter is how long the Retry-After header says to wait, 0 without
	// one; the caller picks the wait then (RateLimitLockout for a 429).
	RetryAfter time.Duration
	// Err is the cause of a network failure or of an unreadable response.
	Err error
}

// Error describes the failure without the request's token.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("airtable: ")
	if e.Status == 0 {
		b.WriteString("request failed")
	} else {
		fmt.Fprintf(&b, "HTTP %d", e.Status)
	}
	if e.Type != "" {
		b.WriteString(" " + e.Type)
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	if e.Err != nil {
		b.WriteString(": " + e.Err.Error())
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, " (retry after %s)", e.RetryAfter)
	}
	return b.String()
}

// Unwrap returns the network or decoding failure behind the error.
func (e *Error) Unwrap() error { return e.Err }

// Retryable reports whether the same request may succeed later: network
// failures, timeouts (408), rate limits (429), server errors (5xx) and
// success responses whose body could not be read. Other 4xx mean the
// request itself is wrong, or the token lacks access, and will fail again.
func (e *Error) Retryable() bool {
	switch {
	case e.Status == 0:
		return true
	case e.Status == http.StatusRequestTimeout, e.Status == http.StatusTooManyRequests, e.Status >= 500:
		return true
	case e.Status >= 200 && e.Status <= 299:
		return true
	}
	return false
}

// IsRateLimited reports a 429: the base or token is over its rate limit
// and the next attempt should wait RetryAfter.
func (e *Error) IsRateLimited() bool { return e.Status == http.StatusTooManyRequests }

// IsRetryable reports whether err holds an *Error that is Retryable.
// Cancelled contexts, failed Wait hooks and requests the client refused to
// send (ErrBatchTooLarge) are not.
func IsRetryable(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Retryable()
}

// responseError builds the *Error for a non-2xx response.
func responseError(resp *http.Response, body []byte) *Error {
	e := &Error{Status: resp.StatusCode}
	e.Type, e.Message = parseErrorBody(body)
	if e.Type == "" && e.Message == "" {
		e.Message = http.StatusText(resp.StatusCode)
	}
	e.RetryAfter = retryAfter(resp.Header.Get("Retry-After"), time.Now())
	return e
}

// errorDetail is the object form of an error.
type errorDetail struct {
	Type    string `json:"type"`
	Error   string `json:"error"` // the rate-limit list names it "error"
	Message string `json:"message"`
}

// parseErrorBody reads the three shapes Airtable's errors come in:
//
//	{"error":{"type":"INVALID_REQUEST_UNKNOWN","message":"…"}}
//	{"error":"NOT_FOUND"}
//	{"errors":[{"error":"RATE_LIMIT_REACHED","message":"…"}]}
//
// Anything else yields a snippet of the body as the message.
func parseErrorBody(body []byte) (typ, msg string) {
	var shape struct {
		Error  json.RawMessage `json:"error"`
		Errors []errorDetail   `json:"errors"`
	}
	if err := json.Unmarshal(body, &shape); err == nil {
		var name string
		var detail errorDetail
		switch {
		case json.Unmarshal(shape.Error, &name) == nil && name != "":
			return name, ""
		case json.Unmarshal(shape.Error, &detail) == nil && detail != (errorDetail{}):
			return cmp.Or(detail.Type, detail.Error), detail.Message
		case len(shape.Errors) > 0:
			first := shape.Errors[0]
			return cmp.Or(first.Error, first.Type), first.Message
		}
	}
	return "", snippet(body)
}

// snippet is the start of a body that is not Airtable's JSON, on one line,
// short enough for a log.
func snippet(body []byte) string {
	const limit = 200
	s := strings.Join(strings.Fields(string(body)), " ")
	if len(s) > limit {
		s = strings.ToValidUTF8(s[:limit], "") + "…"
	}
	return s
}
