package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/groundwork-dev/groundwork/api"
)

// wait follows a run to its end, drawing progress on errOut and the
// final run on out.
func (c *runsClient) wait(ctx context.Context, id string, asJSON bool) error {
	bar := &runBar{w: c.errOut}
	run, err := c.follow(ctx, id, bar.update)
	bar.close()
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("wait for run %s: stopped waiting (%w); the run itself is not canceled", id, ctx.Err())
		}
		return fmt.Errorf("wait for run %s: %w", id, err)
	}
	if asJSON {
		err = c.printJSON(run.raw)
	} else {
		err = c.printSummary(run)
	}
	if err != nil {
		return err
	}
	return runOutcome(run)
}

// runOutcome is nil for a run that succeeded and an error naming the
// status and the run's error otherwise, so scripts can rely on the exit code.
func runOutcome(r runView) error {
	if r.Status == "succeeded" {
		return nil
	}
	msg := fmt.Sprintf("run %s %s", r.ID, r.Status)
	if r.Error != nil {
		msg += ": " + r.Error.Type
		if r.Error.Message != "" {
			msg += ": " + r.Error.Message
		}
	}
	return errors.New(msg)
}

// follow reports every change of the run to onUpdate until it ends. It
// prefers the event stream, resuming it with Last-Event-ID when it breaks,
// and polls when the stream cannot be had.
func (c *runsClient) follow(ctx context.Context, id string, onUpdate func(runView)) (runView, error) {
	lastID := ""
	failures := 0
	for failures < maxReconnects {
		res := c.streamOnce(ctx, id, lastID, onUpdate)
		if res.done {
			return res.run, nil
		}
		if ctx.Err() != nil {
			return runView{}, ctx.Err()
		}
		if !transient(res.err) {
			return runView{}, res.err
		}
		if !res.connected {
			break // no stream here (500, a proxy without SSE): poll
		}
		lastID = res.lastID
		failures++
		if res.events > 0 {
			failures = 0
		}
		if err := sleepCtx(ctx, orDuration(res.retry, c.poll)); err != nil {
			return runView{}, err
		}
	}
	return c.pollRun(ctx, id, onUpdate)
}

// orDuration is d, or def when d is not set.
func orDuration(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// sleepCtx waits d, or less if ctx ends first.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// streamResult is how one connection to the event stream ended.
type streamResult struct {
	run       runView
	done      bool          // the run ended
	connected bool          // the server answered 200 text/event-stream
	events    int           // run events received
	lastID    string        // Last-Event-ID for a reconnect
	retry     time.Duration // the server's retry: hint, if any
	err       error
}

// streamOnce reads GET /v1/runs/{id}/events until the run ends or the
// connection does.
func (c *runsClient) streamOnce(ctx context.Context, id, lastID string, onUpdate func(runView)) (res streamResult) {
	res.lastID = lastID
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	req, err := c.newRequest(sctx, runPath(id)+"/events", nil)
	if err != nil {
		res.err = err
		return res
	}
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Cache-Control", "no-cache")
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	// The watchdog cancels a connection that went silent; every byte read,
	// heartbeat comments included, rewinds it.
	idle := time.AfterFunc(c.streamIdle, cancel)
	defer idle.Stop()
	resp, err := c.stream.Do(req)
	if err != nil {
		res.err = fmt.Errorf("event stream: %w", err)
		return res
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		res.err = fmt.Errorf("event stream: %w", responseError(resp))
		return res
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		res.err = fmt.Errorf("event stream: unexpected content type %q", ct)
		return res
	}
	res.connected = true
	sr := newSSEReader(&idleReader{r: resp.Body, t: idle, d: c.streamIdle})
	sr.lastID = lastID
	defer func() { res.lastID, res.retry = sr.lastID, sr.retry }()
	for {
		ev, err := sr.next()
		if err != nil {
			res.err = fmt.Errorf("event stream: %w", err)
			return res
		}
		if c.handleEvent(ev, &res, onUpdate) {
			return res
		}
	}
}

// handleEvent applies one event to res and reports whether the stream is
// finished with (the run ended, or the server reported an error).
func (c *runsClient) handleEvent(ev sseEvent, res *streamResult, onUpdate func(runView)) bool {
	switch ev.event {
	case "progress", "done":
		run, err := decodeRun([]byte(ev.data))
		if err != nil {
			res.err = fmt.Errorf("event stream: %w", err)
			return true
		}
		res.events++
		res.run = run
		onUpdate(run)
		// A terminal status ends the wait even if the done event is lost.
		res.done = ev.event == "done" || isTerminalStatus(run.Status)
		return res.done
	case "error":
		// The server could not read the run; reconnecting or polling
		// will find out whether that lasts.
		var p api.Problem
		_ = json.Unmarshal([]byte(ev.data), &p)
		res.err = fmt.Errorf("event stream: server error: %s: %s", p.Title, p.Detail)
		return true
	}
	return false
}

// pollRun GETs the run every c.poll until it ends.
func (c *runsClient) pollRun(ctx context.Context, id string, onUpdate func(runView)) (runView, error) {
	failures := 0
	for {
		run, err := c.getRun(ctx, id)
		delay := c.poll
		switch {
		case err == nil:
			failures = 0
			onUpdate(run)
			if isTerminalStatus(run.Status) {
				return run, nil
			}
		case ctx.Err() != nil:
			return runView{}, ctx.Err()
		case !transient(err) || failures >= maxPollFailures:
			return runView{}, fmt.Errorf("poll run: %w", err)
		default:
			failures++
			delay = max(delay, retryDelay(err, delay))
		}
		if err := sleepCtx(ctx, delay); err != nil {
			return runView{}, err
		}
	}
}

// idleReader rewinds the stream watchdog whenever data arrives.
type idleReader struct {
	r io.Reader
	t *time.Timer
	d time.Duration
}

func (r *idleReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if n > 0 {
		r.t.Reset(r.d)
	}
	return n, err
}
