package main

import (
	"context"
	"fmt"
	"os"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/groundwork-dev/groundwork/cmd/groundwork/app"
	"github.com/groundwork-dev/groundwork/db"
	"github.com/groundwork-dev/groundwork/internal/config"
)

// openDB reads the configuration of a Postgres-only command and opens a
// small pool.
func openDB(ctx context.Context) (config.Config, *pgxpool.Pool, error) {
	cfg, err := config.Load(os.Getenv, config.RoleDB)
	if err != nil {
		return config.Config{}, nil, err
	}
	pool, err := db.Open(ctx, cfg.DatabaseURL, db.PoolConfig{MaxConns: 2})
	if err != nil {
		return config.Config{}, nil, err
	}
	return cfg, pool, nil
}

func migrateCmd(ctx context.Context, args []string) error {
	cfg, pool, err := openDB(ctx)
	if err != nil {
		return err
	}
	defer pool.Close()
	sub := "up"
	if len(args) > 0 {
		sub = args[0]
	}
	switch sub {
	case "up":
		return db.Migrate(ctx, pool, app.NewLogger(cfg))
	case "status":
		st, err := db.MigrationStatus(ctx, pool)
		if err != nil {
			return err
		}
		for _, s := range st {
			applied := "pending"
			if !s.AppliedAt.IsZero() {
				applied = "applied " + s.AppliedAt.Format("2006-01-02 15:04:05")
			}
			fmt.Printf("%05d  %-40s  %s\n", s.Source.Version, s.Source.Path, applied)
		}
		return nil
	default:
		return fmt.Errorf("migrate: unknown subcommand %q (want up or status)", sub)
	}
}
