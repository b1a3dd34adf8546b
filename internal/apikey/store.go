package apikey

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/groundwork-dev/groundwork"
	"github.com/groundwork-dev/groundwork/db"
	"github.com/groundwork-dev/groundwork/db/sqlc"
)

// Spec says whom a new key acts as.
type Spec struct {
	// User is the user the key acts as.
	User string
	// Workspace is the workspace it acts in (default: User's own).
	Workspace string
	// Role is groundwork.RoleAdmin or groundwork.RoleMember (default admin,
	// as every user is the admin of their own workspace).
	Role string
	// Name labels the key in listings.
	Name string
	// ExpiresAt ends the key's life; nil never expires.
	ExpiresAt *time.Time
}

// Create stores a new key (creating its user and workspace) and returns
// the stored row and the secret, which is not stored and cannot be shown
// again.
func Create(ctx context.Context, pool *pgxpool.Pool, s Spec) (sqlc.ApiKey, string, error) {
	if s.User == "" {
		return sqlc.ApiKey{}, "", errors.New("api key: a user is required")
	}
	if s.Workspace == "" {
		s.Workspace = s.User
	}
	if s.Role == "" {
		s.Role = groundwork.RoleAdmin
	}
	if s.Role != groundwork.RoleAdmin && s.Role != groundwork.RoleMember {
		return sqlc.ApiKey{}, "", fmt.Errorf("api key: role %q is neither admin nor member", s.Role)
	}
	k := New()
	var row sqlc.ApiKey
	err := db.InTx(ctx, pool, func(tx pgx.Tx) error {
		q := sqlc.New(tx)
		if err := q.PrincipalEnsure(ctx, sqlc.PrincipalEnsureParams{WorkspaceID: s.Workspace, UserID: s.User}); err != nil {
			return fmt.Errorf("ensure user and workspace: %w", err)
		}
		var err error
		row, err = q.APIKeyInsert(ctx, sqlc.APIKeyInsertParams{
			UserID: s.User, WorkspaceID: s.Workspace, Role: s.Role, Name: s.Name, Prefix: k.Display, Hash: k.Hash, ExpiresAt: s.ExpiresAt,
		})
		if err != nil {
			return fmt.Errorf("insert api key: %w", err)
		}
		return nil
	})
	if err != nil {
		return sqlc.ApiKey{}, "", err
	}
	return row, k.Secret, nil
}
