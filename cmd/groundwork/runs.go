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
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/groundwork-dev/groundwork/api"
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
	// requestTimeout bounds every request except the event stream, which
	// lives as long as the run and is bounded by ctx and streamIdle instead.
	requestTimeout = 30 * time.Second
	// streamIdle is three missed server heartbeats (15 s each): a stream
	// silent for that long is a dead connection that no read would notice.
	streamIdle = 45 * time.Second
	// maxReconnects is how many stream connections in a row may break
	// without delivering an event before wait falls back to polling.
	maxReconnects = 3
	// maxPollFailures is how many transient errors in a row polling
	// tolerates before giving up.
	maxPollFailures = 10
)

// runsCmd is the client for /v1/runs.
func runsCmd(ctx context.Context, args []string) error {
	return runRuns(ctx, args, os.Getenv, os.Stdout, os.Stderr)
}

// runRuns is runsCmd with its environment and output passed in, for tests.
func runRuns(ctx context.Context, args []string, getenv func(string) string, out, errOut io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("runs: missing subcommand\n%s", runsUsage)
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
		return fmt.Errorf("runs: unknown subcommand %q\n%s", sub, runsUsage)
	}
	pos, err := parseInterspersed(fs, rest)
	if err != nil {
		return err
	}
	c, err := newRunsClient(*base, *token, out, errOut)
	if err != nil {
		return err
	}
	if sub == "list" {
		if len(pos) != 0 {
			return fmt.Errorf("runs list takes no arguments, got %q", pos)
		}
		return c.list(ctx, lf, *asJSON)
	}
	if len(pos) != 1 {
		return fmt.Errorf("runs %s needs exactly one run ID\n%s", sub, runsUsage)
	}
	switch sub {
	case "get":
		return c.get(ctx, pos[0], *asJSON)
	case "cancel":
		return c.cancel(ctx, pos[0], *asJSON)
	}
	return c.wait(ctx, pos[0], *asJSON)
}

// parseInterspersed lets flags follow the run ID ("runs get ID --json"),
// which the flag package alone stops parsing at.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
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

// runsClient talks to the runs API and writes what it finds to out (data)
// and errOut (progress and hints).
type runsClient struct {
	base        string
	token       string
	http        *http.Client
	stream      *http.Client
	out, errOut io.Writer
	// poll is both the polling period and the delay before reconnecting
	// a broken stream; tests shorten it.
	poll       time.Duration
	streamIdle time.Duration
}

// newRunsClient checks the configuration and builds a client.
func newRunsClient(base, token string, out, errOut io.Writer) (*runsClient, error) {
	if token == "" {
		return nil, errors.New("runs: GROUNDWORK_TOKEN is not set; export an API key (groundwork apikey create --user ID) or a JWT as GROUNDWORK_TOKEN, or pass --token")
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("runs: GROUNDWORK_API_URL %q is not an http(s) URL", base)
	}
	return &runsClient{
		base:       strings.TrimRight(base, "/"),
		token:      token,
		http:       &http.Client{Timeout: requestTimeout},
		stream:     &http.Client{},
		out:        out,
		errOut:     errOut,
		poll:       time.Second,
		streamIdle: streamIdle,
	}, nil
}

// runView is a decoded run plus the JSON it came from, so --json prints
// exactly what the API sent.
type runView struct {
	api.Run
	raw []byte
}

// decodeRun decodes one run and keeps its bytes.
func decodeRun(b []byte) (runView, error) {
	var r api.Run
	if err := json.Unmarshal(b, &r); err != nil {
		return runView{}, fmt.Errorf("decode run: %w", err)
	}
	return runView{Run: r, raw: b}, nil
}

func isTerminalStatus(s string) bool {
	switch s {
	case "succeeded", "failed", "canceled", "timed_out":
		return true
	}
	return false
}

// get prints one run, as a summary or as the API's JSON.
func (c *runsClient) get(ctx context.Context, id string, asJSON bool) error {
	run, err := c.getRun(ctx, id)
	if err != nil {
		return fmt.Errorf("get run %s: %w", id, err)
	}
	if asJSON {
		return c.printJSON(run.raw)
	}
	return c.printSummary(run)
}

// cancel asks for a run's cancellation and shows the run as it answers.
func (c *runsClient) cancel(ctx context.Context, id string, asJSON bool) error {
	body, err := c.doJSON(ctx, http.MethodPost, runPath(id)+"/cancel", nil)
	if err != nil {
		return fmt.Errorf("cancel run %s: %w", id, err)
	}
	run, err := decodeRun(body)
	if err != nil {
		return err
	}
	if asJSON {
		return c.printJSON(run.raw)
	}
	return c.printSummary(run)
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
func (c *runsClient) printSummary(r runView) error {
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
func describeProgress(p api.RunProgress, withCounts bool) string {
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

// listPage is one page of GET /v1/runs with the runs left undecoded, so
// --json keeps every field.
type listPage struct {
	Runs       []json.RawMessage `json:"runs"`
	NextCursor string            `json:"next_cursor,omitempty"`
}

// list prints the caller's runs, one page or (with --all) every page.
func (c *runsClient) list(ctx context.Context, f listFlags, asJSON bool) error {
	q := url.Values{}
	setIf(q, "kind", f.kind)
	setIf(q, "status", f.status)
	if f.limit > 0 {
		q.Set("limit", strconv.Itoa(f.limit))
	}
	var all listPage
	for {
		page, err := c.listPage(ctx, q)
		if err != nil {
			return err
		}
		all.Runs = append(all.Runs, page.Runs...)
		all.NextCursor = page.NextCursor
		if !f.all || page.NextCursor == "" {
			break
		}
		q.Set("cursor", page.NextCursor)
	}
	if asJSON {
		b, err := json.Marshal(all)
		if err != nil {
			return fmt.Errorf("list runs: %w", err)
		}
		return c.printJSON(b)
	}
	if err := c.printTable(all.Runs); err != nil {
		return err
	}
	if all.NextCursor != "" {
		_, _ = fmt.Fprintln(c.errOut, "more runs exist; pass --all to list them all")
	}
	return nil
}

func setIf(q url.Values, k, v string) {
	if v != "" {
		q.Set(k, v)
	}
}

func (c *runsClient) listPage(ctx context.Context, q url.Values) (listPage, error) {
	body, err := c.getJSON(ctx, "/v1/runs", q)
	if err != nil {
		return listPage{}, fmt.Errorf("list runs: %w", err)
	}
	var page listPage
	if err := json.Unmarshal(body, &page); err != nil {
		return listPage{}, fmt.Errorf("list runs: decode page: %w", err)
	}
	return page, nil
}

func (c *runsClient) printTable(raws []json.RawMessage) error {
	tw := tabwriter.NewWriter(c.out, 0, 0, 2, ' ', 0)
	_, _ = fmt.Fprintln(tw, "ID\tKIND\tSTATUS\tPROGRESS\tCREATED")
	for _, raw := range raws {
		r, err := decodeRun(raw)
		if err != nil {
			return fmt.Errorf("list runs: %w", err)
		}
		p := r.Progress.Stage
		if r.Progress.Total > 0 {
			p += fmt.Sprintf(" %d%%", r.Progress.Percent)
		}
		_, _ = fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.ID, r.Kind, r.Status, or(p, "-"), formatTime(r.CreatedAt))
	}
	return tw.Flush()
}
