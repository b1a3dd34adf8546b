package airtable

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestErrorResponses(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		header     map[string]string
		body       string
		wantType   string
		wantMsg    string
		retryable  bool
		limited    bool
		retryAfter time.Duration
	}{
		{name: "object", status: 422,
			body:     `{"error":{"type":"INVALID_VALUE_FOR_COLUMN","message":"Field \"Age\" cannot accept the provided value"}}`,
			wantType: "INVALID_VALUE_FOR_COLUMN", wantMsg: `Field "Age" cannot accept the provided value`},
		{name: "string", status: 404, body: `{"error":"NOT_FOUND"}`, wantType: "NOT_FOUND"},
		{name: "rate limit list without Retry-After", status: 429,
			body:     `{"errors":[{"error":"RATE_LIMIT_REACHED","message":"Rate limit exceeded. Please try again later"}]}`,
			wantType: "RATE_LIMIT_REACHED", wantMsg: "Rate limit exceeded. Please try again later",
			retryable: true, limited: true},
		{name: "rate limit with Retry-After", status: 429, header: map[string]string{"Retry-After": "7"},
			body:     `{"errors":[{"error":"RATE_LIMIT_REACHED","message":"slow down"}]}`,
			wantType: "RATE_LIMIT_REACHED", wantMsg: "slow down", retryable: true, limited: true, retryAfter: 7 * time.Second},
		{name: "rate limit with unreadable Retry-After", status: 429, header: map[string]string{"Retry-After": "soon"},
			body: `{}`, wantMsg: "{}", retryable: true, limited: true},
		{name: "unauthorized", status: 401, body: `{"error":{"type":"AUTHENTICATION_REQUIRED","message":"Authentication required"}}`,
			wantType: "AUTHENTICATION_REQUIRED", wantMsg: "Authentication required"},
		{name: "forbidden", status: 403, body: `{"error":{"type":"INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND","message":"no"}}`,
			wantType: "INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND", wantMsg: "no"},
		{name: "request timeout", status: 408, body: ``, wantMsg: "Request Timeout", retryable: true},
		{name: "server error", status: 500, body: `{"error":{"type":"SERVER_ERROR","message":"oops"}}`,
			wantType: "SERVER_ERROR", wantMsg: "oops", retryable: true},
		{name: "proxy page", status: 502, header: map[string]string{"Retry-After": "3"},
			body:    "<html>\n<body>Bad   Gateway</body></html>",
			wantMsg: "<html> <body>Bad Gateway</body></html>", retryable: true, retryAfter: 3 * time.Second},
		{name: "unavailable, empty body", status: 503, wantMsg: "Service Unavailable", retryable: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := newStub(t, func(w http.ResponseWriter, _ seen) {
				for k, v := range tt.header {
					w.Header().Set(k, v)
				}
				reply(w, tt.status, tt.body)
			})
			_, err := c.ListPage(context.Background(), "appA", "People", ListOptions{})
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v, want an *Error", err)
			}
			if e.Status != tt.status || e.Type != tt.wantType || e.Message != tt.wantMsg {
				t.Errorf("got status %d type %q message %q, want %d %q %q", e.Status, e.Type, e.Message, tt.status, tt.wantType, tt.wantMsg)
			}
			if e.Retryable() != tt.retryable || IsRetryable(err) != tt.retryable {
				t.Errorf("Retryable = %v, want %v", e.Retryable(), tt.retryable)
			}
			if e.IsRateLimited() != tt.limited {
				t.Errorf("IsRateLimited = %v, want %v", e.IsRateLimited(), tt.limited)
			}
			if e.RetryAfter != tt.retryAfter {
				t.Errorf("RetryAfter = %v, want %v", e.RetryAfter, tt.retryAfter)
			}
			if !strings.Contains(err.Error(), "list records of appA/People") {
				t.Errorf("error %q lacks the operation", err)
			}
			if strings.Contains(err.Error(), testToken) {
				t.Errorf("error %q leaks the token", err)
			}
		})
	}
}

func TestRetryAfterHeader(t *testing.T) {
	now := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := map[string]time.Duration{
		"":                              0,
		"0":                             0,
		"-5":                            0,
		"12":                            12 * time.Second,
		"999999999":                     maxRetryAfter,
		"Fri, 01 Mar 2024 12:00:45 GMT": 45 * time.Second,
		"Fri, 01 Mar 2024 11:00:00 GMT": 0,
		"later":                         0,
	}
	for header, want := range tests {
		if got := retryAfter(header, now); got != want {
			t.Errorf("retryAfter(%q) = %v, want %v", header, got, want)
		}
	}
}

func TestMalformedSuccessIsRetryable(t *testing.T) {
	for _, body := range []string{`<html>`, `{"records":"nope"}`, ``} {
		c, _ := newStub(t, fixed(200, body))
		_, err := c.ListPage(context.Background(), "appA", "People", ListOptions{})
		var e *Error
		if !errors.As(err, &e) || !e.Retryable() || e.IsRateLimited() {
			t.Fatalf("body %q: err = %#v, want a retryable *Error", body, err)
		}
		if !strings.Contains(err.Error(), "HTTP 200") || !strings.Contains(err.Error(), "malformed") {
			t.Errorf("body %q: error %q does not name the status and the problem", body, err)
		}
	}
}

// failingTransport fails every request the way a dead network does.
type failingTransport struct{ err error }

func (f failingTransport) RoundTrip(*http.Request) (*http.Response, error) { return nil, f.err }

func TestNetworkErrorsAreRetryableAndWrapTheCause(t *testing.T) {
	cause := errors.New("connection reset by peer")
	c := &Client{BaseURL: "http://airtable.invalid", Token: testToken, HTTP: &http.Client{Transport: failingTransport{cause}}}
	_, err := c.Tables(context.Background(), "appA")
	var e *Error
	if !errors.As(err, &e) || e.Status != 0 || !e.Retryable() {
		t.Fatalf("err = %v, want a retryable *Error without status", err)
	}
	if !errors.Is(err, cause) {
		t.Errorf("err = %v does not wrap the cause", err)
	}
	var ue *url.Error
	if !errors.As(err, &ue) {
		t.Errorf("err = %v does not wrap the *url.Error", err)
	}
	if strings.Contains(err.Error(), testToken) {
		t.Errorf("error %q leaks the token", err)
	}
}

func TestCancelledContextIsNotRetryable(t *testing.T) {
	c, s := newStub(t, fixed(200, `{"records":[]}`))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := c.ListPage(ctx, "appA", "People", ListOptions{})
	if !errors.Is(err, context.Canceled) || IsRetryable(err) {
		t.Errorf("err = %v, want context.Canceled, not retryable", err)
	}
	if n := len(s.requests()); n != 0 {
		t.Errorf("%d requests sent with a cancelled context", n)
	}
}

func TestContextCancelledInFlight(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	c, _ := newStub(t, func(w http.ResponseWriter, _ seen) {
		cancel() // the client gives up while the server is still answering
		reply(w, 200, `{"records":[]}`)
	})
	c.HTTP = &http.Client{Transport: cancelAware{c.HTTP.Transport}}
	_, err := c.ListPage(ctx, "appA", "People", ListOptions{})
	if !errors.Is(err, context.Canceled) || IsRetryable(err) {
		t.Errorf("err = %v, want context.Canceled, not retryable", err)
	}
}

// cancelAware fails a round trip whose context ended during it, as the
// standard transport may or may not, depending on timing.
type cancelAware struct{ next http.RoundTripper }

func (c cancelAware) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := c.next.RoundTrip(r)
	if err == nil && r.Context().Err() != nil {
		resp.Body.Close()
		return nil, r.Context().Err()
	}
	return resp, err
}
