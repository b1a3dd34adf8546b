// Command groundwork is Groundwork's one binary: the API, the worker, both
// at once for development, migrations, API keys and a client for runs.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

const usage = `groundwork — durable jobs for the sales-enablement platform

Usage:
  groundwork api                   serve the HTTP API
  groundwork worker                poll Temporal task queues and run activities
  groundwork dev                   API + worker in one process; starts Postgres
                                   and Temporal under .data/ when DATABASE_URL /
                                   TEMPORAL_ADDRESS are unset (what make dev runs)
  groundwork dev-cluster           APIs behind nginx, workers, Postgres + read replica, Temporal (make dev-cluster)
  groundwork migrate [up|status]   apply or list database migrations
  groundwork apikey create|list|revoke
                                   manage API keys (the secret is printed once)
  groundwork airtable allow-table|disallow-table|tables
                                   open Postgres tables for Airtable sync
  groundwork runs get ID           show a run
  groundwork runs wait ID          follow a run with a progress bar until it ends
  groundwork runs list [--kind K] [--status S] [--limit N]
                                   list your runs
  groundwork healthcheck [URL | --temporal]
                                   exit 0 if the API (default :8080/healthz) or,
                                   with --temporal, TEMPORAL_ADDRESS is healthy

Configuration comes from the environment; see README.md.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(2)
		}
		fmt.Fprintln(os.Stderr, "groundwork:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(os.Stderr, usage)
		return flag.ErrHelp
	}
	switch args[0] {
	case "api":
		return apiCmd(ctx)
	case "worker":
		return workerCmd(ctx)
	case "dev":
		return devCmd(ctx, args[1:])
	case "dev-cluster":
		return devClusterCmd(ctx, args[1:])
	case "migrate":
		return migrateCmd(ctx, args[1:])
	case "apikey":
		return apikeyCmd(ctx, args[1:])
	case "airtable":
		return airtableCmd(ctx, args[1:])
	case "runs":
		return runsCmd(ctx, args[1:])
	case "healthcheck":
		return healthcheckCmd(ctx, args[1:])
	case "help", "-h", "--help":
		fmt.Print(usage)
		return nil
	default:
		fmt.Fprint(os.Stderr, usage)
		return fmt.Errorf("unknown command %q", args[0])
	}
}
