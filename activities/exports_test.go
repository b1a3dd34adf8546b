package activities

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"gocloud.dev/blob"

	"github.com/groundwork-dev/groundwork"
	"github.com/groundwork-dev/groundwork/db"
	"github.com/groundwork-dev/groundwork/db/sqlc"
	"github.com/groundwork-dev/groundwork/internal/blobstore"
	"github.com/groundwork-dev/groundwork/internal/testkit/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

type fixture struct {
	// dir is the file bucket's directory.
	dir    string
	pool   *pgxpool.Pool
	bucket *blob.Bucket
	acts   *Exports
	env    *testsuite.TestActivityEnvironment
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	pool, _ := testenv.Pool(t)
	dir := t.TempDir()
	bucket, err := blobstore.Open(context.Background(), "file://"+dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = bucket.Close() })
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	acts := &Exports{Pool: pool, Bucket: bucket, TTL: time.Hour}
	env.RegisterActivity(acts)
	return &fixture{dir: dir, pool: pool, bucket: bucket, acts: acts, env: env}
}

// seedRun stores a run and its request the way the API does.
func (f *fixture) seedRun(t *testing.T, id string, body any) {
	t.Helper()
	ctx := context.Background()
	b, _ := json.Marshal(body)
	_, err := sqlc.New(f.pool).RunCreate(ctx, sqlc.RunCreateParams{ID: id, OwnerID: "u1", WorkspaceID: "u1", Kind: "export", RequestHash: []byte{1}, Body: b, MaxOpen: db.NoOpenRunCap})
	if err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) blobKeys(t *testing.T, runID string) []string {
	t.Helper()
	var keys []string
	it := f.bucket.List(&blob.ListOptions{Prefix: ExportBlobPrefix(runID)})
	for {
		obj, err := it.Next(context.Background())
		if errors.Is(err, io.EOF) {
			return keys
		}
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, obj.Key)
	}
}

// render runs ExportRender for id and returns the file it uploaded.
func (f *fixture) render(t *testing.T, id string) groundwork.RenderedFile {
	t.Helper()
	v, err := f.env.ExecuteActivity(f.acts.ExportRender, groundwork.ExportRenderInput{RunID: id})
	if err != nil {
		t.Fatal(err)
	}
	var file groundwork.RenderedFile
	if err := v.Get(&file); err != nil {
		t.Fatal(err)
	}
	return file
}

const runID = "export-01JD4X7Q2W6ZC5D3V9N8K1M2P3"

var table = map[string]any{"format": "csv", "filename": "a/b/../leads", "columns": []string{"name", "n"}, "rows": [][]any{{"Acme", 1}, {"=cmd", -2}}}

// TestPrepareValidatesAndMarksRunning: a small table is planned for a
// local render and left queued (it ends in the same workflow task); a
// larger one is marked running.
func TestPrepareValidatesAndMarksRunning(t *testing.T) {
	f := newFixture(t)
	f.seedRun(t, runID, table)
	v, err := f.env.ExecuteActivity(f.acts.ExportPrepare, runID)
	if err != nil {
		t.Fatal(err)
	}
	var plan groundwork.ExportPlan
	_ = v.Get(&plan)
	if plan.Filename != "leads.csv" || plan.Rows != 2 || plan.Columns != 2 || !plan.Local {
		t.Fatalf("plan = %+v", plan)
	}
	run, _ := sqlc.New(f.pool).RunGet(context.Background(), runID)
	if run.Status != sqlc.RunStatusQueued {
		t.Errorf("status of a local render = %s", run.Status)
	}

	big := "export-01JD4X7Q2W6ZC5D3V9N8K1M2P5"
	rows := make([][]any, groundwork.LocalRenderCells+1)
	for i := range rows {
		rows[i] = []any{i}
	}
	f.seedRun(t, big, map[string]any{"format": "csv", "columns": []string{"n"}, "rows": rows})
	v, err = f.env.ExecuteActivity(f.acts.ExportPrepare, big)
	if err != nil {
		t.Fatal(err)
	}
	var bigPlan groundwork.ExportPlan
	_ = v.Get(&bigPlan)
	if bigPlan.Local || bigPlan.Rows != groundwork.LocalRenderCells+1 {
		t.Fatalf("plan of %d cells = %+v", groundwork.LocalRenderCells+1, bigPlan)
	}
	if run, _ := sqlc.New(f.pool).RunGet(context.Background(), big); run.Status != sqlc.RunStatusRunning {
		t.Errorf("status of a render on the queue = %s", run.Status)
	}

	bad := "export-01JD4X7Q2W6ZC5D3V9N8K1M2P4"
	f.seedRun(t, bad, map[string]any{"format": "csv", "columns": []string{"a"}, "rows": [][]any{{"1", "2"}}})
	_, err = f.env.ExecuteActivity(f.acts.ExportPrepare, bad)
	assertNonRetryable(t, err, groundwork.ErrTypeInvalidInput)
}

func TestRenderIsIdempotentAndRecordOnce(t *testing.T) {
	f := newFixture(t)
	f.seedRun(t, runID, table)
	var files [2]groundwork.RenderedFile
	for i := range files {
		v, err := f.env.ExecuteActivity(f.acts.ExportRender, groundwork.ExportRenderInput{RunID: runID})
		if err != nil {
			t.Fatal(err)
		}
		_ = v.Get(&files[i])
	}
	if !reflect.DeepEqual(files[0], files[1]) {
		t.Fatalf("a retried render differs: %+v vs %+v", files[0], files[1])
	}
	if keys := f.blobKeys(t, runID); len(keys) != 1 {
		t.Fatalf("blobs after two renders: %v", keys)
	}
	body, err := f.bucket.ReadAll(context.Background(), files[0].BlobKey)
	if err != nil {
		t.Fatal(err)
	}
	if want := "name,n\r\nAcme,1\r\n'=cmd,-2\r\n"; string(body) != want {
		t.Fatalf("file = %q, want %q", body, want)
	}

	rec := groundwork.ExportRecordInput{RunID: runID, OwnerID: "u1", Plan: groundwork.ExportPlan{Format: "csv", Filename: "leads.csv", Rows: 2}, File: files[0],
		Progress: groundwork.Progress{Stage: groundwork.StageDone, Done: 2, Total: 2, Version: 4}}
	var results [2]groundwork.ExportResult
	for i := range results {
		v, err := f.env.ExecuteActivity(f.acts.ExportRecord, rec)
		if err != nil {
			t.Fatal(err)
		}
		_ = v.Get(&results[i])
	}
	if !results[0].ExpiresAt.Equal(results[1].ExpiresAt) || results[0].SizeBytes != int64(len(body)) {
		t.Fatalf("record is not idempotent: %+v vs %+v", results[0], results[1])
	}
	var exports, inputs int
	_ = f.pool.QueryRow(context.Background(), "SELECT count(*) FROM exports WHERE run_id = $1", runID).Scan(&exports)
	_ = f.pool.QueryRow(context.Background(), "SELECT count(*) FROM run_inputs WHERE run_id = $1", runID).Scan(&inputs)
	if exports != 1 || inputs != 0 {
		t.Fatalf("exports=%d inputs=%d after two records", exports, inputs)
	}
	run, _ := sqlc.New(f.pool).RunGet(context.Background(), runID)
	if run.Status != sqlc.RunStatusSucceeded || run.ClosedAt == nil || !strings.Contains(string(run.Progress), `"done"`) {
		t.Fatalf("run = %+v", run)
	}
}

func TestRenderOverTheCapLeavesNoFile(t *testing.T) {
	f := newFixture(t)
	f.acts.MaxFileBytes = 10 << 10
	rows := make([][]any, 2000)
	for i := range rows {
		rows[i] = []any{strings.Repeat("x", 50)}
	}
	f.seedRun(t, runID, map[string]any{"format": "csv", "columns": []string{"a"}, "rows": rows})
	_, err := f.env.ExecuteActivity(f.acts.ExportRender, groundwork.ExportRenderInput{RunID: runID})
	assertNonRetryable(t, err, groundwork.ErrTypeFileTooLarge)
	if keys := f.blobKeys(t, runID); len(keys) != 0 {
		t.Fatalf("a refused render left %v", keys)
	}
}

func TestDiscardRemovesEverything(t *testing.T) {
	f := newFixture(t)
	f.seedRun(t, runID, table)
	if file, keys := f.render(t, runID), f.blobKeys(t, runID); len(keys) != 1 || keys[0] != file.BlobKey {
		t.Fatalf("before discard: blobs %v, rendered %s", keys, file.BlobKey)
	}
	in := groundwork.RunDiscardInput{RunID: runID, Status: "failed", Error: &groundwork.RunError{Type: "internal", Message: "boom"}}
	for range 2 { // idempotent
		if _, err := f.env.ExecuteActivity(f.acts.ExportDiscard, in); err != nil {
			t.Fatal(err)
		}
	}
	if keys := f.blobKeys(t, runID); len(keys) != 0 {
		t.Fatalf("blobs left: %v", keys)
	}
	run, _ := sqlc.New(f.pool).RunGet(context.Background(), runID)
	if run.Status != sqlc.RunStatusFailed || !strings.Contains(string(run.Error), "boom") {
		t.Fatalf("run = %s %s", run.Status, run.Error)
	}
	if _, err := sqlc.New(f.pool).RunInputGet(context.Background(), runID); err == nil {
		t.Fatal("input left")
	}
}

func TestMissingInputIsNotFound(t *testing.T) {
	f := newFixture(t)
	_, err := f.env.ExecuteActivity(f.acts.ExportRender, groundwork.ExportRenderInput{RunID: runID})
	assertNonRetryable(t, err, groundwork.ErrTypeNotFound)
}

func assertNonRetryable(t *testing.T, err error, typ string) {
	t.Helper()
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) || appErr.Type() != typ || !appErr.NonRetryable() {
		t.Fatalf("error = %v, want non-retryable %s", err, typ)
	}
}

// TestQuotaHoldsUnderConcurrentRecords records two files at once for one
// user whose quota fits only one of them: the user's row lock makes the
// second see the first, so exactly one succeeds.
func TestQuotaHoldsUnderConcurrentRecords(t *testing.T) {
	f := newFixture(t)
	f.acts.QuotaBytes = 150
	ids := []string{"export-01JD4X7Q2W6ZC5D3V9N8K1M2Q1", "export-01JD4X7Q2W6ZC5D3V9N8K1M2Q2"}
	for _, id := range ids {
		f.seedRun(t, id, table)
	}
	errs := make(chan error, len(ids))
	for _, id := range ids {
		go func() {
			rec := groundwork.ExportRecordInput{RunID: id, OwnerID: "u1",
				Plan: groundwork.ExportPlan{Format: "csv", Filename: "a.csv"},
				File: groundwork.RenderedFile{BlobKey: ExportBlobPrefix(id) + "file.csv", ContentType: "text/csv", SizeBytes: 100, SHA256: "00"}}
			_, err := f.acts.ExportRecord(context.Background(), rec)
			errs <- err
		}()
	}
	var ok, refused int
	for range ids {
		err := <-errs
		var appErr *temporal.ApplicationError
		switch {
		case err == nil:
			ok++
		case errors.As(err, &appErr) && appErr.Type() == groundwork.ErrTypeQuotaExceeded:
			refused++
		default:
			t.Fatalf("record: %v", err)
		}
	}
	if ok != 1 || refused != 1 {
		t.Fatalf("%d recorded, %d refused; want 1 and 1", ok, refused)
	}
}

func TestDeleteExpiredUsesTheClock(t *testing.T) {
	f := newFixture(t)
	now := time.Now()
	f.acts.Now = func() time.Time { return now }
	f.seedRun(t, runID, table)
	file := f.render(t, runID)
	rec := groundwork.ExportRecordInput{RunID: runID, OwnerID: "u1", Plan: groundwork.ExportPlan{Format: "csv", Filename: "a.csv"}, File: file}
	if _, err := f.env.ExecuteActivity(f.acts.ExportRecord, rec); err != nil {
		t.Fatal(err)
	}
	deleted := func() groundwork.CleanupResult {
		v, err := f.env.ExecuteActivity(f.acts.ExportsDeleteExpired)
		if err != nil {
			t.Fatal(err)
		}
		var res groundwork.CleanupResult
		_ = v.Get(&res)
		return res
	}
	if res := deleted(); res.Deleted != 0 {
		t.Fatalf("deleted %d unexpired exports", res.Deleted)
	}
	now = now.Add(time.Hour + time.Second) // the fixture's TTL is an hour
	if res := deleted(); res.Deleted != 1 || res.Bytes != file.SizeBytes {
		t.Fatalf("cleanup = %+v", res)
	}
	if keys := f.blobKeys(t, runID); len(keys) != 0 {
		t.Fatalf("blob left: %v", keys)
	}
	run, _ := sqlc.New(f.pool).RunGet(context.Background(), runID)
	if !strings.Contains(string(run.Result), `"expired": true`) {
		t.Fatalf("run result not marked expired: %s", run.Result)
	}
	if res := deleted(); res.Deleted != 0 {
		t.Fatalf("second cleanup deleted %d", res.Deleted)
	}
}

// TestCleanupForgetsWhatItShould moves the cleanup's clock: idempotency
// keys go after a day, sessions after 30 days unused, rate windows, slots
// and buckets after a day idle; younger rows stay.
func TestCleanupForgetsWhatItShould(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	now := time.Now()
	f.acts.Now = func() time.Time { return now }
	_, err := f.pool.Exec(ctx, `
		INSERT INTO workspaces (id) VALUES ('cw');
		INSERT INTO users (id) VALUES ('cu');
		INSERT INTO runs (id, owner_id, workspace_id, kind, idempotency_key, request_hash, created_at)
		VALUES ('export-01JD4X7Q2W6ZC5D3V9N8K1M2P5', 'cu', 'cw', 'export', 'old-key', '\x00', now() - interval '25 hours'),
		       ('export-01JD4X7Q2W6ZC5D3V9N8K1M2P6', 'cu', 'cw', 'export', 'new-key', '\x00', now() - interval '1 hour');
		INSERT INTO sessions (user_id, id, workspace_id, last_seen) VALUES
		    ('cu', 'old', 'cw', now() - interval '31 days'), ('cu', 'new', 'cw', now() - interval '1 day');
		INSERT INTO sessions (user_id, id, workspace_id, last_seen, revoked_at, revoked_reason) VALUES
		    ('cu', 'ancient', 'cw', now() - interval '400 days', now() - interval '366 days', 'revoked');
		INSERT INTO rate_windows (key, window_start, hits) VALUES ('old', now() - interval '25 hours', 1), ('new', now(), 1);
		INSERT INTO rate_slots (name, next_at) VALUES ('old', now() - interval '25 hours'), ('new', now());
		INSERT INTO rate_buckets (name, tokens, updated_at) VALUES ('old', 1, now() - interval '25 hours'), ('new', 1, now());`)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.env.ExecuteActivity(f.acts.ExportsDeleteExpired); err != nil {
		t.Fatal(err)
	}
	// An old session is ended, not deleted: a token naming it stays refused.
	var reason string
	if err := f.pool.QueryRow(ctx, `SELECT coalesce(revoked_reason, '') FROM sessions WHERE id = 'old'`).Scan(&reason); err != nil || reason != "idle" {
		t.Errorf("the old session: reason %q (%v), want idle and kept", reason, err)
	}
	var ancient int
	if err := f.pool.QueryRow(ctx, `SELECT count(*) FROM sessions WHERE id = 'ancient'`).Scan(&ancient); err != nil || ancient != 0 {
		t.Errorf("a year-old tombstone was kept (%v)", err)
	}
	for what, query := range map[string]string{
		"idempotency keys": `SELECT string_agg(coalesce(idempotency_key, '-'), ',' ORDER BY idempotency_key) FROM runs WHERE owner_id = 'cu'`,
		"sessions":         `SELECT string_agg(id, ',') FROM sessions WHERE revoked_at IS NULL`,
		"rate windows":     `SELECT string_agg(key, ',') FROM rate_windows`,
		"rate slots":       `SELECT string_agg(name, ',') FROM rate_slots`,
		"rate buckets":     `SELECT string_agg(name, ',') FROM rate_buckets`,
	} {
		var got string
		if err := f.pool.QueryRow(ctx, query).Scan(&got); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if want := map[string]string{"idempotency keys": "new-key,-"}[what]; want != "" && got != want || want == "" && got != "new" {
			t.Errorf("%s left: %q", what, got)
		}
	}
}

// TestCleanupExpiresResearch: research older than the retention goes
// (report, cited pages, their screenshots), unless an unfinished export
// still renders from it; younger research stays.
func TestCleanupExpiresResearch(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.acts.ResearchRetention = 30 * 24 * time.Hour
	for _, key := range []string{"research/old.png", "research/kept.png", "research/new.png"} {
		if err := f.acts.Bucket.WriteAll(ctx, key, []byte("png"), nil); err != nil {
			t.Fatal(err)
		}
	}
	_, err := f.pool.Exec(ctx, `
		INSERT INTO workspaces (id) VALUES ('rw');
		INSERT INTO users (id) VALUES ('ru');
		INSERT INTO runs (id, owner_id, workspace_id, kind, request_hash, status, result) VALUES
		    ('research-01JD4X7Q2W6ZC5D3V9N8K1M2P1', 'ru', 'rw', 'research', '\x00', 'succeeded', '{}'),
		    ('research-01JD4X7Q2W6ZC5D3V9N8K1M2P2', 'ru', 'rw', 'research', '\x00', 'succeeded', '{}'),
		    ('research-01JD4X7Q2W6ZC5D3V9N8K1M2P3', 'ru', 'rw', 'research', '\x00', 'succeeded', '{}'),
		    ('export-01JD4X7Q2W6ZC5D3V9N8K1M2P4', 'ru', 'rw', 'export', '\x00', 'queued', NULL);
		INSERT INTO run_inputs (run_id, body) VALUES
		    ('export-01JD4X7Q2W6ZC5D3V9N8K1M2P4', convert_to('{"format": "pdf", "source": {"run_id": "research-01JD4X7Q2W6ZC5D3V9N8K1M2P2"}}', 'UTF8'));
		INSERT INTO research_reports (run_id, owner_id, company, domain, profile, provider, pages_fetched, pages_reused, pages_failed, search, created_at) VALUES
		    ('research-01JD4X7Q2W6ZC5D3V9N8K1M2P1', 'ru', 'Old', 'old.example', '{}', 'x', 1, 0, 0, to_tsvector('old'), now() - interval '31 days'),
		    ('research-01JD4X7Q2W6ZC5D3V9N8K1M2P2', 'ru', 'Kept', 'kept.example', '{}', 'x', 1, 0, 0, to_tsvector('kept'), now() - interval '31 days'),
		    ('research-01JD4X7Q2W6ZC5D3V9N8K1M2P3', 'ru', 'New', 'new.example', '{}', 'x', 1, 0, 0, to_tsvector('new'), now() - interval '1 day');
		INSERT INTO research_pages (id, owner_id, url, screenshot_key, fetched_at) OVERRIDING SYSTEM VALUE VALUES
		    (1, 'ru', 'https://old.example/', 'research/old.png', now() - interval '31 days'),
		    (2, 'ru', 'https://kept.example/', 'research/kept.png', now() - interval '31 days'),
		    (3, 'ru', 'https://new.example/', 'research/new.png', now() - interval '31 days');
		INSERT INTO research_run_pages (run_id, url, page_id, position, category, reused) VALUES
		    ('research-01JD4X7Q2W6ZC5D3V9N8K1M2P1', 'https://old.example/', 1, 0, 'home', false),
		    ('research-01JD4X7Q2W6ZC5D3V9N8K1M2P2', 'https://kept.example/', 2, 0, 'home', false),
		    ('research-01JD4X7Q2W6ZC5D3V9N8K1M2P3', 'https://new.example/', 3, 0, 'home', false);`)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.env.ExecuteActivity(f.acts.ExportsDeleteExpired); err != nil {
		t.Fatal(err)
	}
	var reports, pages string
	if err := f.pool.QueryRow(ctx, `SELECT string_agg(company, ',' ORDER BY company) FROM research_reports`).Scan(&reports); err != nil {
		t.Fatal(err)
	}
	if err := f.pool.QueryRow(ctx, `SELECT string_agg(id::text, ',' ORDER BY id) FROM research_pages`).Scan(&pages); err != nil {
		t.Fatal(err)
	}
	if reports != "Kept,New" || pages != "2,3" {
		t.Fatalf("left reports %q, pages %q; want Kept,New and 2,3", reports, pages)
	}
	for key, want := range map[string]bool{"research/old.png": false, "research/kept.png": true, "research/new.png": true} {
		if ok, _ := f.acts.Bucket.Exists(ctx, key); ok != want {
			t.Errorf("screenshot %s exists: %v, want %v", key, ok, want)
		}
	}
	var expired bool
	if err := f.pool.QueryRow(ctx, `SELECT coalesce((result->>'expired')::boolean, false) FROM runs WHERE id = 'research-01JD4X7Q2W6ZC5D3V9N8K1M2P1'`).Scan(&expired); err != nil || !expired {
		t.Errorf("the expired research's run is not marked expired: %v", err)
	}
}

// TestCleanupSweepsOrphanFiles leaves what a killed render leaves — its
// upload's temporary file — and a file no export references, both old,
// beside a recorded export and a fresh unreferenced file: the cleanup
// deletes the two old orphans only.
func TestCleanupSweepsOrphanFiles(t *testing.T) {
	f := newFixture(t)
	f.acts.TTL = 48 * time.Hour // the recorded export outlives the day
	f.seedRun(t, runID, table)
	file := f.render(t, runID)
	rec := groundwork.ExportRecordInput{RunID: runID, OwnerID: "u1", Plan: groundwork.ExportPlan{Format: "csv", Filename: "a.csv"}, File: file}
	if _, err := f.env.ExecuteActivity(f.acts.ExportRecord, rec); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, k := range []string{ExportBlobPrefix(runID) + "file.csv.18f2a.tmp", "exports/export-gone/file.pdf", "exports/export-fresh/file.pdf"} {
		if err := f.bucket.WriteAll(ctx, k, []byte("partial"), nil); err != nil {
			t.Fatal(err)
		}
	}
	// A day later for everything but the fresh file (the clock moves,
	// and the fresh file is written "now").
	now := time.Now().Add(OrphanAge + time.Minute)
	f.acts.Now = func() time.Time { return now }
	if err := f.bucket.WriteAll(ctx, "exports/export-fresh/file.pdf", []byte("new"), nil); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(filepath.Join(f.dir, "exports/export-fresh/file.pdf"), now, now); err != nil {
		t.Fatal(err)
	}
	v, err := f.env.ExecuteActivity(f.acts.ExportsDeleteExpired)
	if err != nil {
		t.Fatal(err)
	}
	var res groundwork.CleanupResult
	_ = v.Get(&res)
	if res.Orphans != 2 {
		t.Errorf("swept %d orphans, want 2", res.Orphans)
	}
	left := append(f.blobKeys(t, runID), f.blobKeys(t, "export-gone")...)
	left = append(left, f.blobKeys(t, "export-fresh")...)
	if len(left) != 2 || left[0] != file.BlobKey || left[1] != "exports/export-fresh/file.pdf" {
		t.Errorf("left %v, want the recorded file and the fresh one", left)
	}
}
