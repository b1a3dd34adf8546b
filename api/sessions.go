package api

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/groundwork-dev/groundwork/db/sqlc"
)

// Session is a sign-in session of the caller, as its tokens name it.
type Session struct {
	ID            string     `json:"id" doc:"The session claim's value."`
	WorkspaceID   string     `json:"workspace_id"`
	FirstSeen     time.Time  `json:"first_seen"`
	LastSeen      time.Time  `json:"last_seen" doc:"Recorded at most once a minute."`
	UserAgent     string     `json:"user_agent"`
	IP            string     `json:"ip"`
	RevokedAt     *time.Time `json:"revoked_at,omitempty"`
	RevokedReason *string    `json:"revoked_reason,omitempty" doc:"idle, evicted (a newer session over the per-user limit) or revoked."`
}

type sessionListOutput struct {
	Body struct {
		Sessions []Session `json:"sessions"`
	}
}

type sessionIDInput struct {
	ID string `path:"id" maxLength:"255" doc:"Session ID."`
}

func (s *Server) registerSessions() {
	huma.Register(s.api, huma.Operation{
		OperationID: "list-sessions", Method: http.MethodGet, Path: "/v1/sessions",
		Summary:     "List your sessions",
		Description: "The sessions your JWTs named (the session claim), most recently used first, with those that ended.",
		Tags:        []string{"sessions"}, Errors: []int{401, 429, 503},
	}, func(ctx context.Context, _ *struct{}) (*sessionListOutput, error) {
		p, _ := PrincipalFrom(ctx)
		rows, err := s.q.SessionListForUser(ctx, p.UserID)
		if err != nil {
			return nil, dependencyError("postgres", err)
		}
		out := &sessionListOutput{}
		out.Body.Sessions = make([]Session, 0, len(rows))
		for _, r := range rows {
			out.Body.Sessions = append(out.Body.Sessions, Session{ID: r.ID, WorkspaceID: r.WorkspaceID, FirstSeen: r.FirstSeen,
				LastSeen: r.LastSeen, UserAgent: r.UserAgent, IP: r.Ip, RevokedAt: r.RevokedAt, RevokedReason: r.RevokedReason})
		}
		return out, nil
	})

	huma.Register(s.api, huma.Operation{
		OperationID: "revoke-session", Method: http.MethodDelete, Path: "/v1/sessions/{id}",
		Summary:     "Revoke a session",
		Description: "Ends one of your sessions for good (an admin: any session of the workspace); its tokens get 401 session_revoked from then on, even while valid.",
		Tags:        []string{"sessions"}, DefaultStatus: http.StatusNoContent, Errors: []int{401, 404, 429, 503},
	}, func(ctx context.Context, in *sessionIDInput) (*struct{}, error) {
		p, _ := PrincipalFrom(ctx)
		n, err := s.q.SessionRevoke(ctx, sqlc.SessionRevokeParams{UserID: p.UserID, ID: in.ID, Reason: &revokedReason})
		if err == nil && n == 0 && p.Admin() {
			n, err = s.q.SessionRevokeInWorkspace(ctx, sqlc.SessionRevokeInWorkspaceParams{WorkspaceID: p.WorkspaceID, ID: in.ID})
		}
		if err != nil {
			return nil, dependencyError("postgres", err)
		}
		if n == 0 {
			return nil, notFound("session")
		}
		return nil, nil
	})
}

// revokedReason marks a session ended by a person.
var revokedReason = "revoked"
