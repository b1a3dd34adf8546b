package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/groundwork-dev/groundwork/db"
	"github.com/groundwork-dev/groundwork/internal/apikey"
	"github.com/groundwork-dev/groundwork/internal/config"
)

func apikeyCmd(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] != "create" {
		return errors.New("usage: groundwork apikey create --user ID [--name NAME]")
	}
	fs := flag.NewFlagSet("apikey create", flag.ContinueOnError)
	user := fs.String("user", "", "user ID the key acts as (required)")
	name := fs.String("name", "", "label shown in listings")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *user == "" {
		return errors.New("apikey create: --user is required")
	}
	cfg, err := config.Load(os.Getenv, config.RoleDB)
	if err != nil {
		return err
	}
	pool, err := db.Open(ctx, cfg.DatabaseURL, db.PoolConfig{MaxConns: 2})
	if err != nil {
		return err
	}
	defer pool.Close()
	secret, err := apikey.Create(ctx, pool, *user, *name)
	if err != nil {
		return err
	}
	fmt.Println(secret)
	return nil
}
