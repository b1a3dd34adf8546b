package test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/base64"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"gocloud.dev/blob"

	"github.com/groundwork-dev/groundwork"
	"github.com/groundwork-dev/groundwork/activities"
	"github.com/groundwork-dev/groundwork/db/sqlc"
	"github.com/groundwork-dev/groundwork/internal/testkit/testenv"
	"github.com/groundwork-dev/groundwork/worker"
)

func pngBase64(t *testing.T) string {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 40, 20))
	for x := 0; x < 40; x++ {
		for y := 0; y < 20; y++ {
			img.Set(x, y, color.RGBA{uint8(x * 6), 120, uint8(y * 12), 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(buf.Bytes())
}

// report is a document touching every block type, and the strings its
// rendering must contain.
func report(t *testing.T) (map[string]any, []string) {
	rows := [][]any{}
	var cells []string
	for i := range 60 {
		name := "Account " + string(rune('A'+i%26)) + strings.Repeat("x", i%3)
		rows = append(rows, []any{name, i * 7, i%2 == 0})
		cells = append(cells, name)
	}
	doc := map[string]any{
		"title": "Acme Corp — research report", "subtitle": "Quarterly review", "author": "Groundwork tests",
		"blocks": []map[string]any{
			{"type": "heading", "level": 1, "text": "Overview"},
			{"type": "paragraph", "text": "Café – naïve “quotes” are kept intact."},
			{"type": "paragraph", "spans": []map[string]any{{"text": "Bold claim", "bold": true}, {"text": " and a link", "link": "https://example.com/acme"}}},
			{"type": "list", "ordered": true, "items": []string{"First finding", "Second finding"}},
			{"type": "kv", "items": []map[string]string{{"key": "Industry", "value": "Software"}, {"key": "Employees", "value": "1,200"}}},
			{"type": "table", "columns": []string{"Account", "Score", "Active"}, "rows": rows},
			{"type": "chart", "kind": "bar", "title": "Revenue by quarter", "labels": []string{"Q1", "Q2", "Q3"},
				"series": []map[string]any{{"name": "Revenue", "values": []float64{1, 2.5, 4}}}},
			{"type": "page_break"},
			{"type": "image", "data_base64": pngBase64(t), "caption": "Figure 1: gradient"},
			{"type": "heading", "level": 2, "text": "Closing notes"},
		},
	}
	want := append([]string{"Acme Corp — research report", "Overview", "Café – naïve “quotes” are kept intact.",
		"Bold claim", "and a link", "First finding", "Second finding", "Industry", "Software", "Employees",
		"Account", "Score", "Revenue by quarter", "Figure 1: gradient", "Closing notes"}, cells...)
	return doc, want
}

// pdfText extracts a PDF's text with pdftotext after qpdf --check passes.
func pdfText(t *testing.T, pdf []byte) string {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "f.pdf")
	if err := os.WriteFile(path, pdf, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("qpdf", "--check", path).CombinedOutput(); err != nil {
		t.Fatalf("qpdf --check: %v\n%s", err, out)
	}
	out, err := exec.Command("pdftotext", "-layout", path, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	return string(out)
}

// docxText opens a DOCX with LibreOffice, as a user would, and returns the
// text of the PDF it converts it to.
func docxText(t *testing.T, docx []byte) string {
	t.Helper()
	dir := t.TempDir()
	in := filepath.Join(dir, "f.docx")
	if err := os.WriteFile(in, docx, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "soffice", "-env:UserInstallation=file://"+filepath.Join(dir, "profile"),
		"--headless", "--convert-to", "pdf", "--outdir", dir, in)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("LibreOffice could not open the DOCX: %v\n%s", err, out)
	}
	pdf, err := os.ReadFile(filepath.Join(dir, "f.pdf"))
	if err != nil {
		t.Fatalf("LibreOffice made no PDF: %v", err)
	}
	return pdfText(t, pdf)
}

// docxXML returns word/document.xml of a DOCX.
func docxXML(t *testing.T, docx []byte) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(docx), int64(len(docx)))
	if err != nil {
		t.Fatal(err)
	}
	f, err := zr.Open("word/document.xml")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func requireTools(t *testing.T, names ...string) {
	t.Helper()
	for _, n := range names {
		if _, err := exec.LookPath(n); err != nil {
			t.Fatalf("%s is not installed: run `make test-deps`", n)
		}
	}
}

func normalizeSpace(s string) string { return strings.Join(strings.Fields(s), " ") }

func TestDocumentExportsPDFAndDOCX(t *testing.T) {
	requireTools(t, "qpdf", "pdftotext", "soffice")
	s := sharedStack(t)
	c := s.newUser(t, "user-documents")
	doc, want := report(t)
	for _, format := range []string{"pdf", "docx"} {
		t.Run(format, func(t *testing.T) {
			r, resp := c.startExport(map[string]any{"format": format, "filename": "acme report", "document": doc})
			if resp.Status != http.StatusAccepted {
				t.Fatalf("start: %d %s", resp.Status, resp.Body)
			}
			done := c.waitRun(r.ID)
			if done.Status != "succeeded" {
				t.Fatalf("run %s: %+v", done.Status, done.Error)
			}
			dl := c.do(http.MethodGet, "/v1/exports/"+r.ID+"/download", nil)
			if dl.Status != http.StatusOK {
				t.Fatalf("download: %d", dl.Status)
			}
			var text string
			if format == "pdf" {
				if ct := dl.Header.Get("Content-Type"); ct != "application/pdf" {
					t.Errorf("Content-Type %q", ct)
				}
				if done.Result["pages"] == nil || done.Result["pages"].(float64) < 2 {
					t.Errorf("pages = %v", done.Result["pages"])
				}
				text = pdfText(t, dl.Body)
			} else {
				if cd := dl.Header.Get("Content-Disposition"); !strings.Contains(cd, "acme report.docx") {
					t.Errorf("Content-Disposition %q", cd)
				}
				text = docxText(t, dl.Body)
			}
			flat := normalizeSpace(text)
			for _, w := range want {
				if format == "docx" && w == "Revenue by quarter" {
					// A DOCX chart is a picture: its title is drawn in it
					// and set as its alternative text.
					if !bytes.Contains(docxXML(t, dl.Body), []byte(`descr="Revenue by quarter"`)) {
						t.Errorf("docx chart has no alt text")
					}
					continue
				}
				if !strings.Contains(flat, normalizeSpace(w)) {
					t.Errorf("%s text lacks %q", format, w)
				}
			}
		})
	}
}

func TestTableAsPDFAndSourceChecks(t *testing.T) {
	requireTools(t, "qpdf", "pdftotext")
	s := sharedStack(t)
	c := s.newUser(t, "user-table-pdf")
	r, resp := c.startExport(map[string]any{"format": "pdf", "filename": "leads", "columns": []string{"Name", "Email"},
		"rows": [][]any{{"Ada", "ada@example.com"}, {"Grace", "grace@example.com"}}})
	if resp.Status != http.StatusAccepted {
		t.Fatalf("start: %d %s", resp.Status, resp.Body)
	}
	if done := c.waitRun(r.ID); done.Status != "succeeded" {
		t.Fatalf("run: %s %+v", done.Status, done.Error)
	}
	text := pdfText(t, c.do(http.MethodGet, "/v1/exports/"+r.ID+"/download", nil).Body)
	for _, w := range []string{"leads", "Name", "grace@example.com"} {
		if !strings.Contains(text, w) {
			t.Errorf("table pdf lacks %q", w)
		}
	}
	// Sources: an export run cannot be exported, another user's run does not exist.
	other := s.newUser(t, "user-table-pdf-other")
	for _, tc := range []struct {
		client *apiClient
		msg    string
	}{{c, "cannot be exported"}, {other, "no run with this ID"}} {
		resp := tc.client.do(http.MethodPost, "/v1/exports", []byte(`{"format":"pdf","source":{"run_id":"`+r.ID+`"}}`))
		var p problemDoc
		resp.json(t, &p)
		if resp.Status != http.StatusUnprocessableEntity || len(p.Errors) == 0 || p.Errors[0].Field != "source.run_id" || !strings.Contains(p.Errors[0].Message, tc.msg) {
			t.Errorf("source check: %d %s", resp.Status, resp.Body)
		}
	}
	bad := c.do(http.MethodPost, "/v1/exports", []byte(`{"format":"csv","document":{"title":"x","blocks":[{"type":"page_break"}]}}`))
	if bad.Status != http.StatusUnprocessableEntity {
		t.Errorf("csv of a document: %d", bad.Status)
	}
}

func TestQuotaIsEnforcedExactly(t *testing.T) {
	// Each export below is exactly 100 bytes: a 1-column CSV whose header
	// "h" (3 bytes with CRLF) and one cell of 95 characters (97 bytes).
	s := startStack(t, stackOptions{
		temporalHostPort: testenv.StartTemporal(t).FrontendHostPort(),
		workers:          "all", ratePerSec: 1000, ratePerMin: 100000, quota: 250,
	}, true)
	c := s.newUser(t, "user-quota")
	export := func(cell string) (run, response) {
		return c.startExport(map[string]any{"format": "csv", "columns": []string{"h"}, "rows": [][]any{{cell}}})
	}
	hundred := strings.Repeat("q", 95)
	for i := range 2 {
		r, resp := export(hundred)
		if resp.Status != http.StatusAccepted {
			t.Fatalf("export %d: %d %s", i, resp.Status, resp.Body)
		}
		if done := c.waitRun(r.ID); done.Status != "succeeded" || done.Result["size_bytes"] != float64(100) {
			t.Fatalf("export %d: %s %v %+v", i, done.Status, done.Result, done.Error)
		}
	}
	// 200 used: a third 100-byte file would make 300 > 250, so it fails at
	// record time and leaves nothing behind.
	r, resp := export(hundred)
	if resp.Status != http.StatusAccepted {
		t.Fatalf("third export refused early: %d %s", resp.Status, resp.Body)
	}
	done := c.waitRun(r.ID)
	if done.Status != "failed" || done.Error == nil || done.Error.Type != "quota_exceeded" {
		t.Fatalf("over-quota export: %s %+v", done.Status, done.Error)
	}
	it := s.App.Bucket.List(&blob.ListOptions{Prefix: activities.ExportBlobPrefix(r.ID)})
	if obj, err := it.Next(context.Background()); err == nil {
		t.Fatalf("over-quota export left %s", obj.Key)
	}
	// Exactly 50 bytes are left: a 50-byte file (cell of 45) fits.
	r, _ = export(strings.Repeat("q", 45))
	if done := c.waitRun(r.ID); done.Status != "succeeded" {
		t.Fatalf("exact fit: %s %+v", done.Status, done.Error)
	}
	// Full: refused before any work starts.
	_, resp = export("x")
	if resp.Status != http.StatusUnprocessableEntity || !strings.HasSuffix(problemType(t, resp), "/quota_exceeded") {
		t.Fatalf("full quota: %d %s", resp.Status, resp.Body)
	}
	var n int
	if err := s.App.Pool.QueryRow(context.Background(), "SELECT count(*) FROM runs WHERE owner_id = 'user-quota'").Scan(&n); err != nil || n != 4 {
		t.Fatalf("runs recorded: %d (%v), want 4", n, err)
	}
}

func TestExpiredExportsAreCleanedUpBySchedule(t *testing.T) {
	var offset atomic.Int64 // the workers' clock runs ahead by this much
	dev := testenv.StartTemporal(t)
	s := startStack(t, stackOptions{
		temporalHostPort: dev.FrontendHostPort(),
		workers:          "all", ratePerSec: 1000, ratePerMin: 100000,
		now: func() time.Time { return time.Now().Add(time.Duration(offset.Load())) },
	}, true)
	c := s.newUser(t, "user-ttl")
	var ids []string
	for range 3 {
		r, _ := c.startExport(map[string]any{"format": "csv", "columns": []string{"a"}, "rows": [][]any{{"1"}}})
		if done := c.waitRun(r.ID); done.Status != "succeeded" {
			t.Fatalf("export: %s", done.Status)
		}
		ids = append(ids, r.ID)
	}
	ctx := context.Background()
	if err := worker.EnsureSchedules(ctx, s.App.Temporal, worker.Schedules{CleanupEvery: time.Hour}); err != nil {
		t.Fatal(err)
	}
	if err := worker.EnsureSchedules(ctx, s.App.Temporal, worker.Schedules{CleanupEvery: 2 * time.Hour}); err != nil {
		t.Fatalf("ensuring an existing schedule again: %v", err)
	}
	h := s.App.Temporal.ScheduleClient().GetHandle(ctx, groundwork.ScheduleExportsCleanup)
	// Nothing has expired yet: a run of the schedule deletes nothing.
	if err := h.Trigger(ctx, clientTrigger()); err != nil {
		t.Fatal(err)
	}
	waitScheduleRuns(t, s.App.Temporal, h, 1)
	q := sqlc.New(s.App.Pool)
	for _, id := range ids {
		if _, err := q.ExportGet(ctx, id); err != nil {
			t.Fatalf("unexpired export %s deleted: %v", id, err)
		}
	}
	offset.Store(int64(25 * time.Hour))
	if err := h.Trigger(ctx, clientTrigger()); err != nil {
		t.Fatal(err)
	}
	waitScheduleRuns(t, s.App.Temporal, h, 2)
	for _, id := range ids {
		if _, err := q.ExportGet(ctx, id); err == nil {
			t.Errorf("expired export %s still in Postgres", id)
		}
		it := s.App.Bucket.List(&blob.ListOptions{Prefix: activities.ExportBlobPrefix(id)})
		if obj, err := it.Next(ctx); err == nil {
			t.Errorf("expired export blob %s still stored", obj.Key)
		}
		r := c.getRun(id)
		if r.Result["expired"] != true || r.Result["download_url"] != nil {
			t.Errorf("run result after expiry: %v", r.Result)
		}
		if dl := c.do(http.MethodGet, "/v1/exports/"+id+"/download", nil); dl.Status != http.StatusNotFound {
			t.Errorf("download after expiry: %d", dl.Status)
		}
	}
}

func clientTrigger() client.ScheduleTriggerOptions {
	return client.ScheduleTriggerOptions{Overlap: enums.SCHEDULE_OVERLAP_POLICY_ALLOW_ALL}
}

// waitScheduleRuns waits until the schedule has started n workflows and
// the last of them finished successfully.
func waitScheduleRuns(t *testing.T, c client.Client, h client.ScheduleHandle, n int) {
	t.Helper()
	ctx := context.Background()
	var last *client.ScheduleWorkflowExecution
	testenv.Eventually(t, 30*time.Second, "the schedule to start its run", func() bool {
		d, err := h.Describe(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(d.Info.RecentActions) < n {
			return false
		}
		last = d.Info.RecentActions[len(d.Info.RecentActions)-1].StartWorkflowResult
		return true
	})
	var res groundwork.CleanupResult
	if err := c.GetWorkflow(ctx, last.WorkflowID, last.FirstExecutionRunID).Get(ctx, &res); err != nil {
		t.Fatalf("cleanup run: %v", err)
	}
}
