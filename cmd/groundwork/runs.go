package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/groundwork-dev/groundwork"
	"github.com/groundwork-dev/groundwork/client"
)

const runsUsage = `usage:
  groundwork runs get [--json] ID
  groundwork runs wait [--json] ID
  groundwork runs list [--kind K] [--status S] [--limit N] [--all] [--json]
  groundwork runs cancel [--json] ID

Every subcommand takes --api URL (default $GROUNDWORK_API_URL, else
http://localhost:8080) and --token T (default $GROUNDWORK_TOKEN).`

const (
	defaultAPIURL = "http://localhost:8080"
	// cliUserAgent names the CLI in the API's logs.
	cliUserAgent = "groundwork-cli"
)

// runsCmd is the client for /v1/runs.
func runsCmd(ctx context.Context, args []string) error {
	return runRuns(ctx, args, os.Getenv, os.Stdout, os.Stderr)
}

// runRuns is runsCmd with its environment and output passed in, for tests.
func runRuns(ctx context.Context, args []string, getenv func(string) string, out, errOut io.Writer) error {
	if len(args) == 0 {
		return usageMistake("runs: missing subcommand\n" + runsUsage)
	}
	sub, rest := args[0], args[1:]
	fs := flag.NewFlagSet("runs "+sub, flag.ContinueOnError)
	fs.SetOutput(errOut)
	base := fs.String("api", or(getenv("GROUNDWORK_API_URL"), defaultAPIURL), "API base URL")
	token := fs.String("token", getenv("GROUNDWORK_TOKEN"), "API key or JWT")
	asJSON := fs.Bool("json", false, "print the API's JSON instead of a summary")
	var lf listFlags
	switch sub {
	case "get", "wait", "cancel":
	case "list":
		fs.StringVar(&lf.kind, "kind", "", "only runs of this kind")
		fs.StringVar(&lf.status, "status", "", "only runs in this status")
		fs.IntVar(&lf.limit, "limit", 0, "runs per page (server default 20, max 100)")
		fs.BoolVar(&lf.all, "all", false, "follow next_cursor through every page")
	case "help", "-h", "--help":
		_, _ = fmt.Fprintln(out, runsUsage)
		return nil
	default:
		return usageMistake(fmt.Sprintf("runs: unknown subcommand %q\n%s", sub, runsUsage))
	}
	pos, err := parseInterspersed(fs, rest)
	if err != nil {
		return err
	}
	switch {
	case sub == "list" && len(pos) != 0:
		return usageMistake(fmt.Sprintf("runs list takes no arguments, got %q\n%s", pos, runsUsage))
	case sub != "list" && len(pos) != 1:
		return usageMistake(fmt.Sprintf("runs %s needs exactly one run ID\n%s", sub, runsUsage))
	}
	c, err := newRunsClient(*base, *token, out, errOut)
	if err != nil {
		return err
	}
	if sub == "list" {
		return explain(c.list(ctx, lf, *asJSON))
	}
	switch sub {
	case "get":
		return explain(c.get(ctx, pos[0], *asJSON))
	case "cancel":
		return explain(c.cancel(ctx, pos[0], *asJSON))
	}
	return explain(c.wait(ctx, pos[0], *asJSON))
}

// explain adds to an API problem what the user can do about it: set a
// valid token, or wait as long as the rate limit asks.
func explain(err error) error {
	var p *client.Problem
	if !errors.As(err, &p) {
		return err
	}
	switch p.Status {
	case http.StatusUnauthorized:
		return fmt.Errorf("%w\n  (check GROUNDWORK_TOKEN: set it to a valid API key or JWT)", err)
	case http.StatusTooManyRequests:
		if p.RetryAfter > 0 {
			return fmt.Errorf("%w\n  (rate limited: retry after %d s, per Retry-After)", err, int(p.RetryAfter.Seconds()))
		}
		return fmt.Errorf("%w\n  (rate limited: retry later)", err)
	}
	return err
}

// parseInterspersed lets flags follow the run ID ("runs get ID --json"),
// which the flag package alone stops parsing at.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := parseFlags(fs, args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// or is s, or def when s is empty.
func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// listFlags are the filters of runs list.
type listFlags struct {
	kind, status string
	limit        int
	all          bool
}

// runsClient drives the runs API through the public Go client and writes
// what it finds to out (data) and errOut (progress and hints).
type runsClient struct {
	api         *client.Client
	out, errOut io.Writer
}

// newRunsClient checks the configuration and builds a client; opts let
// tests shorten its delays.
func newRunsClient(base, token string, out, errOut io.Writer, opts ...client.Option) (*runsClient, error) {
	if token == "" {
		return nil, errors.New("runs: GROUNDWORK_TOKEN is not set; export an API key (groundwork apikey create --user ID) or a JWT as GROUNDWORK_TOKEN, or pass --token")
	}
	opts = append([]client.Option{client.WithAPIKey(token), client.WithUserAgent(cliUserAgent)}, opts...)
	api, err := client.New(base, opts...)
	if err != nil {
		return nil, fmt.Errorf("runs: GROUNDWORK_API_URL %q is not an http(s) URL", base)
	}
	return &runsClient{api: api, out: out, errOut: errOut}, nil
}

// get prints one run, as a summary or as the API's JSON.
func (c *runsClient) get(ctx context.Context, id string, asJSON bool) error {
	run, err := c.api.GetRun(ctx, id)
	if err != nil {
		return err
	}
	return c.printRun(run, asJSON)
}

// cancel asks for a run's cancellation and shows the run as it answers.
func (c *runsClient) cancel(ctx context.Context, id string, asJSON bool) error {
	run, err := c.api.CancelRun(ctx, id)
	if err != nil {
		return err
	}
	return c.printRun(run, asJSON)
}

// printRun shows a run as the API's JSON or as a summary.
func (c *runsClient) printRun(r *client.Run, asJSON bool) error {
	if asJSON {
		return c.printJSON(r.Raw)
	}
	return c.printSummary(r)
}

// printJSON indents the API's bytes without decoding them, so fields this
// client does not know survive.
func (c *runsClient) printJSON(raw []byte) error {
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, "", "  "); err != nil {
		return fmt.Errorf("print json: %w", err)
	}
	buf.WriteByte('\n')
	_, err := c.out.Write(buf.Bytes())
	return err
}

// printSummary writes the run as aligned "key: value" lines.
func (c *runsClient) printSummary(r *client.Run) error {
	tw := tabwriter.NewWriter(c.out, 0, 0, 2, ' ', 0)
	line := func(k, v string) { _, _ = fmt.Fprintf(tw, "%s:\t%s\n", k, v) }
	line("id", r.ID)
	line("kind", r.Kind)
	line("status", r.Status)
	line("progress", describeProgress(r.Progress, true))
	line("created", formatTime(r.CreatedAt))
	line("updated", formatTime(r.UpdatedAt))
	for _, k := range sortedKeys(r.Result) {
		line("result."+k, formatValue(r.Result[k]))
	}
	if r.Error != nil {
		line("error", strings.TrimSuffix(r.Error.Type+": "+r.Error.Message, ": "))
	}
	return tw.Flush()
}

// describeProgress is "stage 3/10 (30%): message"; counts and percent are
// left out while the total is unknown.
func describeProgress(p groundwork.RunProgress, withCounts bool) string {
	s := p.Stage
	if withCounts && p.Total > 0 {
		s += fmt.Sprintf(" %d/%d (%d%%)", p.Done, p.Total, p.Percent)
	}
	if p.Message != "" {
		s += ": " + p.Message
	}
	return s
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// formatValue prints strings bare and everything else as JSON, so sizes
// read 1048576 rather than fmt's 1.048576e+06.
func formatValue(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// --- list -------------------------------------------------------------------

// listPage is what runs list --json prints: the runs as the API sent
// them, so every field survives, and the cursor of the page after them.
type listPage struct {
	Runs       []json.RawMessage `json:"runs"`
	NextCursor string            `json:"next_cursor,omitempty"`
}

// list prints the caller's runs, one page or (with --all) every page.
func (c *runsClient) list(ctx context.Context, f listFlags, asJSON bool) error {
	opts := client.ListOptions{Kind: f.kind, Status: f.status, Limit: f.limit}
	var runs []*client.Run
	next := ""
	for {
		page, err := c.api.ListRuns(ctx, opts)
		if err != nil {
			return err
		}
		runs = append(runs, page.Runs...)
		next = page.NextCursor
		if !f.all || next == "" {
			break
		}
		opts.Cursor = next
	}
	if asJSON {
		all := listPage{Runs: make([]json.RawMessage, 0, len(runs)), NextCursor: next}
		for _, r := range runs {
			all.Runs = append(all.Runs, r.Raw)
		}
		b, err := json.Marshal(all)
		if err != nil {
			return fmt.Errorf("list runs: %w", err)
		}
		return c.printJSON(b)
	}
	if err := c.printTable(runs); err != nil {
		return err
	}
	if next != "" {
		_, _ = fmt.Fprintln(c.errOut, "more runs exist; pass --all to list them all")
	}
	return nil
}

// printTable writes one aligned line per run.
func (c *runsClient) printTable(runs []*client.Run) error {
	tw := tabwriter.NewWriter(c.out, 0, 0, 2, ' ', 0)
	_, _ = fmt.Fprintln(tw, "ID\tKIND\tSTATUS\tPROGRESS\tCREATED")
	for _, r := range runs {
		p := r.Progress.Stage
		if r.Progress.Total > 0 {
			p += fmt.Sprintf(" %d%%", r.Progress.Percent)
		}
		_, _ = fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.ID, r.Kind, r.Status, or(p, "-"), formatTime(r.CreatedAt))
	}
	return tw.Flush()
}
