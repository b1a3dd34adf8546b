package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/groundwork-dev/groundwork/bench/internal/phase"
)

// The bench's principal: one admin of one workspace, who creates the
// customers, the source and the endpoint.
const (
	benchUser      = "bench-webhooks"
	benchWorkspace = "bench-webhooks"
)

// bench is one run's shared state.
type bench struct {
	o    options
	c    *client
	pool *pgxpool.Pool
	rep  *report
	// timer times each measured phase and records its CPU in the report.
	timer *phase.Timer
	// customers are the IDs of the customers inbound messages track
	// events for.
	customers []string
}

// client calls the Groundwork API, as the bench user or, for /hooks, as
// an anonymous sender.
type client struct {
	base, token string
	hc          *http.Client
}

func newClient(base, token string, conns int) *client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	// Every sender keeps its connection: no new TCP connection inside a
	// measured request.
	tr.MaxIdleConns = conns * 2
	tr.MaxIdleConnsPerHost = conns * 2
	return &client{base: base, token: token, hc: &http.Client{Transport: tr, Timeout: 60 * time.Second}}
}

// answer is one API answer: its status, body and how long it took from
// sending the request to having read the whole body.
type answer struct {
	status int
	body   []byte
	took   time.Duration
}

// send sends body (already JSON, or nil) with the bench user's key and
// reads the whole answer. An error is a transport error; any status is
// an answer.
func (c *client) send(ctx context.Context, method, path string, body []byte) (answer, error) {
	h := http.Header{}
	h.Set("Authorization", "Bearer "+c.token)
	return c.do(ctx, method, path, h, body)
}

// do sends body with the headers h (plus a JSON content type when there
// is a body) and reads the whole answer.
func (c *client) do(ctx context.Context, method, path string, h http.Header, body []byte) (answer, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return answer{}, fmt.Errorf("%s %s: %w", method, path, err)
	}
	for k, v := range h {
		req.Header[k] = v
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	start := time.Now()
	resp, err := c.hc.Do(req)
	if err != nil {
		return answer{took: time.Since(start)}, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, body: data, took: time.Since(start)}
	if err != nil {
		return a, fmt.Errorf("%s %s: read answer: %w", method, path, err)
	}
	return a, nil
}

// call sends v as JSON and decodes the answer into out when it has the
// wanted status; any other status is an error with the answer's start.
func (c *client) call(ctx context.Context, method, path string, v any, want int, out any) error {
	var body []byte
	if v != nil {
		var err error
		if body, err = json.Marshal(v); err != nil {
			return fmt.Errorf("marshal %s %s: %w", method, path, err)
		}
	}
	a, err := c.send(ctx, method, path, body)
	if err != nil {
		return err
	}
	return a.decode(method, path, want, out)
}

// decode checks the status and decodes the body into out (unless nil).
func (a answer) decode(method, path string, want int, out any) error {
	if a.status != want {
		return fmt.Errorf("%s %s: %d %.300s", method, path, a.status, a.body)
	}
	if out != nil {
		if err := json.Unmarshal(a.body, out); err != nil {
			return fmt.Errorf("%s %s: decode answer: %w", method, path, err)
		}
	}
	return nil
}
