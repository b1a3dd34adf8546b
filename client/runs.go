package client

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strconv"

	"github.com/groundwork-dev/groundwork"
)

// Run is a run as the API shows it: the contract's groundwork.Run plus the
// JSON it was decoded from.
type Run struct {
	groundwork.Run
	// Raw is the JSON the API sent, with any field this version of the
	// client does not know yet; print it to show the run as it came.
	Raw json.RawMessage `json:"-"`
}

// Ended reports whether the run will change no more (succeeded, failed,
// canceled or timed out).
func (r *Run) Ended() bool { return groundwork.RunEnded(r.Status) }

// decodeRun decodes one run and keeps its bytes.
func decodeRun(b []byte) (*Run, error) {
	r := &Run{Raw: json.RawMessage(b)}
	if err := json.Unmarshal(b, &r.Run); err != nil {
		return nil, fmt.Errorf("decode run: %w", err)
	}
	return r, nil
}

func runPath(id string) string { return "/v1/runs/" + url.PathEscape(id) }

// GetRun reads a run. It remembers each run's ETag and sends it as
// If-None-Match, so a poll that finds nothing new is a 304 without a body
// and returns the run as last read.
func (c *Client) GetRun(ctx context.Context, id string) (*Run, error) {
	if id == "" {
		return nil, fmt.Errorf("get run: %w", errNoID)
	}
	cached, haveCached := c.etags.get(id)
	h := http.Header{}
	if haveCached {
		h.Set("If-None-Match", cached.tag)
	}
	a, err := c.do(ctx, http.MethodGet, runPath(id), nil, nil, h)
	if err != nil {
		return nil, fmt.Errorf("get run %s: %w", id, err)
	}
	body := a.body
	switch {
	case a.status == http.StatusNotModified && haveCached:
		body = cached.body
	case a.status == http.StatusNotModified:
		return nil, fmt.Errorf("get run %s: 304 Not Modified to a request without If-None-Match", id)
	case a.header.Get("ETag") != "":
		c.etags.put(id, etagEntry{tag: a.header.Get("ETag"), body: body})
	}
	r, err := decodeRun(body)
	if err != nil {
		return nil, fmt.Errorf("get run %s: %w", id, err)
	}
	return r, nil
}

// ListOptions filters and pages ListRuns; the zero value is the caller's
// newest runs, the API's default page size.
type ListOptions struct {
	// Kind keeps runs of one kind (groundwork.KindExport…).
	Kind string
	// Status keeps runs in one status (groundwork.RunRunning…).
	Status string
	// Scope is "own" (default) or "workspace" (every member's runs; admins only).
	Scope string
	// Limit is the page size, 1–100 (server default 20).
	Limit int
	// Cursor is the NextCursor of the previous page.
	Cursor string
}

// RunPage is one page of the caller's runs, newest first.
type RunPage struct {
	// Runs are the page's runs.
	Runs []*Run
	// NextCursor is the ListOptions.Cursor of the next page; empty on the
	// last one.
	NextCursor string
}

// ListRuns reads one page of the caller's runs; pass the page's NextCursor
// as opts.Cursor for the next, or use Runs to walk them all.
func (c *Client) ListRuns(ctx context.Context, opts ListOptions) (*RunPage, error) {
	q := url.Values{}
	for k, v := range map[string]string{"kind": opts.Kind, "status": opts.Status, "scope": opts.Scope, "cursor": opts.Cursor} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if opts.Limit > 0 {
		q.Set("limit", strconv.Itoa(opts.Limit))
	}
	a, err := c.do(ctx, http.MethodGet, "/v1/runs", q, nil, nil)
	if err != nil {
		return nil, fmt.Errorf("list runs: %w", err)
	}
	var page struct {
		Runs       []json.RawMessage `json:"runs"`
		NextCursor string            `json:"next_cursor"`
	}
	if err := decodeJSON(a.body, &page, "run list"); err != nil {
		return nil, fmt.Errorf("list runs: %w", err)
	}
	out := &RunPage{Runs: make([]*Run, 0, len(page.Runs)), NextCursor: page.NextCursor}
	for _, raw := range page.Runs {
		r, err := decodeRun(raw)
		if err != nil {
			return nil, fmt.Errorf("list runs: %w", err)
		}
		out.Runs = append(out.Runs, r)
	}
	return out, nil
}

// Runs walks every page of the caller's runs from opts.Cursor on, following
// next_cursor; it stops at the first error, which it yields.
func (c *Client) Runs(ctx context.Context, opts ListOptions) iter.Seq2[*Run, error] {
	return func(yield func(*Run, error) bool) {
		for {
			page, err := c.ListRuns(ctx, opts)
			if err != nil {
				yield(nil, err)
				return
			}
			for _, r := range page.Runs {
				if !yield(r, nil) {
					return
				}
			}
			if page.NextCursor == "" {
				return
			}
			opts.Cursor = page.NextCursor
		}
	}
}

// CancelRun asks the run's workflow to stop and clean up what it made, and
// returns the run as it stands. Canceling a canceled run is a no-op; a run
// that succeeded or failed is a 409 problem (groundwork.SlugRunClosed).
func (c *Client) CancelRun(ctx context.Context, id string) (*Run, error) {
	if id == "" {
		return nil, fmt.Errorf("cancel run: %w", errNoID)
	}
	a, err := c.do(ctx, http.MethodPost, runPath(id)+"/cancel", nil, nil, nil)
	if err != nil {
		return nil, fmt.Errorf("cancel run %s: %w", id, err)
	}
	r, err := decodeRun(a.body)
	if err != nil {
		return nil, fmt.Errorf("cancel run %s: %w", id, err)
	}
	return r, nil
}
