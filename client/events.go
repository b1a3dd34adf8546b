package client

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// The event types of GET /v1/runs/{id}/events.
const (
	// EventProgress carries the run once per change of its progress.
	EventProgress = "progress"
	// EventDone carries the run once it ended; the stream ends after it.
	EventDone = "done"
	// EventError carries a *Problem: the server could not read the run (a
	// dependency is down); the stream ends, and reconnecting with the last
	// event ID resumes it.
	EventError = "error"
)

// Event is one server-sent event of a run's stream.
type Event struct {
	// Type is EventProgress, EventDone, EventError, or a type this client
	// does not know yet ("message" when the server named none).
	Type string
	// ID is the event's ID, the run's progress version: pass it to Events
	// as lastEventID to resume after it.
	ID string
	// Run is the run, for progress and done events.
	Run *Run
	// Problem is what went wrong, for an error event.
	Problem *Problem
	// Data is the event's data as sent.
	Data []byte
}

// EventStream is an open stream of one run's events. Close it when done.
type EventStream struct {
	body   io.ReadCloser
	sr     *sseReader
	cancel context.CancelFunc
	idle   *time.Timer
}

// Events opens the run's Server-Sent Events stream. With lastEventID set
// (an earlier event's ID), the server sends only what changed after it.
// A stream that is silent for 45 s (three missed heartbeats) is treated
// as a dead connection and Next fails.
func (c *Client) Events(ctx context.Context, runID, lastEventID string) (*EventStream, error) {
	if runID == "" {
		return nil, fmt.Errorf("run events: %w", errNoID)
	}
	sctx, cancel := context.WithCancel(ctx)
	req, err := c.newRequest(sctx, http.MethodGet, runPath(runID)+"/events", nil, nil)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("run %s events: %w", runID, err)
	}
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Cache-Control", "no-cache")
	if lastEventID != "" {
		req.Header.Set("Last-Event-ID", lastEventID)
	}
	// The watchdog cancels a connection that went silent; every byte read,
	// heartbeat comments included, rewinds it.
	idle := time.AfterFunc(c.idle, cancel)
	resp, err := c.http.Do(req)
	if err != nil {
		idle.Stop()
		cancel()
		return nil, fmt.Errorf("run %s events: %w", runID, err)
	}
	if resp.StatusCode != http.StatusOK {
		p := problemFrom(resp)
		_ = resp.Body.Close()
		idle.Stop()
		cancel()
		return nil, fmt.Errorf("run %s events: %w", runID, p)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		_ = resp.Body.Close()
		idle.Stop()
		cancel()
		return nil, fmt.Errorf("run %s events: unexpected content type %q", runID, ct)
	}
	sr := newSSEReader(&idleReader{r: resp.Body, t: idle, d: c.idle})
	sr.lastID = lastEventID
	return &EventStream{body: resp.Body, sr: sr, cancel: cancel, idle: idle}, nil
}

// Next returns the next event; io.EOF when the server ended the stream,
// another error when the connection broke or went silent.
func (s *EventStream) Next() (Event, error) {
	ev, err := s.sr.next()
	if err != nil {
		return Event{}, err
	}
	out := Event{Type: ev.event, ID: ev.id, Data: []byte(ev.data)}
	switch ev.event {
	case EventProgress, EventDone:
		if out.Run, err = decodeRun(out.Data); err != nil {
			return Event{}, fmt.Errorf("%s event: %w", ev.event, err)
		}
	case EventError:
		p := &Problem{}
		if err := json.Unmarshal(out.Data, p); err != nil {
			return Event{}, fmt.Errorf("error event: decode problem: %w", err)
		}
		out.Problem = p
	}
	return out, nil
}

// LastEventID is the ID of the last event received (or the one the stream
// was opened with): what to resume from.
func (s *EventStream) LastEventID() string { return s.sr.lastID }

// Retry is the reconnection delay the server asked for with "retry:", or
// zero.
func (s *EventStream) Retry() time.Duration { return s.sr.retry }

// Close ends the stream and releases its connection.
func (s *EventStream) Close() error {
	s.idle.Stop()
	s.cancel()
	if err := s.body.Close(); err != nil {
		return fmt.Errorf("close event stream: %w", err)
	}
	return nil
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
