package main

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"github.com/groundwork-dev/groundwork/internal/apikey"
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
	_, pool, err := openDB(ctx)
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
