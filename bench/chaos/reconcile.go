package main

import (
	"context"
	"fmt"
	"io/fs"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// runRow is one run the bench started, as Postgres has it.
type runRow struct {
	ID      string     `json:"id"`
	Key     string     `json:"idempotency_key"`
	Kind    string     `json:"kind"`
	Status  string     `json:"status"`
	Error   string     `json:"error,omitempty"`
	Created time.Time  `json:"created_at"`
	Closed  *time.Time `json:"closed_at,omitempty"`
	HasFile int        `json:"export_rows,omitempty"`
}

// Reconciliation is what Postgres, the blob directory and the fake LLM
// hold once the runs have settled, against what the clients were told.
type Reconciliation struct {
	SettledIn string `json:"settled_in"`
	// Runs counts the runs with the bench's Idempotency-Keys by kind and
	// status; Unsettled and NotSucceeded list the others.
	Runs         map[string]map[string]int `json:"runs"`
	NotSucceeded []runRow                  `json:"not_succeeded,omitempty"`
	// StartsAcked are starts a 2xx answered; StartsUnknown got no 2xx after
	// the retry; StartsRunMissing are acked starts with no run row.
	StartsAcked      int      `json:"starts_acked"`
	StartsUnknown    int      `json:"starts_unknown"`
	StartsRunMissing []string `json:"starts_acked_without_run,omitempty"`
	// RunsFromUnknown are runs that exist for a start the client never saw
	// acknowledged (the first try went through, the answer was lost).
	RunsFromUnknown int `json:"runs_from_unacknowledged_starts"`

	ExportRunsSucceeded int      `json:"export_runs_succeeded"`
	ExportRowsWrong     []string `json:"export_runs_without_exactly_one_row,omitempty"`
	ExportRowsNotOK     []string `json:"export_rows_of_runs_not_succeeded,omitempty"`
	BlobFiles           int      `json:"blob_files"`
	BlobTmpFiles        int      `json:"blob_tmp_files"`
	BlobTmpList         []string `json:"blob_tmp_list,omitempty"`
	BlobOrphans         []string `json:"blob_orphans,omitempty"`
	BlobMissing         []string `json:"export_rows_without_blob,omitempty"`
	// ScreenshotFiles are files under research/ (page screenshots);
	// ScreenshotOrphans those no research_pages row references.
	ScreenshotFiles   int      `json:"screenshot_files"`
	ScreenshotOrphans []string `json:"screenshot_orphans,omitempty"`
	ScreenshotMissing []string `json:"screenshot_rows_without_file,omitempty"`

	// LLMCallsRows counts the ledger, cache hits (no provider call)
	// included.
	LLMCallsRows     int            `json:"llm_calls_rows"`
	LLMCallsOutcomes map[string]int `json:"llm_calls_by_outcome"`
	LLMCallsOpen     int            `json:"llm_calls_unsettled"`
	// LLMCallsUnsent are rows (besides cache hits) beyond the requests
	// the fake saw: canceled or interrupted calls that never left.
	LLMCallsUnsent  int            `json:"llm_calls_never_sent"`
	LLMFakeRequests int            `json:"llm_fake_requests"`
	LLMFakeFaults   int            `json:"llm_fake_faults"`
	LLMInjected     map[string]int `json:"llm_injected"`

	EventsAcked     int `json:"events_acked"`
	EventsUnknown   int `json:"events_unknown"`
	EventsStored    int `json:"events_stored"`
	EventsDistinct  int `json:"events_distinct"`
	EventsAckedLost int `json:"events_acked_not_stored"`
	EventsExtra     int `json:"events_stored_never_sent"`

	Webhooks *WebhookReconciliation  `json:"webhooks"`
	Research *ResearchReconciliation `json:"research,omitempty"`
	Airtable *AirtableReconciliation `json:"airtable,omitempty"`

	Problems []string `json:"problems"`
}

// waitSettled waits until none of the bench's runs is queued or running,
// for at most max.
func waitSettled(ctx context.Context, conn *pgx.Conn, tag string, max time.Duration) (time.Duration, int, error) {
	began := time.Now()
	for {
		var open int
		err := conn.QueryRow(ctx, `SELECT count(*) FROM runs WHERE idempotency_key LIKE $1 AND status IN ('queued', 'running')`,
			"chaos-"+tag+"-%").Scan(&open)
		if err != nil {
			return time.Since(began), -1, err
		}
		if open == 0 || time.Since(began) > max {
			return time.Since(began), open, nil
		}
		if !sleepCtx(ctx, 2*time.Second) {
			return time.Since(began), open, ctx.Err()
		}
	}
}

// loadRuns reads every run the bench started.
func loadRuns(ctx context.Context, conn *pgx.Conn, tag string) (map[string]*runRow, error) {
	rows, err := conn.Query(ctx, `
		SELECT r.id, r.idempotency_key, r.kind, r.status::text, coalesce(r.error::text, ''), r.created_at, r.closed_at,
		       (SELECT count(*) FROM exports e WHERE e.run_id = r.id)
		FROM runs r WHERE r.idempotency_key LIKE $1`, "chaos-"+tag+"-%")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]*runRow{}
	for rows.Next() {
		r := &runRow{}
		if err := rows.Scan(&r.ID, &r.Key, &r.Kind, &r.Status, &r.Error, &r.Created, &r.Closed, &r.HasFile); err != nil {
			return nil, err
		}
		out[r.Key] = r
	}
	return out, rows.Err()
}

// reconcile checks the settled state against what the load recorded.
func reconcile(ctx context.Context, conn *pgx.Conn, l *load, llm *llmFront, blobDir string, runs map[string]*runRow) (*Reconciliation, error) {
	rc := &Reconciliation{Runs: map[string]map[string]int{}, LLMCallsOutcomes: map[string]int{}}
	problem := func(format string, args ...any) { rc.Problems = append(rc.Problems, fmt.Sprintf(format, args...)) }

	// Runs against starts.
	acked := map[string]bool{}
	for _, a := range l.attempts {
		if a.Start && a.Op != "track" && a.Status >= 200 && a.Status < 300 {
			acked[a.RunID] = true
		}
	}
	byID := map[string]*runRow{}
	for _, r := range runs {
		byID[r.ID] = r
		if rc.Runs[r.Kind] == nil {
			rc.Runs[r.Kind] = map[string]int{}
		}
		rc.Runs[r.Kind][r.Status]++
		if r.Status != "succeeded" {
			rc.NotSucceeded = append(rc.NotSucceeded, *r)
		}
	}
	sort.Slice(rc.NotSucceeded, func(i, j int) bool { return rc.NotSucceeded[i].Created.Before(rc.NotSucceeded[j].Created) })
	for key := range l.keys {
		if r := runs[key]; r != nil && acked[r.ID] {
			rc.StartsAcked++
		} else {
			rc.StartsUnknown++
			if runs[key] != nil {
				rc.RunsFromUnknown++
			}
		}
	}
	for id := range acked {
		if id != "" && byID[id] == nil {
			rc.StartsRunMissing = append(rc.StartsRunMissing, id)
		}
	}
	if len(rc.StartsRunMissing) > 0 {
		problem("%d acknowledged starts have no run row", len(rc.StartsRunMissing))
	}
	if len(rc.NotSucceeded) > 0 {
		problem("%d runs did not succeed (listed)", len(rc.NotSucceeded))
	}

	// Exports: one row per succeeded export run, and the blob directory.
	for _, r := range runs {
		if r.Kind != "export" {
			continue
		}
		if r.Status == "succeeded" {
			rc.ExportRunsSucceeded++
			if r.HasFile != 1 {
				rc.ExportRowsWrong = append(rc.ExportRowsWrong, fmt.Sprintf("%s: %d rows", r.ID, r.HasFile))
			}
		} else if r.HasFile != 0 {
			rc.ExportRowsNotOK = append(rc.ExportRowsNotOK, fmt.Sprintf("%s (%s): %d rows", r.ID, r.Status, r.HasFile))
		}
	}
	if len(rc.ExportRowsWrong)+len(rc.ExportRowsNotOK) > 0 {
		problem("export rows: %d succeeded runs without exactly one, %d rows of runs not succeeded", len(rc.ExportRowsWrong), len(rc.ExportRowsNotOK))
	}
	referenced, err := keySet(ctx, conn, `SELECT blob_key FROM exports`)
	if err != nil {
		return nil, fmt.Errorf("read export keys: %w", err)
	}
	exports := auditBlobs(blobDir, "exports", referenced)
	rc.BlobFiles, rc.BlobOrphans, rc.BlobMissing = exports.files, exports.orphans, exports.missing
	if len(rc.BlobOrphans) > 0 {
		problem("%d files under exports/ that no row references", len(rc.BlobOrphans))
	}
	if len(rc.BlobMissing) > 0 {
		problem("%d export rows whose file is missing", len(rc.BlobMissing))
	}

	// Research screenshots: every file under research/ referenced by a
	// page row, and every row's file there.
	shots, err := keySet(ctx, conn, `SELECT screenshot_key FROM research_pages WHERE screenshot_key IS NOT NULL`)
	if err != nil {
		return nil, fmt.Errorf("read screenshot keys: %w", err)
	}
	research := auditBlobs(blobDir, "research", shots)
	rc.ScreenshotFiles, rc.ScreenshotOrphans, rc.ScreenshotMissing = research.files, research.orphans, research.missing
	rc.BlobTmpFiles = len(exports.tmp) + len(research.tmp)
	rc.BlobTmpList = append(exports.tmp, research.tmp...)
	if len(rc.ScreenshotOrphans) > 0 {
		problem("%d files under research/ that no page row references", len(rc.ScreenshotOrphans))
	}
	if len(rc.ScreenshotMissing) > 0 {
		problem("%d research pages whose screenshot file is missing", len(rc.ScreenshotMissing))
	}

	// The LLM ledger against what the fake saw.
	orows, err := conn.Query(ctx, `SELECT outcome, count(*), count(*) FILTER (WHERE finished_at IS NULL) FROM llm_calls GROUP BY outcome`)
	if err != nil {
		return nil, err
	}
	for orows.Next() {
		var o string
		var n, open int
		if err := orows.Scan(&o, &n, &open); err != nil {
			orows.Close()
			return nil, err
		}
		rc.LLMCallsOutcomes[o] = n
		rc.LLMCallsRows += n
		rc.LLMCallsOpen += open
	}
	orows.Close()
	st := llm.fake.Stats()
	rc.LLMFakeRequests, rc.LLMFakeFaults, rc.LLMInjected = st.Requests, st.Faults, llm.counts()
	// A cache hit (a research summarising the same pages as an earlier
	// one) is a ledger row without a provider call. Every other row is
	// written before its call; one settled "canceled" (the attempt's
	// context ended: timed out or cancelled) or "interrupted" (its
	// worker was SIGKILLed; the next attempt settled it) may have ended
	// before the request left, so those bound the count from above.
	calls := rc.LLMCallsRows - rc.LLMCallsOutcomes["cache_hit"]
	cut := rc.LLMCallsOutcomes["canceled"] + rc.LLMCallsOutcomes["interrupted"]
	rc.LLMCallsUnsent = calls - rc.LLMFakeRequests
	if rc.LLMFakeRequests > calls || rc.LLMFakeRequests < calls-cut {
		problem("llm_calls has %d rows besides cache hits (%d canceled or interrupted), the fake provider saw %d requests", calls, cut, rc.LLMFakeRequests)
	}
	if rc.LLMCallsOpen > 0 {
		problem("%d llm_calls rows never settled", rc.LLMCallsOpen)
	}

	// Tracking events: every acknowledged one stored once, none unknown.
	erows, err := conn.Query(ctx, `SELECT id, count(*) FROM events WHERE id LIKE $1 GROUP BY id`, "chaos-"+l.tag+"-%")
	if err != nil {
		return nil, err
	}
	stored := map[string]int{}
	for erows.Next() {
		var id string
		var n int
		if err := erows.Scan(&id, &n); err != nil {
			erows.Close()
			return nil, err
		}
		stored[id] = n
		rc.EventsStored += n
	}
	erows.Close()
	rc.EventsDistinct = len(stored)
	rc.EventsAcked = len(l.acked)
	for id := range l.maybe {
		if !l.acked[id] {
			rc.EventsUnknown++
		}
	}
	for id := range l.acked {
		if stored[id] == 0 {
			rc.EventsAckedLost++
		}
	}
	for id := range stored {
		if !l.acked[id] && !l.maybe[id] {
			rc.EventsExtra++
		}
	}
	if rc.EventsAckedLost > 0 {
		problem("%d acknowledged events are not in Postgres", rc.EventsAckedLost)
	}
	if rc.EventsStored != rc.EventsDistinct {
		problem("%d duplicate event rows", rc.EventsStored-rc.EventsDistinct)
	}
	if rc.EventsExtra > 0 {
		problem("%d stored events were never sent", rc.EventsExtra)
	}
	return rc, nil
}

// keySet reads a query's one text column as a set.
func keySet(ctx context.Context, conn *pgx.Conn, query string) (map[string]bool, error) {
	rows, _ := conn.Query(ctx, query)
	keys, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, err
	}
	set := make(map[string]bool, len(keys))
	for _, k := range keys {
		set[k] = true
	}
	return set, nil
}

// blobAudit is what one prefix of the blob store holds against the keys
// rows reference: files counts the real files; orphans are files no row
// references, missing are referenced keys without a file, tmp are a
// writer's leftovers; each sorted.
type blobAudit struct {
	files                 int
	orphans, missing, tmp []string
}

// auditBlobs walks blobDir/prefix (a fileblob bucket) against referenced,
// whose keys under prefix must each have a file.
func auditBlobs(blobDir, prefix string, referenced map[string]bool) blobAudit {
	var a blobAudit
	seen := map[string]bool{}
	_ = filepath.WalkDir(filepath.Join(blobDir, prefix), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(blobDir, path)
		key := filepath.ToSlash(rel)
		switch {
		case strings.HasSuffix(key, ".attrs"):
			// fileblob's metadata beside a file: checked with the file.
		case strings.HasSuffix(key, ".tmp") || strings.Contains(filepath.Base(key), ".tmp"):
			a.tmp = append(a.tmp, key)
		default:
			a.files++
			seen[key] = true
			if !referenced[key] {
				a.orphans = append(a.orphans, key)
			}
		}
		return nil
	})
	for k := range referenced {
		if strings.HasPrefix(k, prefix+"/") && !seen[k] {
			a.missing = append(a.missing, k)
		}
	}
	sort.Strings(a.orphans)
	sort.Strings(a.missing)
	return a
}
