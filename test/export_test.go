package test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/groundwork-dev/groundwork/internal/testkit/testenv"
)

// bigTable builds a rows×cols table whose cells mix text, UTF-8, quotes,
// newlines, numbers, booleans, nulls and formula-looking strings.
func bigTable(rows, cols int) ([]string, [][]any) {
	columns := make([]string, cols)
	for j := range columns {
		columns[j] = fmt.Sprintf("col %d", j)
	}
	data := make([][]any, rows)
	for i := range data {
		row := make([]any, cols)
		for j := range row {
			switch (i + j) % 9 {
			case 0:
				row[j] = fmt.Sprintf("r%d c%d", i, j)
			case 1:
				row[j] = "Café – naïve “quotes”"
			case 2:
				row[j] = `say "hi", then
leave`
			case 3:
				row[j] = json.Number(strconv.Itoa(i*1000 + j))
			case 4:
				row[j] = "=HYPERLINK(\"http://evil\")"
			case 5:
				row[j] = "@SUM(A1)"
			case 6:
				row[j] = nil
			case 7:
				row[j] = true
			default:
				row[j] = "-" + strconv.Itoa(i)
			}
		}
		data[i] = row
	}
	return columns, data
}

// expectedCSV is what the export must contain, computed independently of
// the renderer: strings starting with = + - @ get a leading quote.
func expectedCSV(columns []string, rows [][]any) [][]string {
	neutral := func(s string) string {
		if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
			return "'" + s
		}
		return s
	}
	out := [][]string{columns}
	for _, row := range rows {
		rec := make([]string, len(row))
		for j, v := range row {
			switch v := v.(type) {
			case nil:
				rec[j] = ""
			case string:
				rec[j] = neutral(v)
			case json.Number:
				rec[j] = v.String()
			case bool:
				rec[j] = strconv.FormatBool(v)
			}
		}
		out = append(out, rec)
	}
	return out
}

func TestExportCSV10kRowsRoundTrip(t *testing.T) {
	s := sharedStack(t)
	c := s.newUser(t, "user-big-csv")
	columns, rows := bigTable(10_000, 10)
	r, resp := c.startExport(map[string]any{"format": "csv", "filename": "big report", "columns": columns, "rows": rows})
	if resp.Status != http.StatusAccepted {
		t.Fatalf("start: %d %s", resp.Status, resp.Body)
	}
	if loc := resp.Header.Get("Location"); loc != "/v1/runs/"+r.ID {
		t.Fatalf("Location = %q", loc)
	}
	done := c.waitRun(r.ID)
	if done.Status != "succeeded" {
		t.Fatalf("run ended %s: %+v", done.Status, done.Error)
	}
	if got := done.Progress["percent"]; got != float64(100) {
		t.Errorf("final percent = %v", got)
	}
	if done.Result["filename"] != "big report.csv" || done.Result["rows"] != float64(10_000) {
		t.Errorf("result = %v", done.Result)
	}

	// Download with the bearer token.
	dl := c.do(http.MethodGet, "/v1/exports/"+r.ID+"/download", nil)
	if dl.Status != http.StatusOK {
		t.Fatalf("download: %d %s", dl.Status, dl.Body)
	}
	if ct := dl.Header.Get("Content-Type"); ct != "text/csv; charset=utf-8" {
		t.Errorf("Content-Type = %q", ct)
	}
	if cd := dl.Header.Get("Content-Disposition"); cd != `attachment; filename="big report.csv"` {
		t.Errorf("Content-Disposition = %q", cd)
	}
	if !bytes.Contains(dl.Body, []byte("\r\n")) {
		t.Error("CSV lines must end in CRLF (RFC 4180)")
	}
	got, err := csv.NewReader(bytes.NewReader(dl.Body)).ReadAll()
	if err != nil {
		t.Fatalf("parse downloaded csv: %v", err)
	}
	want := expectedCSV(columns, rows)
	if len(got) != len(want) {
		t.Fatalf("got %d records, want %d", len(got), len(want))
	}
	for i := range want {
		if strings.Join(got[i], "\x00") != strings.Join(want[i], "\x00") {
			t.Fatalf("record %d:\n got %q\nwant %q", i, got[i], want[i])
		}
	}
	if size := done.Result["size_bytes"]; size != float64(len(dl.Body)) {
		t.Errorf("size_bytes %v, downloaded %d", size, len(dl.Body))
	}

	// The signed link works without a token, and supports Range.
	link := done.Result["download_url"].(string)
	req, _ := http.NewRequest(http.MethodGet, link, nil)
	req.Header.Set("Range", "bytes=0-9")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	part, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusPartialContent || !bytes.Equal(part, dl.Body[:10]) {
		t.Fatalf("range via signed link: %d %q", res.StatusCode, part)
	}
	// Conditional request with the ETag.
	notModified := c.do(http.MethodGet, "/v1/exports/"+r.ID+"/download", nil, "If-None-Match", dl.Header.Get("ETag"))
	if notModified.Status != http.StatusNotModified {
		t.Errorf("If-None-Match: %d", notModified.Status)
	}
	// A tampered link is refused.
	tampered := strings.Replace(link, "signature=", "signature=x", 1)
	res, err = http.Get(tampered)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized {
		t.Errorf("tampered link: %d", res.StatusCode)
	}
}

func TestOtherUsersRunsAreNotFound(t *testing.T) {
	s := sharedStack(t)
	alice := s.newUser(t, "alice")
	mallory := s.newUser(t, "mallory")
	r, resp := alice.startExport(map[string]any{"format": "csv", "columns": []string{"a"}, "rows": [][]any{{"1"}}})
	if resp.Status != http.StatusAccepted {
		t.Fatalf("start: %d %s", resp.Status, resp.Body)
	}
	if done := alice.waitRun(r.ID); done.Status != "succeeded" {
		t.Fatalf("run: %s", done.Status)
	}
	for _, probe := range []struct{ method, path string }{
		{http.MethodGet, "/v1/runs/" + r.ID},
		{http.MethodGet, "/v1/runs/" + r.ID + "/events"},
		{http.MethodPost, "/v1/runs/" + r.ID + "/cancel"},
		{http.MethodGet, "/v1/exports/" + r.ID + "/download"},
	} {
		got := mallory.do(probe.method, probe.path, nil)
		missing := mallory.do(probe.method, strings.Replace(probe.path, r.ID, "export-01JD4X7Q2W6ZC5D3V9N8K1M2P3", 1), nil)
		if got.Status != http.StatusNotFound || !isProblem(got) {
			t.Errorf("%s %s as another user: %d %s", probe.method, probe.path, got.Status, got.Body)
		}
		if got.Status != missing.Status || !bytes.Equal(got.Body, missing.Body) {
			t.Errorf("another user's run must look like a missing one:\n%s\n%s", got.Body, missing.Body)
		}
	}
	if runs := mallory.listRuns(); len(runs) != 0 {
		t.Errorf("mallory lists %d runs", len(runs))
	}
}

func TestBadExportInputIsRefusedWithoutStartingWork(t *testing.T) {
	s := sharedStack(t)
	c := s.newUser(t, "user-bad-input")
	cases := []struct {
		name   string
		body   string
		status int
		slug   string
		field  string
	}{
		{"malformed json", `{"format": "csv",`, 400, "malformed_request", ""},
		{"unknown field", `{"format":"csv","columns":["a"],"rows":[["1"]],"colour":"red"}`, 400, "unknown_field", "colour"},
		{"wrong type", `{"format":"csv","columns":"a","rows":[["1"]]}`, 422, "validation_failed", "columns"},
		{"unknown format", `{"format":"xlsx","columns":["a"],"rows":[["1"]]}`, 422, "validation_failed", "format"},
		{"table and document", `{"format":"pdf","columns":["a"],"rows":[["1"]],"document":{"title":"t","blocks":[{"type":"page_break"}]}}`, 422, "validation_failed", "document"},
		{"bad block", `{"format":"pdf","document":{"title":"t","blocks":[{"type":"heading","level":7,"text":"x"}]}}`, 422, "validation_failed", "document.blocks[0].level"},
		{"bad image", `{"format":"docx","document":{"title":"t","blocks":[{"type":"image","data_base64":"aGVsbG8="}]}}`, 422, "validation_failed", "document.blocks[0].data_base64"},
		{"unsafe link", `{"format":"pdf","document":{"title":"t","blocks":[{"type":"paragraph","spans":[{"text":"x","link":"javascript:alert(1)"}]}]}}`, 422, "validation_failed", "document.blocks[0].spans[0].link"},
		{"no rows", `{"format":"csv","columns":["a"],"rows":[]}`, 422, "validation_failed", "rows"},
		{"ragged row", `{"format":"csv","columns":["a","b"],"rows":[["1","2"],["3"]]}`, 422, "validation_failed", "rows[1]"},
		{"object cell", `{"format":"csv","columns":["a"],"rows":[[{"x":1}]]}`, 422, "validation_failed", "rows[0][0]"},
		{"empty column name", `{"format":"csv","columns":[""],"rows":[["1"]]}`, 422, "validation_failed", "columns[0]"},
		{"oversized body", `{"format":"csv","columns":["a"],"rows":[["` + strings.Repeat("x", 17<<20) + `"]]}`, 413, "body_too_large", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp := c.do(http.MethodPost, "/v1/exports", []byte(tc.body))
			if resp.Status != tc.status || !isProblem(resp) {
				t.Fatalf("status %d (want %d), content type %q: %.300s", resp.Status, tc.status, resp.Header.Get("Content-Type"), resp.Body)
			}
			var p problemDoc
			resp.json(t, &p)
			if p.Type != "https://groundwork.dev/problems/"+tc.slug {
				t.Errorf("type = %q, want slug %q", p.Type, tc.slug)
			}
			if tc.field != "" {
				found := false
				for _, e := range p.Errors {
					found = found || e.Field == tc.field
				}
				if !found {
					t.Errorf("no error names field %q: %+v", tc.field, p.Errors)
				}
			}
		})
	}
	if runs := c.listRuns(); len(runs) != 0 {
		t.Fatalf("bad input recorded %d runs", len(runs))
	}
	// Visibility must be able to see this user's workflows for the zero
	// above to mean anything: one good export shows up as exactly one.
	good, resp := c.startExport(map[string]any{"format": "csv", "columns": []string{"a"}, "rows": [][]any{{"1"}}})
	if resp.Status != http.StatusAccepted {
		t.Fatalf("good export: %d %s", resp.Status, resp.Body)
	}
	c.waitRun(good.ID)
	testenv.Eventually(t, 10*time.Second, "visibility to list the good run", func() bool {
		return startedWorkflows(t, s, "user-bad-input") >= 1
	})
	if n := startedWorkflows(t, s, "user-bad-input"); n != 1 {
		t.Fatalf("%d workflows started for this user, want exactly 1", n)
	}
}

func TestIdempotencyKey(t *testing.T) {
	s := sharedStack(t)
	c := s.newUser(t, "user-idem")
	body := map[string]any{"format": "csv", "columns": []string{"a"}, "rows": [][]any{{"1"}}}
	first, resp := c.startExport(body, "Idempotency-Key", "k1")
	if resp.Status != http.StatusAccepted {
		t.Fatalf("first: %d %s", resp.Status, resp.Body)
	}
	second, resp := c.startExport(body, "Idempotency-Key", "k1")
	if resp.Status != http.StatusAccepted || second.ID != first.ID {
		t.Fatalf("replay: %d id %q want %q", resp.Status, second.ID, first.ID)
	}
	body["rows"] = [][]any{{"2"}}
	_, resp = c.startExport(body, "Idempotency-Key", "k1")
	if resp.Status != http.StatusConflict || !isProblem(resp) {
		t.Fatalf("reuse with another body: %d %s", resp.Status, resp.Body)
	}
	// Another user may use the same key for their own run.
	other := s.newUser(t, "user-idem-2")
	third, resp := other.startExport(body, "Idempotency-Key", "k1")
	if resp.Status != http.StatusAccepted || third.ID == first.ID {
		t.Fatalf("other user's key: %d %q", resp.Status, third.ID)
	}
}

func TestListRunsPaginates(t *testing.T) {
	s := sharedStack(t)
	c := s.newUser(t, "user-list")
	var ids []string
	for i := range 5 {
		r, resp := c.startExport(map[string]any{"format": "csv", "columns": []string{"n"}, "rows": [][]any{{i}}})
		if resp.Status != http.StatusAccepted {
			t.Fatalf("start %d: %d", i, resp.Status)
		}
		ids = append(ids, r.ID)
	}
	var seen []string
	cursor := ""
	for page := 0; page < 5; page++ {
		var out struct {
			Runs       []run  `json:"runs"`
			NextCursor string `json:"next_cursor"`
		}
		resp := c.do(http.MethodGet, "/v1/runs?kind=export&limit=2&cursor="+cursor, nil)
		if resp.Status != http.StatusOK {
			t.Fatalf("list: %d %s", resp.Status, resp.Body)
		}
		resp.json(t, &out)
		for _, r := range out.Runs {
			seen = append(seen, r.ID)
		}
		if out.NextCursor == "" {
			break
		}
		cursor = out.NextCursor
	}
	if len(seen) != 5 {
		t.Fatalf("saw %d runs: %v", len(seen), seen)
	}
	for i := range seen {
		if seen[i] != ids[len(ids)-1-i] {
			t.Fatalf("not newest first: %v vs %v", seen, ids)
		}
	}
	bad := c.do(http.MethodGet, "/v1/runs?limit=1000", nil)
	if bad.Status != http.StatusUnprocessableEntity {
		t.Errorf("limit=1000: %d", bad.Status)
	}
}
