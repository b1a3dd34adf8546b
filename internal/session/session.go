// Package session enforces the server side of identity-provider sessions:
// the provider (Supabase, Auth0…) issues tokens and rotates refresh
// tokens; a token names its session in a claim, and Groundwork keeps one
// row per session to end it when idle, to cap a user's live sessions, and
// to make a revocation final whatever tokens are still valid.
package session

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/groundwork-dev/groundwork/db"
	"github.com/groundwork-dev/groundwork/db/sqlc"
)

// Errors of a session that is no longer live.
var (
	// ErrExpired is a session unused for longer than the idle timeout.
	ErrExpired = errors.New("the session expired after being idle; sign in again")
	// ErrRevoked is a session revoked by its user, an admin, or a newer
	// session over the per-user limit.
	ErrRevoked = errors.New("the session was revoked; sign in again")
)

// touchEvery is how stale last_seen may get before a request writes it:
// the idle timeout is then exact to within this, and a busy session costs
// one write a minute, not one per request.
const touchEvery = time.Minute

// idleReason marks a session ended by the idle timeout, told apart from a
// revoked one.
var idleReason = "idle"

// Seen is a request that carries a session.
type Seen struct {
	UserID, WorkspaceID, SessionID string
	UserAgent, IP                  string
}

// Store checks sessions against Postgres.
type Store struct {
	Pool *pgxpool.Pool
	// Idle ends a session unused for this long.
	Idle time.Duration
	// PerUser is the most live sessions a user keeps; a newer one revokes
	// the least recently used.
	PerUser int
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

func (s *Store) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Check records or touches the session of a request and says whether it
// is live: nil, ErrExpired, ErrRevoked, or a database error. A live
// session costs one indexed read, and a write at most once a minute.
func (s *Store) Check(ctx context.Context, in Seen) error {
	q := sqlc.New(s.Pool)
	row, err := q.SessionGet(ctx, sqlc.SessionGetParams{UserID: in.UserID, ID: in.SessionID})
	if db.IsNotFound(err) {
		row, err = s.create(ctx, in)
	}
	if err != nil {
		return fmt.Errorf("session: %w", err)
	}
	now := s.now()
	switch {
	case row.RevokedAt != nil && row.RevokedReason != nil && *row.RevokedReason == "idle":
		return ErrExpired
	case row.RevokedAt != nil:
		return ErrRevoked
	case now.Sub(row.LastSeen) > s.Idle:
		if _, err := q.SessionRevoke(ctx, sqlc.SessionRevokeParams{UserID: in.UserID, ID: in.SessionID, Reason: &idleReason}); err != nil {
			return fmt.Errorf("session: end idle session: %w", err)
		}
		return ErrExpired
	case now.Sub(row.LastSeen) > touchEvery:
		if err := q.SessionTouch(ctx, sqlc.SessionTouchParams{UserID: in.UserID, ID: in.SessionID}); err != nil {
			return fmt.Errorf("session: touch: %w", err)
		}
	}
	return nil
}

// create records a new session and revokes the user's least recently used
// live sessions beyond PerUser, serialised per user so two new sessions at
// once cannot both stay.
func (s *Store) create(ctx context.Context, in Seen) (sqlc.Session, error) {
	var row sqlc.Session
	err := db.InTx(ctx, s.Pool, func(tx pgx.Tx) error {
		q := sqlc.New(tx)
		if _, err := q.UserLock(ctx, in.UserID); err != nil {
			return fmt.Errorf("lock user: %w", err)
		}
		var err error
		row, err = q.SessionInsert(ctx, sqlc.SessionInsertParams{
			UserID: in.UserID, ID: in.SessionID, WorkspaceID: in.WorkspaceID, UserAgent: truncate(in.UserAgent, 500), Ip: in.IP,
		})
		if err != nil {
			return fmt.Errorf("insert session: %w", err)
		}
		if s.PerUser > 0 {
			if _, err := q.SessionEvictBeyond(ctx, sqlc.SessionEvictBeyondParams{
				UserID: in.UserID, IdleSince: s.now().Add(-s.Idle), MaxLive: int32(s.PerUser),
			}); err != nil {
				return fmt.Errorf("evict sessions: %w", err)
			}
		}
		return nil
	})
	return row, err
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
