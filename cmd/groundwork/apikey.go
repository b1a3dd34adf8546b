package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	"github.com/groundwork-dev/groundwork/db/sqlc"
	"github.com/groundwork-dev/groundwork/internal/apikey"
)

const apikeyUsage = `usage:
  groundwork apikey create --user ID [--workspace ID] [--role admin|member] [--name NAME] [--expires 720h]
  groundwork apikey list --workspace ID
  groundwork apikey revoke --workspace ID --id N`

func apikeyCmd(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return usageMistake(apikeyUsage)
	}
	switch args[0] {
	case "create":
		return apikeyCreate(ctx, args[1:])
	case "list":
		return apikeyList(ctx, args[1:])
	case "revoke":
		return apikeyRevoke(ctx, args[1:])
	default:
		return usageMistake(apikeyUsage)
	}
}

func apikeyCreate(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("apikey create", flag.ContinueOnError)
	user := fs.String("user", "", "user ID the key acts as (required)")
	workspace := fs.String("workspace", "", "workspace the key acts in (default: the user's own)")
	role := fs.String("role", "admin", "admin or member")
	name := fs.String("name", "", "label shown in listings")
	expires := fs.Duration("expires", 0, "lifetime, e.g. 720h (default: never expires)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *user == "" {
		return errors.New("apikey create: --user is required")
	}
	spec := apikey.Spec{User: *user, Workspace: *workspace, Role: *role, Name: *name}
	if *expires > 0 {
		t := time.Now().Add(*expires)
		spec.ExpiresAt = &t
	}
	_, pool, err := openDB(ctx)
	if err != nil {
		return err
	}
	defer pool.Close()
	_, secret, err := apikey.Create(ctx, pool, spec)
	if err != nil {
		return err
	}
	fmt.Println(secret)
	return nil
}

func apikeyList(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("apikey list", flag.ContinueOnError)
	workspace := fs.String("workspace", "", "workspace whose keys to list (required)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *workspace == "" {
		return errors.New("apikey list: --workspace is required")
	}
	_, pool, err := openDB(ctx)
	if err != nil {
		return err
	}
	defer pool.Close()
	keys, err := sqlc.New(pool).APIKeyList(ctx, sqlc.APIKeyListParams{WorkspaceID: *workspace, MaxRows: 1000})
	if err != nil {
		return fmt.Errorf("list api keys: %w", err)
	}
	w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tPREFIX\tUSER\tROLE\tNAME\tCREATED\tEXPIRES\tLAST USED\tREVOKED")
	for _, k := range keys {
		fmt.Fprintf(w, "%d\t%s…\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.Prefix, k.UserID, k.Role, k.Name,
			k.CreatedAt.Format(time.RFC3339), timeOrDash(k.ExpiresAt), timeOrDash(k.LastUsedAt), timeOrDash(k.RevokedAt))
	}
	return w.Flush()
}

func apikeyRevoke(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("apikey revoke", flag.ContinueOnError)
	workspace := fs.String("workspace", "", "the key's workspace (required)")
	id := fs.Int64("id", 0, "the key's ID from apikey list (required)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *workspace == "" || *id == 0 {
		return errors.New("apikey revoke: --workspace and --id are required")
	}
	_, pool, err := openDB(ctx)
	if err != nil {
		return err
	}
	defer pool.Close()
	n, err := sqlc.New(pool).APIKeyRevoke(ctx, sqlc.APIKeyRevokeParams{ID: *id, WorkspaceID: *workspace})
	if err != nil {
		return fmt.Errorf("revoke api key: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("apikey revoke: no key %d in workspace %s", *id, *workspace)
	}
	fmt.Printf("revoked key %d\n", *id)
	return nil
}

func timeOrDash(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.Format(time.RFC3339)
}
