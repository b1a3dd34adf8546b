package activities

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"go.temporal.io/sdk/activity"
	"gocloud.dev/blob"
	"gocloud.dev/gcerrors"

	"github.com/groundwork-dev/groundwork"
	"github.com/groundwork-dev/groundwork/db"
	"github.com/groundwork-dev/groundwork/db/sqlc"
	"github.com/groundwork-dev/groundwork/internal/config"
)

// cleanupBatch bounds one query's worth of expired exports.
const cleanupBatch = 200

// ExportsDeleteExpired deletes every export whose TTL passed: the blob
// first, then the row (and it marks the run's result expired). Deleting
// twice is harmless, so a retry after a crash finishes the job. Expired
// LLM cache entries go in the same sweep: they are never served, only
// stored; so do sessions unused for config.SessionRetention, rate-limit
// windows, slots and buckets idle for config.RateWindowRetention, and
// idempotency keys older than config.IdempotencyKeyRetention.
func (a *Exports) ExportsDeleteExpired(ctx context.Context) (groundwork.CleanupResult, error) {
	var res groundwork.CleanupResult
	q := sqlc.New(a.Pool)
	for {
		batch, err := q.ExportListExpired(ctx, sqlc.ExportListExpiredParams{Now: a.now(), MaxRows: cleanupBatch})
		if err != nil {
			return res, fmt.Errorf("list expired exports: %w", err)
		}
		for _, e := range batch {
			if err := a.Bucket.Delete(ctx, e.BlobKey); err != nil && gcerrors.Code(err) != gcerrors.NotFound {
				return res, fmt.Errorf("delete blob %s: %w", e.BlobKey, err)
			}
			err := db.InTx(ctx, a.Pool, func(tx pgx.Tx) error {
				tq := sqlc.New(tx)
				if err := tq.ExportDelete(ctx, e.ID); err != nil {
					return fmt.Errorf("delete export %s: %w", e.ID, err)
				}
				if err := tq.RunMarkResultExpired(ctx, e.RunID); err != nil {
					return fmt.Errorf("mark run %s expired: %w", e.RunID, err)
				}
				return nil
			})
			if err != nil {
				return res, err
			}
			res.Deleted++
			res.Bytes += e.SizeBytes
			activity.RecordHeartbeat(ctx, res)
		}
		if len(batch) < cleanupBatch {
			if _, err := q.LLMCacheDeleteExpired(ctx, a.now()); err != nil {
				return res, fmt.Errorf("delete expired llm cache entries: %w", err)
			}
			// A session that ended stays as a tombstone while a token
			// naming it could still be valid: deleting it would let the
			// next such token bring it back to life.
			if _, err := q.SessionExpireOld(ctx, a.now().Add(-config.SessionRetention)); err != nil {
				return res, fmt.Errorf("end old sessions: %w", err)
			}
			if _, err := q.SessionDeleteTombstones(ctx, a.now().Add(-config.SessionTombstoneRetention)); err != nil {
				return res, fmt.Errorf("delete ended sessions: %w", err)
			}
			if _, err := q.RateWindowsDeleteBefore(ctx, a.now().Add(-config.RateWindowRetention)); err != nil {
				return res, fmt.Errorf("delete past rate windows: %w", err)
			}
			if _, err := q.RateSlotsDeleteIdle(ctx, a.now().Add(-config.RateWindowRetention)); err != nil {
				return res, fmt.Errorf("delete idle rate slots: %w", err)
			}
			if _, err := q.RateBucketsDeleteIdle(ctx, a.now().Add(-config.RateWindowRetention)); err != nil {
				return res, fmt.Errorf("delete idle rate buckets: %w", err)
			}
			if _, err := q.RunForgetIdempotencyKeys(ctx, a.now().Add(-config.IdempotencyKeyRetention)); err != nil {
				return res, fmt.Errorf("forget old idempotency keys: %w", err)
			}
			if err := a.expireResearch(ctx); err != nil {
				return res, err
			}
			n, err := a.sweepOrphans(ctx)
			res.Orphans = n
			return res, err
		}
	}
}

// OrphanAge is how old a file under exports/ that no export references
// must be before the sweep deletes it: far past any render that could
// still record it (a render has minutes).
const OrphanAge = 24 * time.Hour

// orphanPage is how many listed files one query checks.
const orphanPage = 500

// sweepOrphans deletes the files under exports/ older than OrphanAge that
// no export row references: the temporary file of an upload cut short by
// a killed worker (fileblob's "<key>.<n>.tmp"; S3 leaves incomplete
// multipart uploads, which a bucket lifecycle rule removes), or a file
// whose record never happened.
func (a *Exports) sweepOrphans(ctx context.Context) (int, error) {
	cutoff := a.now().Add(-OrphanAge)
	q := sqlc.New(a.Pool)
	swept := 0
	var page []string
	flush := func() error {
		if len(page) == 0 {
			return nil
		}
		kept, err := q.ExportBlobKeysReferenced(ctx, page)
		if err != nil {
			return fmt.Errorf("check exported files: %w", err)
		}
		for _, k := range page {
			if slices.Contains(kept, k) {
				continue
			}
			if err := a.Bucket.Delete(ctx, k); err != nil && gcerrors.Code(err) != gcerrors.NotFound {
				return fmt.Errorf("delete orphan %s: %w", k, err)
			}
			swept++
		}
		page = page[:0]
		activity.RecordHeartbeat(ctx, swept)
		return nil
	}
	it := a.Bucket.List(&blob.ListOptions{Prefix: "exports/"})
	for {
		obj, err := it.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return swept, fmt.Errorf("list exported files: %w", err)
		}
		if obj.IsDir || obj.ModTime.After(cutoff) {
			continue
		}
		if page = append(page, obj.Key); len(page) == orphanPage {
			if err := flush(); err != nil {
				return swept, err
			}
		}
	}
	return swept, flush()
}

// expireResearch deletes research older than the retention: reports no
// unfinished export still renders from (their runs' results are marked
// expired), then the pages no remaining report cites, screenshot first.
func (a *Exports) expireResearch(ctx context.Context) error {
	before := a.now().Add(-cmp.Or(a.ResearchRetention, config.DefaultResearchRetention))
	q := sqlc.New(a.Pool)
	for {
		runs, err := q.ResearchReportsExpired(ctx, sqlc.ResearchReportsExpiredParams{Before: before, MaxRows: cleanupBatch})
		if err != nil {
			return fmt.Errorf("list expired research reports: %w", err)
		}
		for _, id := range runs {
			err := db.InTx(ctx, a.Pool, func(tx pgx.Tx) error {
				tq := sqlc.New(tx)
				if err := tq.ResearchReportDelete(ctx, id); err != nil {
					return fmt.Errorf("delete research report %s: %w", id, err)
				}
				if err := tq.RunMarkResultExpired(ctx, id); err != nil {
					return fmt.Errorf("mark run %s expired: %w", id, err)
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
		if len(runs) < cleanupBatch {
			break
		}
	}
	for {
		pages, err := q.ResearchPagesExpired(ctx, sqlc.ResearchPagesExpiredParams{Before: before, MaxRows: cleanupBatch})
		if err != nil {
			return fmt.Errorf("list expired research pages: %w", err)
		}
		for _, p := range pages {
			if p.ScreenshotKey != nil {
				if err := a.Bucket.Delete(ctx, *p.ScreenshotKey); err != nil && gcerrors.Code(err) != gcerrors.NotFound {
					return fmt.Errorf("delete screenshot %s: %w", *p.ScreenshotKey, err)
				}
			}
			if err := q.ResearchPageDelete(ctx, p.ID); err != nil {
				return fmt.Errorf("delete research page %d: %w", p.ID, err)
			}
		}
		activity.RecordHeartbeat(ctx, len(pages))
		if len(pages) < cleanupBatch {
			return nil
		}
	}
}
