package api

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/groundwork-dev/groundwork"
	"github.com/groundwork-dev/groundwork/db/sqlc"
	"github.com/groundwork-dev/groundwork/internal/apikey"
)

// APIKey is an API key as listed: never its secret.
type APIKey struct {
	ID         int64      `json:"id"`
	Prefix     string     `json:"prefix" doc:"The key's first characters, to recognise it."`
	UserID     string     `json:"user_id" doc:"The user the key acts as."`
	Role       string     `json:"role" enum:"admin,member"`
	Name       string     `json:"name"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  *time.Time `json:"expires_at,omitempty"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty" doc:"Recorded at most once a minute."`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
}

// CreatedAPIKey is a new key with its secret, shown this once.
type CreatedAPIKey struct {
	APIKey
	Secret string `json:"secret" doc:"The key itself (gw_…): shown once, stored only as a hash."`
}

type createAPIKeyInput struct {
	Body struct {
		Name      string `json:"name" minLength:"1" maxLength:"100" doc:"A label for listings."`
		Role      string `json:"role,omitempty" enum:"admin,member" doc:"The key's role in the workspace (default member)."`
		ExpiresIn string `json:"expires_in,omitempty" maxLength:"20" doc:"Lifetime as a duration like 720h; default never expires." example:"720h"`
	}
}

type apiKeyIDInput struct {
	ID int64 `path:"id" minimum:"1" doc:"Key ID."`
}

type apiKeyOutput struct {
	Body CreatedAPIKey
}

type apiKeyListOutput struct {
	Body struct {
		Keys []APIKey `json:"keys"`
	}
}

func apiKeyView(k sqlc.ApiKey) APIKey {
	return APIKey{ID: k.ID, Prefix: k.Prefix, UserID: k.UserID, Role: k.Role, Name: k.Name, CreatedAt: k.CreatedAt,
		ExpiresAt: k.ExpiresAt, LastUsedAt: k.LastUsedAt, RevokedAt: k.RevokedAt}
}

func (s *Server) registerAPIKeys() {
	huma.Register(s.api, huma.Operation{
		OperationID: "create-api-key", Method: http.MethodPost, Path: "/v1/api-keys",
		Summary:     "Create an API key",
		Description: "Admins only. The key acts as the caller in the caller's workspace with the given role; its secret is in this answer and nowhere else.",
		Tags:        []string{"api-keys"}, DefaultStatus: http.StatusCreated,
		Errors: []int{400, 401, 403, 422, 429, 503},
	}, func(ctx context.Context, in *createAPIKeyInput) (*apiKeyOutput, error) {
		p, err := requireAdmin(ctx)
		if err != nil {
			return nil, err
		}
		spec := apikey.Spec{User: p.UserID, Workspace: p.WorkspaceID, Role: in.Body.Role, Name: in.Body.Name}
		if spec.Role == "" {
			spec.Role = groundwork.RoleMember
		}
		if in.Body.ExpiresIn != "" {
			d, err := time.ParseDuration(in.Body.ExpiresIn)
			if err != nil || d < time.Minute || d > 5*365*24*time.Hour {
				return nil, problem(http.StatusUnprocessableEntity, groundwork.SlugValidation, "invalid expires_in",
					groundwork.FieldError{Field: "expires_in", Message: "must be a duration between 1m and 43800h, like 720h"})
			}
			t := s.d.Now().Add(d)
			spec.ExpiresAt = &t
		}
		row, secret, err := apikey.Create(ctx, s.d.Pool, spec)
		if err != nil {
			return nil, dependencyError("postgres", err)
		}
		return &apiKeyOutput{Body: CreatedAPIKey{APIKey: apiKeyView(row), Secret: secret}}, nil
	})

	huma.Register(s.api, huma.Operation{
		OperationID: "list-api-keys", Method: http.MethodGet, Path: "/v1/api-keys",
		Summary: "List the workspace's API keys", Description: "Admins only; revoked and expired keys included, newest first.",
		Tags: []string{"api-keys"}, Errors: []int{401, 403, 429, 503},
	}, func(ctx context.Context, _ *struct{}) (*apiKeyListOutput, error) {
		p, err := requireAdmin(ctx)
		if err != nil {
			return nil, err
		}
		rows, err := s.q.APIKeyList(ctx, sqlc.APIKeyListParams{WorkspaceID: p.WorkspaceID, MaxRows: 1000})
		if err != nil {
			return nil, dependencyError("postgres", err)
		}
		out := &apiKeyListOutput{}
		out.Body.Keys = make([]APIKey, 0, len(rows))
		for _, r := range rows {
			out.Body.Keys = append(out.Body.Keys, apiKeyView(r))
		}
		return out, nil
	})

	huma.Register(s.api, huma.Operation{
		OperationID: "revoke-api-key", Method: http.MethodDelete, Path: "/v1/api-keys/{id}",
		Summary:     "Revoke an API key",
		Description: "Admins only. The key is refused at once by every API process; revoking it again is a no-op. Another workspace's key is 404.",
		Tags:        []string{"api-keys"}, DefaultStatus: http.StatusNoContent, Errors: []int{401, 403, 404, 429, 503},
	}, func(ctx context.Context, in *apiKeyIDInput) (*struct{}, error) {
		p, err := requireAdmin(ctx)
		if err != nil {
			return nil, err
		}
		n, err := s.q.APIKeyRevoke(ctx, sqlc.APIKeyRevokeParams{ID: in.ID, WorkspaceID: p.WorkspaceID})
		if err != nil {
			return nil, dependencyError("postgres", err)
		}
		if n == 0 {
			return nil, notFound("api key")
		}
		return nil, nil
	})
}
