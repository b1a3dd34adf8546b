package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/groundwork-dev/groundwork/api"
)

// apiError is a non-2xx answer, with the problem document when there was one.
type apiError struct {
	status     int
	problem    api.Problem
	retryAfter string
}

func (e *apiError) Error() string {
	title := or(e.problem.Title, http.StatusText(e.status))
	msg := fmt.Sprintf("%d %s", e.status, title)
	if e.problem.Detail != "" {
		msg += ": " + e.problem.Detail
	}
	for _, f := range e.problem.Errors {
		msg += "\n  " + or(f.Field, "(body)") + ": " + f.Message
	}
	switch e.status {
	case http.StatusUnauthorized:
		msg += "\n  (check GROUNDWORK_TOKEN: set it to a valid API key or JWT)"
	case http.StatusTooManyRequests:
		if e.retryAfter != "" {
			msg += fmt.Sprintf("\n  (rate limited: retry after %s s, per Retry-After)", e.retryAfter)
		} else {
			msg += "\n  (rate limited: retry later)"
		}
	}
	return msg
}

// transient reports whether retrying the same request later may succeed.
func transient(err error) bool {
	var ae *apiError
	if !errors.As(err, &ae) {
		return true // network trouble
	}
	return ae.status == http.StatusTooManyRequests || ae.status == http.StatusRequestTimeout || ae.status >= 500
}

// retryDelay is how long to wait before retrying after err: Retry-After
// when the server set one, else def.
func retryDelay(err error, def time.Duration) time.Duration {
	var ae *apiError
	if errors.As(err, &ae) && ae.retryAfter != "" {
		if s, perr := strconv.Atoi(ae.retryAfter); perr == nil && s >= 0 {
			return time.Duration(s) * time.Second
		}
	}
	return def
}

// newRequest is an authenticated GET of path?q.
func (c *runsClient) newRequest(ctx context.Context, path string, q url.Values) (*http.Request, error) {
	return c.newRequestMethod(ctx, http.MethodGet, path, q)
}

// newRequestMethod is an authenticated request of path?q, without a body.
func (c *runsClient) newRequestMethod(ctx context.Context, method, path string, q url.Values) (*http.Request, error) {
	u := c.base + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "groundwork-cli")
	return req, nil
}

// getJSON GETs path and returns the body of a 2xx answer.
func (c *runsClient) getJSON(ctx context.Context, path string, q url.Values) ([]byte, error) {
	return c.doJSON(ctx, http.MethodGet, path, q)
}

// doJSON sends a bodiless request and returns the body of a 2xx answer.
func (c *runsClient) doJSON(ctx context.Context, method, path string, q url.Values) ([]byte, error) {
	req, err := c.newRequestMethod(ctx, method, path, q)
	if err != nil {
		return nil, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode/100 != 2 {
		return nil, responseError(resp)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("read response: %w", err)
	}
	return body, nil
}

// responseError turns a non-2xx response into an *apiError, reading the
// problem document when the body is one.
func responseError(resp *http.Response) error {
	e := &apiError{status: resp.StatusCode, retryAfter: resp.Header.Get("Retry-After")}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if json.Unmarshal(body, &e.problem) != nil || e.problem.Title == "" {
		// Not ours (a proxy's HTML page, say): show a little of it.
		e.problem = api.Problem{Detail: strings.TrimSpace(string(truncate(body, 200)))}
	}
	return e
}

func truncate(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}

func runPath(id string) string { return "/v1/runs/" + url.PathEscape(id) }

func (c *runsClient) getRun(ctx context.Context, id string) (runView, error) {
	body, err := c.getJSON(ctx, runPath(id), nil)
	if err != nil {
		return runView{}, err
	}
	return decodeRun(body)
}
