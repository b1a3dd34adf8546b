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
	"runtime/debug"
	"strings"
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
  groundwork runs cancel ID        cancel a run
  groundwork openapi               print the API's OpenAPI 3.1 document (api/openapi.json)
  groundwork version               print the version (also --version)
  groundwork healthcheck [URL | --temporal]
                                   exit 0 if the API (default :8080/healthz) or,
                                   with --temporal, TEMPORAL_ADDRESS is healthy

Configuration comes from the environment; see README.md.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		var mistake usageMistake
		if errors.As(err, &mistake) {
			fmt.Fprintln(os.Stderr, "groundwork:", err)
			os.Exit(2)
		}
		if errors.Is(err, flag.ErrHelp) {
			// Help asked for is an answer; help shown for a mistake is not.
			if helpAsked(os.Args[1:]) {
				os.Exit(0)
			}
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
	if len(args) > 1 && helpAsked(args[1:2]) {
		// Before any configuration is read: help needs no DATABASE_URL.
		if h, ok := commandHelp[args[0]]; ok {
			fmt.Print(h)
			return nil
		}
	}
	switch args[0] {
	case "openapi":
		return openapiCmd(os.Stdout)
	case "version", "--version", "-version":
		fmt.Println(versionString())
		return nil
	case "api":
		return apiCmd(ctx, args[1:])
	case "worker":
		return workerCmd(ctx, args[1:])
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
		return usageMistake(fmt.Sprintf("unknown command %q\n\n%s", args[0], usage))
	}
}

// parseFlags parses a command's flags. The flag package has printed a
// mistake and the usage by the time Parse fails, so the error becomes
// flag.ErrHelp: a usage mistake, exit 2.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return flag.ErrHelp
	}
	return nil
}

// usageMistake is a command line that cannot be run as written (a
// missing argument, one too many): main prints it and exits 2.
type usageMistake string

func (m usageMistake) Error() string { return string(m) }

// helpAsked reports whether args ask for help.
func helpAsked(args []string) bool {
	for _, a := range args {
		if a == "-h" || a == "--help" || a == "-help" || a == "help" {
			return true
		}
	}
	return false
}

// commandHelp is the help of the commands that otherwise read the
// configuration first.
var commandHelp = map[string]string{
	"api": `groundwork api — serve the HTTP API on GROUNDWORK_HTTP_ADDR (:8080), metrics on GROUNDWORK_METRICS_ADDR.
Needs DATABASE_URL, GROUNDWORK_SIGNING_KEY and a Temporal frontend (TEMPORAL_ADDRESS); every variable is in README.md.
`,
	"worker": `groundwork worker — poll Temporal's task queues and run the activities; metrics and /healthz on GROUNDWORK_METRICS_ADDR.
Needs DATABASE_URL and a Temporal frontend (TEMPORAL_ADDRESS); every variable is in README.md.
`,
	"apikey":   apikeyUsage,
	"airtable": airtableUsage,
	"migrate": `groundwork migrate [up|status] — apply the pending database migrations (up, the default) or list them (status).
Needs DATABASE_URL.
`,
}

// version is set at link time (make build: git describe); empty, the
// module version the toolchain stamped is shown.
var version string

// versionString names the build: its version, the commit and its time
// when the toolchain stamped them (-buildvcs), and the Go version.
func versionString() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "groundwork " + version
	}
	v := info.Main.Version
	if version != "" {
		v = version
	}
	var rev, at, dirty string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			at = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "+dirty"
			}
		}
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	return strings.TrimSpace(fmt.Sprintf("groundwork %s %s%s %s %s", v, rev, dirty, at, info.GoVersion))
}
