package apikey

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/groundwork-dev/groundwork/db"
	"github.com/groundwork-dev/groundwork/db/sqlc"
)

// Create stores a new key for user (creating the user) and returns the
// secret, which is not stored and cannot be shown again.
func Create(ctx context.Context, pool *pgxpool.Pool, user, name string) (string, error) {
	k := New()
	err := db.InTx(ctx, pool, func(tx pgx.Tx) error {
		q := sqlc.New(tx)
		if err := q.UserEnsure(ctx, user); err != nil {
			return fmt.Errorf("ensure user: %w", err)
		}
		if _, err := q.APIKeyInsert(ctx, sqlc.APIKeyInsertParams{UserID: user, Name: name, Prefix: k.Display, Hash: k.Hash}); err != nil {
			return fmt.Errorf("insert api key: %w", err)
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	return k.Secret, nil
}
