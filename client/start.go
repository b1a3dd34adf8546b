package client

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/groundwork-dev/groundwork"
)

// ExportRequest is the body of POST /v1/exports: exactly one of a table
// (Columns and Rows), a Document, or a Source. It mirrors the API's export
// model, which lives in the server's internal/document and so cannot be
// imported from another module.
type ExportRequest struct {
	// Format is "csv", "pdf" or "docx"; csv takes a table only.
	Format string `json:"format"`
	// Filename is the download name; the extension is added when missing.
	Filename string `json:"filename,omitempty"`
	// Columns is a table's header row.
	Columns []string `json:"columns,omitempty"`
	// Rows are a table's data rows, one JSON scalar per column.
	Rows [][]any `json:"rows,omitempty"`
	// BOM prefixes a csv with a UTF-8 byte order mark, for Excel.
	BOM bool `json:"bom,omitempty"`
	// Document is a title and blocks, any value that marshals to the
	// document shape of the API's OpenAPI document (a map, or a struct of
	// your own).
	Document any `json:"document,omitempty"`
	// Source renders something the caller owns, such as a research run's
	// report.
	Source *ExportSource `json:"source,omitempty"`
}

// ExportSource names a run whose result an export renders.
type ExportSource struct {
	// RunID is the run's ID.
	RunID string `json:"run_id"`
}

// StartOption changes one start request.
type StartOption func(*http.Header)

// WithIdempotencyKey sends key as Idempotency-Key: a start repeated with
// the same key and body returns the first run instead of starting another
// (the same key with another body is a 409 groundwork.SlugConflict), so a
// start whose answer was lost can be retried safely.
func WithIdempotencyKey(key string) StartOption {
	return func(h *http.Header) { h.Set("Idempotency-Key", key) }
}

// WithWait asks the API to hold the start up to d (whole seconds, at most
// 10) for the run to end (Prefer: wait, RFC 7240): a run that ends in time
// comes back ended, with its result, in one round trip; check Run.Ended
// before waiting with WaitRun.
func WithWait(d time.Duration) StartOption {
	secs := min(10, int((d+time.Second-1)/time.Second))
	return func(h *http.Header) {
		if secs > 0 {
			h.Set("Prefer", fmt.Sprintf("wait=%d", secs))
		}
	}
}

// StartExport starts an export run (a CSV, PDF or DOCX file); a succeeded
// run's Result holds download_url.
func (c *Client) StartExport(ctx context.Context, req ExportRequest, opts ...StartOption) (*Run, error) {
	return c.start(ctx, "/v1/exports", "export", req, opts)
}

// StartResearch starts a research run on a company's website.
func (c *Client) StartResearch(ctx context.Context, req groundwork.ResearchRequest, opts ...StartOption) (*Run, error) {
	return c.start(ctx, "/v1/research", "research", req, opts)
}

// StartGeneration starts an LLM generation from a prompt template.
func (c *Client) StartGeneration(ctx context.Context, req groundwork.GenerateRequest, opts ...StartOption) (*Run, error) {
	return c.start(ctx, "/v1/generations", "generation", req, opts)
}

// StartAirtableSync starts a sync of one of the caller's Airtable
// mappings (or, with DryRun, only its diff).
func (c *Client) StartAirtableSync(ctx context.Context, req groundwork.SyncRequest, opts ...StartOption) (*Run, error) {
	return c.start(ctx, "/v1/airtable-syncs", "airtable sync", req, opts)
}

// start POSTs body to a kind's start route and decodes the run of its 202.
func (c *Client) start(ctx context.Context, path, what string, body any, opts []StartOption) (*Run, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("start %s: encode request: %w", what, err)
	}
	h := http.Header{}
	for _, o := range opts {
		o(&h)
	}
	a, err := c.do(ctx, http.MethodPost, path, nil, b, h)
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", what, err)
	}
	r, err := decodeRun(a.body)
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", what, err)
	}
	return r, nil
}
