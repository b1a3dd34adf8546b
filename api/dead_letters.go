package api

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/groundwork-dev/groundwork"
	"github.com/groundwork-dev/groundwork/db"
	"github.com/groundwork-dev/groundwork/db/sqlc"
)

// maxReplayBatch bounds one replay by filter.
const maxReplayBatch = 100

// DeadLetter is a run that failed after its retries, or a webhook message
// whose attempts ran out.
type DeadLetter struct {
	ID          string     `json:"id"`
	Kind        string     `json:"kind" doc:"The run's kind, or webhook."`
	RunID       string     `json:"run_id,omitempty"`
	MessageID   string     `json:"message_id,omitempty"`
	EndpointID  string     `json:"endpoint_id,omitempty"`
	OwnerID     string     `json:"owner_id"`
	ErrorType   string     `json:"error_type"`
	Error       string     `json:"error"`
	Attempts    int        `json:"attempts"`
	CreatedAt   time.Time  `json:"created_at"`
	ReplayedAt  *time.Time `json:"replayed_at,omitempty"`
	ReplayedAs  string     `json:"replayed_as,omitempty" doc:"The run, or message generation, that replayed it."`
	TemporalURL string     `json:"temporal_url" doc:"The workflow in the Temporal Web UI (GROUNDWORK_TEMPORAL_UI_URL)."`
}

type deadLettersInput struct {
	Kind       string    `query:"kind" maxLength:"32" doc:"A run kind, or webhook."`
	EndpointID string    `query:"endpoint_id" maxLength:"64"`
	ErrorType  string    `query:"error_type" maxLength:"64"`
	Since      time.Time `query:"since" doc:"Only entries since this time (RFC 3339)."`
	Replayed   string    `query:"replayed" enum:"true,false" doc:"Only replayed (true) or not yet replayed (false) entries."`
	Limit      int       `query:"limit" minimum:"1" maximum:"200" default:"50"`
	Cursor     string    `query:"cursor" maxLength:"64"`
}

type deadLettersOutput struct {
	Body struct {
		DeadLetters []DeadLetter `json:"dead_letters"`
		NextCursor  string       `json:"next_cursor,omitempty"`
	}
}

type deadLetterIDInput struct {
	ID string `path:"id" maxLength:"64" doc:"Dead letter ID."`
}

type deadLetterOutput struct {
	Body DeadLetter
}

type replayFilterInput struct {
	Body struct {
		Kind       string    `json:"kind,omitempty" maxLength:"32"`
		EndpointID string    `json:"endpoint_id,omitempty" maxLength:"64"`
		ErrorType  string    `json:"error_type,omitempty" maxLength:"64"`
		Since      time.Time `json:"since,omitempty"`
		Limit      int       `json:"limit,omitempty" minimum:"0" maximum:"100" doc:"At most this many (and 100), oldest first."`
	}
}

type replayedOutput struct {
	Body struct {
		Replayed []DeadLetter `json:"replayed"`
	}
}

func (s *Server) registerDeadLetters() {
	huma.Register(s.api, huma.Operation{
		OperationID: "list-dead-letters", Method: http.MethodGet, Path: "/v1/dead-letters",
		Summary: "Failed runs and undeliverable webhook messages", Tags: []string{"dead letters"},
		Description: "Newest first. An admin sees the workspace's, a member their own.",
		Errors:      []int{401, 422, 429, 503},
	}, func(ctx context.Context, in *deadLettersInput) (*deadLettersOutput, error) {
		p, _ := PrincipalFrom(ctx)
		rows, err := s.q.DeadLetterList(ctx, s.deadLetterFilter(p, in.Kind, in.EndpointID, in.ErrorType, in.Since, in.Replayed, in.Cursor, in.Limit+1))
		if err != nil {
			return nil, dependencyError("postgres", err)
		}
		out := &deadLettersOutput{}
		out.Body.DeadLetters = make([]DeadLetter, 0, len(rows))
		for i, r := range rows {
			if i == in.Limit {
				out.Body.NextCursor = rows[i-1].ID
				break
			}
			out.Body.DeadLetters = append(out.Body.DeadLetters, s.deadLetterView(r))
		}
		return out, nil
	})

	huma.Register(s.api, huma.Operation{
		OperationID: "replay-dead-letter", Method: http.MethodPost, Path: "/v1/dead-letters/{id}/replay",
		Summary: "Replay a dead letter", Tags: []string{"dead letters"}, DefaultStatus: http.StatusAccepted,
		Description: "Starts a failed run again as a new run (same request, same owner) or delivers a message again (same webhook-id); the entry records what replayed it. 409 already_replayed the second time. An admin may replay the workspace's, a member their own.",
		Errors:      []int{401, 404, 409, 422, 429, 503},
	}, func(ctx context.Context, in *deadLetterIDInput) (*deadLetterOutput, error) {
		p, _ := PrincipalFrom(ctx)
		dl, err := s.q.DeadLetterGet(ctx, sqlc.DeadLetterGetParams{ID: in.ID, WorkspaceID: p.WorkspaceID})
		if db.IsNotFound(err) || err == nil && !p.Admin() && dl.OwnerID != p.UserID {
			return nil, notFound("dead letter")
		}
		if err != nil {
			return nil, dependencyError("postgres", err)
		}
		replayed, err := s.replay(ctx, dl)
		if err != nil {
			return nil, err
		}
		return &deadLetterOutput{Body: s.deadLetterView(replayed)}, nil
	})

	huma.Register(s.api, huma.Operation{
		OperationID: "replay-dead-letters", Method: http.MethodPost, Path: "/v1/dead-letters/replay",
		Summary: "Replay dead letters by filter", Tags: []string{"dead letters"},
		Description: "Replays the entries not replayed yet that match the filter, oldest first, at most limit (≤ 100) of them. An admin replays the workspace's, a member their own.",
		Errors:      []int{400, 401, 422, 429, 503},
	}, func(ctx context.Context, in *replayFilterInput) (*replayedOutput, error) {
		p, _ := PrincipalFrom(ctx)
		limit := in.Body.Limit
		if limit <= 0 || limit > maxReplayBatch {
			limit = maxReplayBatch
		}
		rows, err := s.q.DeadLetterList(ctx, s.deadLetterFilter(p, in.Body.Kind, in.Body.EndpointID, in.Body.ErrorType, in.Body.Since, "false", "", limit))
		if err != nil {
			return nil, dependencyError("postgres", err)
		}
		out := &replayedOutput{}
		out.Body.Replayed = []DeadLetter{}
		for i := len(rows) - 1; i >= 0; i-- {
			replayed, err := s.replay(ctx, rows[i])
			if pr, ok := err.(*Problem); ok && pr.Status < 500 {
				continue // replayed meanwhile, or not replayable
			}
			if err != nil {
				return nil, err
			}
			out.Body.Replayed = append(out.Body.Replayed, s.deadLetterView(replayed))
		}
		return out, nil
	})
}

func (s *Server) deadLetterFilter(p Principal, kind, endpoint, errType string, since time.Time, replayed, cursor string, limit int) sqlc.DeadLetterListParams {
	f := sqlc.DeadLetterListParams{WorkspaceID: p.WorkspaceID, MaxRows: int32(limit)}
	opt := func(v string) *string {
		if v == "" {
			return nil
		}
		return &v
	}
	if !p.Admin() {
		f.OwnerID = &p.UserID
	}
	f.Kind, f.EndpointID, f.ErrorType, f.Before = opt(kind), opt(endpoint), opt(errType), opt(cursor)
	if !since.IsZero() {
		f.Since = &since
	}
	if replayed != "" {
		b := replayed == "true"
		f.Replayed = &b
	}
	return f
}

// replay claims a dead letter and starts what it replays; a claim lost to
// another replay is 409, a failed start gives the claim back.
func (s *Server) replay(ctx context.Context, dl sqlc.DeadLetter) (sqlc.DeadLetter, error) {
	if dl.ReplayedAt != nil {
		return dl, problem(http.StatusConflict, groundwork.SlugAlreadyReplayed, "this dead letter was replayed as "+deref(dl.ReplayedAs))
	}
	if dl.MessageID != nil {
		as := *dl.MessageID + " (resent)"
		claimed, err := s.q.DeadLetterClaim(ctx, sqlc.DeadLetterClaimParams{ID: dl.ID, WorkspaceID: dl.WorkspaceID, ReplayedAs: &as})
		if db.IsNotFound(err) {
			return dl, problem(http.StatusConflict, groundwork.SlugAlreadyReplayed, "this dead letter was replayed meanwhile")
		}
		if err != nil {
			return dl, dependencyError("postgres", err)
		}
		if _, err := s.q.WebhookMessageResend(ctx, *dl.MessageID); err != nil {
			_ = s.q.DeadLetterUnclaim(context.WithoutCancel(ctx), dl.ID)
			if db.IsNotFound(err) {
				return dl, problem(http.StatusConflict, groundwork.SlugStillDelivering, "the message is being delivered again already")
			}
			return dl, dependencyError("postgres", err)
		}
		return claimed, nil
	}
	kind := groundwork.Kind(dl.Kind)
	if len(dl.Body) == 0 || !kind.Valid() {
		return dl, problem(http.StatusUnprocessableEntity, groundwork.SlugValidation, "this run cannot be replayed: its request was not kept")
	}
	id := groundwork.NewRunID(kind, s.d.Now())
	claimed, err := s.q.DeadLetterClaim(ctx, sqlc.DeadLetterClaimParams{ID: dl.ID, WorkspaceID: dl.WorkspaceID, ReplayedAs: &id})
	if db.IsNotFound(err) {
		return dl, problem(http.StatusConflict, groundwork.SlugAlreadyReplayed, "this dead letter was replayed meanwhile")
	}
	if err != nil {
		return dl, dependencyError("postgres", err)
	}
	if _, _, err := s.startRun(ctx, startRequest{owner: dl.OwnerID, workspace: dl.WorkspaceID, kind: kind, body: dl.Body, id: id}); err != nil {
		_ = s.q.DeadLetterUnclaim(context.WithoutCancel(ctx), dl.ID)
		return dl, err
	}
	return claimed, nil
}

func (s *Server) deadLetterView(d sqlc.DeadLetter) DeadLetter {
	v := DeadLetter{ID: d.ID, Kind: d.Kind, RunID: deref(d.RunID), MessageID: deref(d.MessageID), EndpointID: deref(d.EndpointID),
		OwnerID: d.OwnerID, ErrorType: d.ErrorType, Error: d.Error, Attempts: int(d.Attempts), CreatedAt: d.CreatedAt,
		ReplayedAt: d.ReplayedAt, ReplayedAs: deref(d.ReplayedAs)}
	workflowID := v.RunID
	if d.MessageID != nil && d.Generation != nil {
		workflowID = groundwork.WebhookWorkflowID(*d.MessageID, *d.Generation)
	}
	v.TemporalURL = strings.TrimRight(s.d.TemporalUIURL, "/") + "/namespaces/" + url.PathEscape(s.d.TemporalNamespace) + "/workflows/" + url.PathEscape(workflowID)
	return v
}
