package client

import (
	"context"
	"fmt"
	"time"
)

const (
	// maxReconnects is how many stream connections in a row may break
	// without delivering an event before WaitRun falls back to polling.
	maxReconnects = 3
	// maxPollFailures is how many temporary errors in a row polling
	// tolerates before WaitRun gives up.
	maxPollFailures = 10
)

// WaitRun follows a run until it ends and returns it, whatever its status:
// a failed run is not an error, check its Status and Error. onProgress,
// when not nil, sees every change of the run on the way (the same state
// may be seen twice across a reconnect; Progress.Version orders them).
//
// It reads the run's event stream, reconnecting with Last-Event-ID when a
// connection breaks, and polls GetRun (If-None-Match, so an unchanged run
// costs a 304) when the stream cannot be had: the route answers a
// temporary error (a proxy without SSE, a 502, the per-user stream limit)
// or breaks three times in a row without an event. Polling waits as long
// as Retry-After asks. The error is about waiting: the context ended, the
// run is not the caller's (a 404 *Problem), or the API stayed unreachable.
func (c *Client) WaitRun(ctx context.Context, id string, onProgress func(*Run)) (*Run, error) {
	if onProgress == nil {
		onProgress = func(*Run) {}
	}
	run, err := c.follow(ctx, id, onProgress)
	if err != nil {
		return nil, fmt.Errorf("wait for run %s: %w", id, err)
	}
	return run, nil
}

// follow streams, then polls, as WaitRun describes.
func (c *Client) follow(ctx context.Context, id string, onProgress func(*Run)) (*Run, error) {
	lastID := ""
	failures := 0
	for failures < maxReconnects {
		res := c.streamOnce(ctx, id, lastID, onProgress)
		if res.ended != nil {
			return res.ended, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if !transient(res.err) {
			return nil, res.err
		}
		if !res.connected {
			break // no stream here: poll
		}
		lastID = res.lastID
		failures++
		if res.events > 0 {
			failures = 0
		}
		delay := c.poll
		if res.retry > 0 {
			delay = res.retry
		}
		if err := sleep(ctx, delay); err != nil {
			return nil, err
		}
	}
	return c.pollRun(ctx, id, onProgress)
}

// streamResult is how one connection to the event stream ended.
type streamResult struct {
	ended     *Run   // the run, when it ended
	connected bool   // the server answered 200 text/event-stream
	events    int    // run events received
	lastID    string // Last-Event-ID for a reconnect
	retry     time.Duration
	err       error
}

// streamOnce reads one connection of the run's stream until the run ends
// or the connection does.
func (c *Client) streamOnce(ctx context.Context, id, lastID string, onProgress func(*Run)) (res streamResult) {
	res.lastID = lastID
	s, err := c.Events(ctx, id, lastID)
	if err != nil {
		res.err = err
		return res
	}
	defer func() { _ = s.Close() }()
	res.connected = true
	defer func() { res.lastID, res.retry = s.LastEventID(), s.Retry() }()
	for {
		ev, err := s.Next()
		if err != nil {
			res.err = fmt.Errorf("run %s events: %w", id, err)
			return res
		}
		switch ev.Type {
		case EventProgress, EventDone:
			res.events++
			onProgress(ev.Run)
			// A terminal status ends the wait even if the done event is lost.
			if ev.Type == EventDone || ev.Run.Ended() {
				res.ended = ev.Run
				return res
			}
		case EventError:
			// Reconnecting or polling will find out whether it lasts.
			res.err = fmt.Errorf("run %s events: server error: %w", id, ev.Problem)
			return res
		}
	}
}

// pollRun reads the run every c.poll until it ends, reporting each change.
func (c *Client) pollRun(ctx context.Context, id string, onProgress func(*Run)) (*Run, error) {
	failures := 0
	var last []byte
	for {
		run, err := c.GetRun(ctx, id)
		delay := c.poll
		switch {
		case err == nil:
			failures = 0
			if string(run.Raw) != string(last) {
				last = run.Raw
				onProgress(run)
			}
			if run.Ended() {
				return run, nil
			}
		case ctx.Err() != nil:
			return nil, ctx.Err()
		case !transient(err) || failures >= maxPollFailures:
			return nil, fmt.Errorf("poll: %w", err)
		default:
			failures++
			delay = max(delay, retryDelay(err, delay))
		}
		if err := sleep(ctx, delay); err != nil {
			return nil, err
		}
	}
}
