package main

import (
	"bufio"
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

	"github.com/schollz/progressbar/v3"

	"github.com/groundwork-dev/groundwork/api"
)

const runsUsage = `usage:
  groundwork runs get [--json] ID
  groundwork runs wait [--json] ID
  groundwork runs list [--kind K] [--status S] [--limit N] [--all] [--json]

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
	case "get", "wait":
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
	if sub == "get" {
		return c.get(ctx, pos[0], *asJSON)
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

// --- HTTP -------------------------------------------------------------------

// apiError is a non-2xx answer, with the problem document when there was one.
type apiError struct {
	status     int
	problem    api.Problem
	retryAfter string
}

func (e *apiError) Error() string {
	title := or(e.problem.Title, http.StatusText(e.status))
	msg := fmt.Sprintf("%d %s", e.status, title)
	if e.problem.Detail != "" {
		msg += ": " + e.problem.Detail
	}
	for _, f := range e.problem.Errors {
		msg += "\n  " + or(f.Field, "(body)") + ": " + f.Message
	}
	switch e.status {
	case http.StatusUnauthorized:
		msg += "\n  (check GROUNDWORK_TOKEN: set it to a valid API key or JWT)"
	case http.StatusTooManyRequests:
		if e.retryAfter != "" {
			msg += fmt.Sprintf("\n  (rate limited: retry after %s s, per Retry-After)", e.retryAfter)
		} else {
			msg += "\n  (rate limited: retry later)"
		}
	}
	return msg
}

// transient reports whether retrying the same request later may succeed.
func transient(err error) bool {
	var ae *apiError
	if !errors.As(err, &ae) {
		return true // network trouble
	}
	return ae.status == http.StatusTooManyRequests || ae.status == http.StatusRequestTimeout || ae.status >= 500
}

// retryDelay is how long to wait before retrying after err: Retry-After
// when the server set one, else def.
func retryDelay(err error, def time.Duration) time.Duration {
	var ae *apiError
	if errors.As(err, &ae) && ae.retryAfter != "" {
		if s, perr := strconv.Atoi(ae.retryAfter); perr == nil && s >= 0 {
			return time.Duration(s) * time.Second
		}
	}
	return def
}

// newRequest is an authenticated GET of path?q.
func (c *runsClient) newRequest(ctx context.Context, path string, q url.Values) (*http.Request, error) {
	u := c.base + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "groundwork-cli")
	return req, nil
}

// getJSON GETs path and returns the body of a 2xx answer.
func (c *runsClient) getJSON(ctx context.Context, path string, q url.Values) ([]byte, error) {
	req, err := c.newRequest(ctx, path, q)
	if err != nil {
		return nil, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode/100 != 2 {
		return nil, responseError(resp)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("read response: %w", err)
	}
	return body, nil
}

// responseError turns a non-2xx response into an *apiError, reading the
// problem document when the body is one.
func responseError(resp *http.Response) error {
	e := &apiError{status: resp.StatusCode, retryAfter: resp.Header.Get("Retry-After")}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if json.Unmarshal(body, &e.problem) != nil || e.problem.Title == "" {
		// Not ours (a proxy's HTML page, say): show a little of it.
		e.problem = api.Problem{Detail: strings.TrimSpace(string(truncate(body, 200)))}
	}
	return e
}

func truncate(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}

func runPath(id string) string { return "/v1/runs/" + url.PathEscape(id) }

func (c *runsClient) getRun(ctx context.Context, id string) (runView, error) {
	body, err := c.getJSON(ctx, runPath(id), nil)
	if err != nil {
		return runView{}, err
	}
	return decodeRun(body)
}

// --- get --------------------------------------------------------------------

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

// --- wait -------------------------------------------------------------------

// wait follows a run to its end, drawing progress on errOut and the
// final run on out.
func (c *runsClient) wait(ctx context.Context, id string, asJSON bool) error {
	bar := &runBar{w: c.errOut}
	run, err := c.follow(ctx, id, bar.update)
	bar.close()
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("wait for run %s: stopped waiting (%w); the run itself is not canceled", id, ctx.Err())
		}
		return fmt.Errorf("wait for run %s: %w", id, err)
	}
	if asJSON {
		err = c.printJSON(run.raw)
	} else {
		err = c.printSummary(run)
	}
	if err != nil {
		return err
	}
	return runOutcome(run)
}

// runOutcome is nil for a run that succeeded and an error naming the
// status and the run's error otherwise, so scripts can rely on the exit code.
func runOutcome(r runView) error {
	if r.Status == "succeeded" {
		return nil
	}
	msg := fmt.Sprintf("run %s %s", r.ID, r.Status)
	if r.Error != nil {
		msg += ": " + r.Error.Type
		if r.Error.Message != "" {
			msg += ": " + r.Error.Message
		}
	}
	return errors.New(msg)
}

// follow reports every change of the run to onUpdate until it ends. It
// prefers the event stream, resuming it with Last-Event-ID when it breaks,
// and polls when the stream cannot be had.
func (c *runsClient) follow(ctx context.Context, id string, onUpdate func(runView)) (runView, error) {
	lastID := ""
	failures := 0
	for failures < maxReconnects {
		res := c.streamOnce(ctx, id, lastID, onUpdate)
		if res.done {
			return res.run, nil
		}
		if ctx.Err() != nil {
			return runView{}, ctx.Err()
		}
		if !transient(res.err) {
			return runView{}, res.err
		}
		if !res.connected {
			break // no stream here (500, a proxy without SSE): poll
		}
		lastID = res.lastID
		failures++
		if res.events > 0 {
			failures = 0
		}
		if err := sleepCtx(ctx, orDuration(res.retry, c.poll)); err != nil {
			return runView{}, err
		}
	}
	return c.pollRun(ctx, id, onUpdate)
}

// orDuration is d, or def when d is not set.
func orDuration(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// sleepCtx waits d, or less if ctx ends first.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// streamResult is how one connection to the event stream ended.
type streamResult struct {
	run       runView
	done      bool          // the run ended
	connected bool          // the server answered 200 text/event-stream
	events    int           // run events received
	lastID    string        // Last-Event-ID for a reconnect
	retry     time.Duration // the server's retry: hint, if any
	err       error
}

// streamOnce reads GET /v1/runs/{id}/events until the run ends or the
// connection does.
func (c *runsClient) streamOnce(ctx context.Context, id, lastID string, onUpdate func(runView)) (res streamResult) {
	res.lastID = lastID
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	req, err := c.newRequest(sctx, runPath(id)+"/events", nil)
	if err != nil {
		res.err = err
		return res
	}
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Cache-Control", "no-cache")
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	// The watchdog cancels a connection that went silent; every byte read,
	// heartbeat comments included, rewinds it.
	idle := time.AfterFunc(c.streamIdle, cancel)
	defer idle.Stop()
	resp, err := c.stream.Do(req)
	if err != nil {
		res.err = fmt.Errorf("event stream: %w", err)
		return res
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		res.err = fmt.Errorf("event stream: %w", responseError(resp))
		return res
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		res.err = fmt.Errorf("event stream: unexpected content type %q", ct)
		return res
	}
	res.connected = true
	sr := newSSEReader(&idleReader{r: resp.Body, t: idle, d: c.streamIdle})
	sr.lastID = lastID
	defer func() { res.lastID, res.retry = sr.lastID, sr.retry }()
	for {
		ev, err := sr.next()
		if err != nil {
			res.err = fmt.Errorf("event stream: %w", err)
			return res
		}
		if c.handleEvent(ev, &res, onUpdate) {
			return res
		}
	}
}

// handleEvent applies one event to res and reports whether the stream is
// finished with (the run ended, or the server reported an error).
func (c *runsClient) handleEvent(ev sseEvent, res *streamResult, onUpdate func(runView)) bool {
	switch ev.event {
	case "progress", "done":
		run, err := decodeRun([]byte(ev.data))
		if err != nil {
			res.err = fmt.Errorf("event stream: %w", err)
			return true
		}
		res.events++
		res.run = run
		onUpdate(run)
		// A terminal status ends the wait even if the done event is lost.
		res.done = ev.event == "done" || isTerminalStatus(run.Status)
		return res.done
	case "error":
		// The server could not read the run; reconnecting or polling
		// will find out whether that lasts.
		var p api.Problem
		_ = json.Unmarshal([]byte(ev.data), &p)
		res.err = fmt.Errorf("event stream: server error: %s: %s", p.Title, p.Detail)
		return true
	}
	return false
}

// pollRun GETs the run every c.poll until it ends.
func (c *runsClient) pollRun(ctx context.Context, id string, onUpdate func(runView)) (runView, error) {
	failures := 0
	for {
		run, err := c.getRun(ctx, id)
		delay := c.poll
		switch {
		case err == nil:
			failures = 0
			onUpdate(run)
			if isTerminalStatus(run.Status) {
				return run, nil
			}
		case ctx.Err() != nil:
			return runView{}, ctx.Err()
		case !transient(err) || failures >= maxPollFailures:
			return runView{}, fmt.Errorf("poll run: %w", err)
		default:
			failures++
			delay = max(delay, retryDelay(err, delay))
		}
		if err := sleepCtx(ctx, delay); err != nil {
			return runView{}, err
		}
	}
}

// idleReader rewinds the stream watchdog whenever data arrives.
type idleReader struct {
	r io.Reader
	t *time.Timer
	d time.Duration
}

func (r *idleReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if n > 0 {
		r.t.Reset(r.d)
	}
	return n, err
}

// --- Server-Sent Events -----------------------------------------------------

// sseEvent is one dispatched server-sent event.
type sseEvent struct {
	event, id, data string
}

// sseReader parses text/event-stream as the HTML standard specifies,
// minus what this client has no use for.
type sseReader struct {
	sc     *bufio.Scanner
	lastID string
	retry  time.Duration
	first  bool
}

func newSSEReader(r io.Reader) *sseReader {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 4<<20) // a run's result can be large
	sc.Split(scanSSELines)
	return &sseReader{sc: sc, first: true}
}

// next returns the next event; io.EOF (or the read error) when the stream
// ends, discarding a half-received event as the standard says.
func (r *sseReader) next() (sseEvent, error) {
	var ev sseEvent
	var data strings.Builder
	hasData := false
	for r.sc.Scan() {
		line := r.sc.Text()
		if r.first {
			line = strings.TrimPrefix(line, "\ufeff")
			r.first = false
		}
		if line == "" {
			if !hasData {
				ev = sseEvent{} // nothing to dispatch; start over
				continue
			}
			ev.data = strings.TrimSuffix(data.String(), "\n")
			ev.id = r.lastID
			if ev.event == "" {
				ev.event = "message"
			}
			return ev, nil
		}
		if line[0] == ':' {
			continue // comment, e.g. the server's keep-alive
		}
		field, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch field {
		case "event":
			ev.event = value
		case "data":
			data.WriteString(value)
			data.WriteByte('\n')
			hasData = true
		case "id":
			if !strings.ContainsRune(value, 0) {
				r.lastID = value
			}
		case "retry":
			if ms, err := strconv.Atoi(value); err == nil && ms >= 0 {
				r.retry = time.Duration(ms) * time.Millisecond
			}
		}
	}
	if err := r.sc.Err(); err != nil {
		return sseEvent{}, err
	}
	return sseEvent{}, io.EOF
}

// scanSSELines splits on CRLF, LF or a lone CR, the three line endings
// the event-stream format allows.
func scanSSELines(data []byte, atEOF bool) (int, []byte, error) {
	i := bytes.IndexAny(data, "\r\n")
	switch {
	case i < 0 && atEOF && len(data) > 0:
		return len(data), data, nil
	case i < 0:
		return 0, nil, nil
	case data[i] == '\n':
		return i + 1, data[:i], nil
	case i+1 < len(data):
		if data[i+1] == '\n' {
			return i + 2, data[:i], nil
		}
		return i + 1, data[:i], nil
	case atEOF:
		return i + 1, data[:i], nil
	default:
		return 0, nil, nil // a CR at the end: wait to see whether LF follows
	}
}

// --- progress bar -----------------------------------------------------------

// runBar draws one bar per stage: a new stage or total starts a new line,
// so finished stages stay visible above the current one.
type runBar struct {
	w       io.Writer
	bar     *progressbar.ProgressBar
	stage   string
	total   int64
	version int64
}

// update draws the run's progress.
func (b *runBar) update(r runView) {
	p := r.Progress
	if b.bar != nil && p.Version < b.version {
		return // stale: an older state seen after a reconnect
	}
	b.version = p.Version
	desc := clip(describeProgress(p, false), maxBarDescription)
	if b.bar == nil || p.Stage != b.stage || p.Total != b.total {
		b.close()
		b.bar, b.stage, b.total = newStageBar(b.w, p.Total, desc), p.Stage, p.Total
	}
	b.bar.Describe(desc)
	if p.Total > 0 {
		_ = b.bar.Set64(min(max(p.Done, 0), p.Total))
	}
}

// close ends the current line. A spinner must be finished, or its
// goroutine keeps drawing; a bar is left where it stood, so a failed run
// does not show 100%.
func (b *runBar) close() {
	if b.bar == nil {
		return
	}
	if b.total > 0 {
		_ = b.bar.Exit()
	} else {
		_ = b.bar.Finish()
	}
	_, _ = fmt.Fprintln(b.w)
	b.bar = nil
}

// maxBarDescription keeps the bar on one line of a narrow terminal; a
// wrapped line cannot be redrawn in place.
const maxBarDescription = 48

// clip shortens s to n runes, marking the cut.
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// newStageBar is a counting bar, or a spinner while the total is unknown.
func newStageBar(w io.Writer, total int64, desc string) *progressbar.ProgressBar {
	opts := []progressbar.Option{
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(desc),
		progressbar.OptionSetWidth(30),
		// Rendering at once sets the start time before the spinner's
		// goroutine begins reading it.
		progressbar.OptionSetRenderBlankState(true),
	}
	if total <= 0 {
		return progressbar.NewOptions64(-1, append(opts, progressbar.OptionSpinnerType(14))...)
	}
	return progressbar.NewOptions64(total, append(opts, progressbar.OptionShowCount())...)
}
