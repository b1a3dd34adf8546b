package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strconv"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humachi"

	"github.com/groundwork-dev/groundwork"
)

// sseHeartbeat keeps idle streams alive through proxies that close quiet
// connections (nginx defaults to 60 s).
const sseHeartbeat = 15 * time.Second

// sseEvent is one kind of event a stream sends: its name and its data.
type sseEvent struct {
	name, doc string
	data      reflect.Type
}

// eventStreamResponses documents a Server-Sent Events answer the way
// huma's sse package does: the stream is an array of events, each its
// name, optional id and JSON data, so a generated client knows each
// event's type.
func (s *Server) eventStreamResponses(events ...sseEvent) map[string]*huma.Response {
	items := &huma.Schema{}
	for _, e := range events {
		items.OneOf = append(items.OneOf, &huma.Schema{
			Type: huma.TypeObject, Title: "Event " + e.name, Description: e.doc,
			Properties: map[string]*huma.Schema{
				"event": {Type: huma.TypeString, Enum: []any{e.name}},
				"id":    {Type: huma.TypeString, Description: "Send it back as Last-Event-ID to resume."},
				"data":  s.api.OpenAPI().Components.Schemas.Schema(e.data, true, ""),
			},
			Required: []string{"event", "data"},
		})
	}
	return map[string]*huma.Response{
		"200": {Description: "A Server-Sent Events stream (`text/event-stream`): `event:` names each event, `data:` is its JSON; comment lines (`:`) keep it alive.",
			Content: map[string]*huma.MediaType{"text/event-stream": {Schema: &huma.Schema{Type: huma.TypeArray, Items: items}}}},
	}
}

type eventsInput struct {
	ID          string `path:"id" maxLength:"100"`
	LastEventID string `header:"Last-Event-ID" doc:"Resume: events up to this progress version are not sent again."`
}

func (s *Server) registerEvents() {
	huma.Register(s.api, huma.Operation{
		OperationID: "run-events",
		Method:      http.MethodGet,
		Path:        "/v1/runs/{id}/events",
		Summary:     "Stream a run's progress (Server-Sent Events)",
		Description: "One `progress` event (data: the run) per change, `id` = progress version; a final `done` event when the run closed. Comments every 15 s keep proxies from closing the stream.",
		Tags:        []string{"runs"},
		Errors:      []int{401, 404, 429, 503},
		Responses: s.eventStreamResponses(
			sseEvent{"progress", "The run, once per change of its progress; id = the progress version.", reflect.TypeFor[Run]()},
			sseEvent{"done", "The run once it closed; the stream ends.", reflect.TypeFor[Run]()},
			sseEvent{"error", "The run could not be read (a dependency is down); the stream ends: reconnect with Last-Event-ID.", reflect.TypeFor[Problem]()}),
	}, func(ctx context.Context, in *eventsInput) (*huma.StreamResponse, error) {
		p, _ := PrincipalFrom(ctx)
		if _, err := s.ownedRun(ctx, p.UserID, in.ID); err != nil {
			return nil, err
		}
		last := int64(-1)
		if v, err := strconv.ParseInt(in.LastEventID, 10, 64); err == nil {
			last = v
		}
		if !s.openStream(p.UserID) {
			return nil, problem(http.StatusTooManyRequests, groundwork.SlugTooManyStreams,
				fmt.Sprintf("you have %d event streams open, the most one user may; close one, or poll GET /v1/runs/{id}", s.d.MaxStreamsPerUser))
		}
		return &huma.StreamResponse{Body: func(hctx huma.Context) {
			defer s.closeStream(p.UserID)
			r, w := humachi.Unwrap(hctx)
			s.streamRun(r.Context(), w, p.UserID, in.ID, last)
		}}, nil
	})
}

// streamRun writes a progress event whenever the run's progress changes
// (its version grows, or a running activity reported more done or more
// streamed text) and a done event when it closes.
func (s *Server) streamRun(ctx context.Context, w http.ResponseWriter, owner, id string, last int64) {
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	_ = rc.Flush()

	watch, unsubscribe := s.watchRun(owner, id)
	defer unsubscribe()
	select {
	case <-ctx.Done():
		return
	case <-watch.ready:
	}
	beat := time.NewTicker(sseHeartbeat)
	defer beat.Stop()
	// sent is the last progress this stream sent; a resumed stream
	// assumes the client saw the state of its Last-Event-ID.
	var sent RunProgress
	sentAny := false
	for {
		run, changed, err := watch.state()
		if err != nil {
			if ctx.Err() == nil {
				writeEvent(w, "error", "", err)
				_ = rc.Flush()
			}
			return
		}
		p := run.Progress
		if !sentAny && p.Version == last {
			sent, sentAny = p, true
		}
		if p.Version > last || (p.Version == last && !isTerminal(run.Status) && activityMoved(sent, p)) {
			last, sent, sentAny = p.Version, p, true
			writeEvent(w, "progress", strconv.FormatInt(last, 10), run)
			_ = rc.Flush()
		}
		if isTerminal(run.Status) {
			writeEvent(w, "done", strconv.FormatInt(last, 10), run)
			_ = rc.Flush()
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-beat.C:
			_, _ = fmt.Fprint(w, ": keep-alive\n\n")
			_ = rc.Flush()
		case <-changed:
		}
	}
}

// activityMoved reports progress an activity made within one workflow
// progress version.
func activityMoved(prev, cur RunProgress) bool {
	return cur.Done != prev.Done || cur.Message != prev.Message || len(cur.Text) != len(prev.Text)
}

func writeEvent(w http.ResponseWriter, event, id string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		b = []byte(`{}`)
	}
	if id != "" {
		_, _ = fmt.Fprintf(w, "id: %s\n", id)
	}
	_, _ = fmt.Fprintf(w, "event: %s\ndata: %s\n\n", event, b)
}

func isTerminal(status string) bool {
	switch status {
	case "succeeded", "failed", "canceled", "timed_out":
		return true
	}
	return false
}

// openStream takes one of the user's stream slots, false when none is left.
func (s *Server) openStream(user string) bool {
	s.streamsMu.Lock()
	defer s.streamsMu.Unlock()
	if s.streams == nil {
		s.streams = map[string]int{}
	}
	if s.streams[user] >= s.d.MaxStreamsPerUser {
		return false
	}
	s.streams[user]++
	return true
}

// closeStream gives a stream slot back.
func (s *Server) closeStream(user string) {
	s.streamsMu.Lock()
	defer s.streamsMu.Unlock()
	if s.streams[user]--; s.streams[user] <= 0 {
		delete(s.streams, user)
	}
}
