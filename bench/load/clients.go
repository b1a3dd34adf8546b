package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"

	"github.com/groundwork-dev/groundwork/bench/internal/benchstack"
	"github.com/groundwork-dev/groundwork/db"
	"github.com/groundwork-dev/groundwork/internal/apikey"
)

// apiPoolSize matches the API's default GROUNDWORK_DB_MAX_CONNS, so the raw
// baseline gets no more Postgres connections than the API has.
const apiPoolSize = 20

// env holds the clients the scenarios share.
type env struct {
	api      string
	pool     *pgxpool.Pool
	temporal client.Client
	// tag makes this run's user IDs unique, so rate-limit windows of an
	// earlier run against the same API never count against this one.
	tag string
	// soak, when set, samples the users scenario per interval.
	soak *soakSampler
}

func openEnv(ctx context.Context, o options, st *benchstack.Stack) (*env, error) {
	pool, err := db.Open(ctx, st.DatabaseURL, db.PoolConfig{MaxConns: apiPoolSize})
	if err != nil {
		return nil, fmt.Errorf("bench postgres pool: %w", err)
	}
	tc, err := client.DialContext(ctx, client.Options{
		HostPort:  st.TemporalAddress,
		Namespace: st.Namespace,
		// The SDK logs every dial and retry at info; keep stderr for progress.
		Logger: sdklog.NewStructuredLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))),
	})
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("bench temporal client for %s: %w", st.TemporalAddress, err)
	}
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return &env{api: st.APIURL, pool: pool, temporal: tc, tag: hex.EncodeToString(b)}, nil
}

func (e *env) close() {
	e.temporal.Close()
	e.pool.Close()
}

// user is one simulated API user.
type user struct {
	ID    string
	Token string
}

// createUsers makes n users with one API key each, straight in Postgres
// (what `groundwork apikey create` does), before any load starts.
func (e *env) createUsers(ctx context.Context, group string, n int) ([]user, error) {
	users := make([]user, n)
	for i := range users {
		id := fmt.Sprintf("bench-%s-%s-%04d", e.tag, group, i)
		_, token, err := apikey.Create(ctx, e.pool, apikey.Spec{User: id, Name: "bench/load"})
		if err != nil {
			return nil, fmt.Errorf("create bench user %s: %w", id, err)
		}
		users[i] = user{ID: id, Token: token}
	}
	return users, nil
}
