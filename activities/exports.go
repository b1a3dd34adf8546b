// Package activities does Groundwork's I/O: one struct per set of
// dependencies, each method an idempotent activity that classifies its
// errors (retryable, non-retryable) and heartbeats when it runs long.
package activities

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"gocloud.dev/blob"
	"gocloud.dev/gcerrors"

	"github.com/groundwork-dev/groundwork"
	"github.com/groundwork-dev/groundwork/db"
	"github.com/groundwork-dev/groundwork/db/sqlc"
	"github.com/groundwork-dev/groundwork/internal/document"
	"github.com/groundwork-dev/groundwork/internal/render"
)

// Default export limits.
const (
	// DefaultExportTTL is how long an export stays downloadable.
	DefaultExportTTL = 24 * time.Hour
	// DefaultMaxFileBytes caps one rendered file.
	DefaultMaxFileBytes = 10 << 20
)

// Exports renders, stores and records export files.
type Exports struct {
	Pool         *pgxpool.Pool
	Bucket       *blob.Bucket
	TTL          time.Duration
	MaxFileBytes int64
	// Sources build documents from other runs' results.
	Sources Sources
	// QuotaBytes caps the bytes of unexpired exports per user.
	QuotaBytes int64
	// ResearchRetention expires research reports, pages and screenshots
	// after this long (0: config.DefaultResearchRetention).
	ResearchRetention time.Duration
	// Now is the clock; tests replace it.
	Now func() time.Time
}

func (a *Exports) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

// ExportPrepare loads and validates the stored request and marks the run
// running. An invalid request fails the run without retries.
func (a *Exports) ExportPrepare(ctx context.Context, runID string) (groundwork.ExportPlan, error) {
	req, err := a.loadRequest(ctx, runID)
	if err != nil {
		return groundwork.ExportPlan{}, err
	}
	name, err := document.SanitizeFilename(req.Filename, req.Format)
	if err != nil {
		return groundwork.ExportPlan{}, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("invalid filename: %v", err), groundwork.ErrTypeInvalidInput, nil)
	}
	plan := groundwork.ExportPlan{Format: string(req.Format), Filename: name}
	if req.IsTable() {
		plan.Rows, plan.Columns = int64(len(req.Rows)), int64(len(req.Columns))
		plan.Local = plan.Rows*plan.Columns <= groundwork.LocalRenderCells
	}
	// A local render ends the run within this workflow task: marking it
	// running would be a write no reader sees (a read of the open run
	// shows it running from the workflow's progress anyway).
	if !plan.Local {
		if err := sqlc.New(a.Pool).RunMarkRunning(ctx, runID); err != nil {
			return groundwork.ExportPlan{}, fmt.Errorf("mark run running: %w", err)
		}
	}
	return plan, nil
}

// ExportRender renders the run's file and uploads it under a key derived
// from the run ID, so a retry overwrites instead of adding a second file.
func (a *Exports) ExportRender(ctx context.Context, in groundwork.ExportRenderInput) (groundwork.RenderedFile, error) {
	req, err := a.loadRequest(ctx, in.RunID)
	if err != nil {
		return groundwork.RenderedFile{}, err
	}
	key := ExportBlobPrefix(in.RunID) + "file." + string(req.Format)
	contentType := render.ContentType(req.Format)

	// Canceling wctx before Close aborts the upload: nothing is left
	// behind under key when rendering fails half way.
	wctx, abort := context.WithCancel(ctx)
	defer abort()
	bw, err := a.Bucket.NewWriter(wctx, key, &blob.WriterOptions{ContentType: contentType})
	if err != nil {
		return groundwork.RenderedFile{}, fmt.Errorf("open blob writer: %w", err)
	}
	sum := sha256.New()
	cw := &cappedWriter{w: io.MultiWriter(bw, sum), limit: a.maxFileBytes()}
	out, renderErr := a.render(ctx, in.RunID, req, cw)
	if renderErr != nil {
		abort()
		_ = bw.Close()
		if errors.Is(renderErr, errFileTooLarge) {
			return groundwork.RenderedFile{}, temporal.NewNonRetryableApplicationError(
				fmt.Sprintf("the file would be larger than the %d MB limit", a.maxFileBytes()>>20),
				groundwork.ErrTypeFileTooLarge, nil)
		}
		var appErr *temporal.ApplicationError
		if errors.As(renderErr, &appErr) {
			return groundwork.RenderedFile{}, renderErr
		}
		return groundwork.RenderedFile{}, fmt.Errorf("render %s: %w", req.Format, renderErr)
	}
	if err := bw.Close(); err != nil {
		return groundwork.RenderedFile{}, fmt.Errorf("upload %s: %w", key, err)
	}
	return groundwork.RenderedFile{
		BlobKey:     key,
		ContentType: contentType,
		SizeBytes:   cw.n,
		SHA256:      hex.EncodeToString(sum.Sum(nil)),
		Rows:        out.rows,
		Pages:       out.pages,
		Warnings:    out.warnings,
	}, nil
}

type rendered struct {
	rows, pages int64
	warnings    []string
}

// render writes the requested format to w, heartbeating progress; a
// canceled activity stops it at the next row or page.
func (a *Exports) render(ctx context.Context, runID string, req *document.Export, w io.Writer) (rendered, error) {
	if req.Format == document.FormatCSV {
		var out rendered
		err := render.CSV(w, req, func(n int) error {
			out.rows = int64(n)
			activity.RecordHeartbeat(ctx, groundwork.RenderProgress{Done: int64(n), Total: int64(len(req.Rows)), Unit: "row"})
			return ctx.Err()
		})
		return out, err
	}
	doc, err := a.documentOf(ctx, runID, req)
	if err != nil {
		return rendered{}, err
	}
	opts := render.Options{
		Created: a.createdAt(ctx),
		Progress: func(done, total int) error {
			activity.RecordHeartbeat(ctx, groundwork.RenderProgress{Done: int64(done), Total: int64(total), Unit: "page"})
			return ctx.Err()
		},
	}
	var res render.Result
	switch req.Format {
	case document.FormatPDF:
		res, err = render.PDF(w, doc, opts)
	case document.FormatDOCX:
		res, err = render.DOCX(w, doc, opts)
	default:
		return rendered{}, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("format %q cannot be rendered", req.Format), groundwork.ErrTypeInvalidInput, nil)
	}
	if err != nil {
		return rendered{}, err
	}
	return rendered{pages: int64(res.Pages), warnings: res.Warnings}, nil
}

// documentOf is the document a pdf or docx export renders: the inline one,
// a table turned into a document, or the one its source builds.
func (a *Exports) documentOf(ctx context.Context, runID string, req *document.Export) (*document.Document, error) {
	switch {
	case req.Document != nil:
		return req.Document, nil
	case req.Source != nil:
		run, err := sqlc.New(a.Pool).RunGet(ctx, runID)
		if err != nil {
			return nil, fmt.Errorf("load run: %w", err)
		}
		return a.Sources.Document(ctx, run.OwnerID, req.Source.RunID)
	default:
		title := strings.TrimSuffix(req.Filename, "."+string(req.Format))
		if title == "" {
			title = "Export"
		}
		return document.FromTable(title, req.Columns, req.Rows), nil
	}
}

// createdAt is the document's creation date: the activity's scheduled
// time, so a retried render produces the same bytes.
func (a *Exports) createdAt(ctx context.Context) time.Time {
	if info := activity.GetInfo(ctx); !info.ScheduledTime.IsZero() {
		return info.ScheduledTime.UTC().Truncate(time.Second)
	}
	return a.now().UTC().Truncate(time.Second)
}

// ExportRecord stores the export row, closes the run as succeeded and drops
// the request body, in one transaction. Run twice, it returns the first result.
func (a *Exports) ExportRecord(ctx context.Context, in groundwork.ExportRecordInput) (groundwork.ExportResult, error) {
	sum, err := hex.DecodeString(in.File.SHA256)
	if err != nil {
		return groundwork.ExportResult{}, temporal.NewNonRetryableApplicationError("bad sha256", groundwork.ErrTypeInvalidInput, err)
	}
	var res groundwork.ExportResult
	err = db.InTx(ctx, a.Pool, func(tx pgx.Tx) error {
		q := sqlc.New(tx)
		if existing, err := q.ExportGet(ctx, in.RunID); err == nil {
			// A retried record: the first try committed.
			res = ExportResultOf(existing)
			return nil
		} else if !db.IsNotFound(err) {
			return fmt.Errorf("load export: %w", err)
		}
		if err := a.checkQuota(ctx, q, in.OwnerID, in.File.SizeBytes); err != nil {
			return err
		}
		row, err := q.ExportInsert(ctx, sqlc.ExportInsertParams{
			ID:          in.RunID,
			RunID:       in.RunID,
			OwnerID:     in.OwnerID,
			Format:      in.Plan.Format,
			Filename:    in.Plan.Filename,
			ContentType: in.File.ContentType,
			BlobKey:     in.File.BlobKey,
			SizeBytes:   in.File.SizeBytes,
			Sha256:      sum,
			Rows:        int32Ptr(in.File.Rows),
			Pages:       int32Ptr(in.File.Pages),
			ExpiresAt:   a.now().Add(a.ttl()),
		})
		if err != nil {
			return fmt.Errorf("insert export: %w", err)
		}
		res = ExportResultOf(row)
		if err := finishSucceededRun(ctx, q, in.RunID, res, in.Progress); err != nil {
			return err
		}
		if err := q.RunInputDelete(ctx, in.RunID); err != nil {
			return fmt.Errorf("delete run input: %w", err)
		}
		return nil
	})
	return res, err
}

// checkQuota fails with quota_exceeded when size more bytes would take the
// owner past the quota. The owner's row is locked first, so concurrent
// exports of one user are counted one after the other and the quota holds
// exactly.
func (a *Exports) checkQuota(ctx context.Context, q *sqlc.Queries, owner string, size int64) error {
	if a.QuotaBytes <= 0 {
		return nil
	}
	if _, err := q.UserLock(ctx, owner); err != nil {
		return fmt.Errorf("lock user: %w", err)
	}
	used, err := q.ExportUsageForOwner(ctx, sqlc.ExportUsageForOwnerParams{OwnerID: owner, Now: a.now()})
	if err != nil {
		return fmt.Errorf("export usage: %w", err)
	}
	if used+size > a.QuotaBytes {
		return temporal.NewNonRetryableApplicationError(groundwork.QuotaMessage(used, size, a.QuotaBytes), groundwork.ErrTypeQuotaExceeded, nil)
	}
	return nil
}

// ExportDiscard deletes every blob and row a run made and closes the run
// with its final status. Everything it does is idempotent.
func (a *Exports) ExportDiscard(ctx context.Context, in groundwork.RunDiscardInput) error {
	if err := deletePrefix(ctx, a.Bucket, ExportBlobPrefix(in.RunID)); err != nil {
		return err
	}
	return db.InTx(ctx, a.Pool, func(tx pgx.Tx) error {
		q := sqlc.New(tx)
		if err := q.ExportDeleteByRun(ctx, in.RunID); err != nil {
			return fmt.Errorf("delete export row: %w", err)
		}
		return finishFailedRun(ctx, q, in)
	})
}

// ExportBlobPrefix is the blob "folder" of one run's files.
func ExportBlobPrefix(runID string) string { return "exports/" + runID + "/" }

// ExportResultOf turns a stored export row into the run result.
func ExportResultOf(e sqlc.Export) groundwork.ExportResult {
	r := groundwork.ExportResult{
		ExportID:    e.ID,
		Format:      e.Format,
		Filename:    e.Filename,
		ContentType: e.ContentType,
		SizeBytes:   e.SizeBytes,
		ExpiresAt:   e.ExpiresAt.UTC(),
	}
	if e.Rows != nil {
		r.Rows = int64(*e.Rows)
	}
	if e.Pages != nil {
		r.Pages = int64(*e.Pages)
	}
	return r
}

func (a *Exports) loadRequest(ctx context.Context, runID string) (*document.Export, error) {
	req, err := loadRunInput[document.Export](ctx, a.Pool, runID, "export")
	if err != nil {
		return nil, err
	}
	// Validate also decodes a document's images for the renderers.
	if errs := req.Validate(); len(errs) > 0 {
		return nil, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("invalid export request: %v", errs[0]), groundwork.ErrTypeInvalidInput, nil)
	}
	return &req, nil
}

func (a *Exports) ttl() time.Duration {
	if a.TTL > 0 {
		return a.TTL
	}
	return DefaultExportTTL
}

func (a *Exports) maxFileBytes() int64 {
	if a.MaxFileBytes > 0 {
		return a.MaxFileBytes
	}
	return DefaultMaxFileBytes
}

func deletePrefix(ctx context.Context, b *blob.Bucket, prefix string) error {
	it := b.List(&blob.ListOptions{Prefix: prefix})
	for {
		obj, err := it.Next(ctx)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("list %s: %w", prefix, err)
		}
		if err := b.Delete(ctx, obj.Key); err != nil && gcerrors.Code(err) != gcerrors.NotFound {
			return fmt.Errorf("delete %s: %w", obj.Key, err)
		}
	}
}

var errFileTooLarge = errors.New("file too large")

// cappedWriter fails once more than limit bytes were written.
type cappedWriter struct {
	w     io.Writer
	n     int64
	limit int64
}

func (c *cappedWriter) Write(p []byte) (int, error) {
	if c.n+int64(len(p)) > c.limit {
		return 0, errFileTooLarge
	}
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

func int32Ptr(v int64) *int32 {
	if v == 0 {
		return nil
	}
	i := int32(v)
	return &i
}
