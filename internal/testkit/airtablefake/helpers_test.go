package airtablefake

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"
)

const testBase = "appTestBase00001"

// unlimited turns the rate limits off for tests about something else.
var unlimited = Options{PerBase: -1, PerToken: -1}

// fakeClock is a settable Options.Now.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *fakeClock {
	return &fakeClock{t: time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// newFake starts a fake with a Companies table and a People table that has
// a field of every type.
func newFake(t *testing.T, opts Options) *Server {
	t.Helper()
	s := New(opts)
	t.Cleanup(s.Close)
	s.CreateTable(testBase, TableSpec{Name: "Companies", Fields: []FieldSpec{{Name: "Name", Type: TypeSingleLineText}}})
	s.CreateTable(testBase, TableSpec{Name: "People", Fields: []FieldSpec{
		{Name: "Name", Type: TypeSingleLineText},
		{Name: "Email", Type: TypeEmail},
		{Name: "Age", Type: TypeNumber},
		{Name: "Score", Type: TypeNumber, Precision: 2},
		{Name: "Active", Type: TypeCheckbox},
		{Name: "Born", Type: TypeDate},
		{Name: "Seen", Type: TypeDateTime},
		{Name: "Status", Type: TypeSingleSelect, Choices: []string{"Todo", "Doing", "Done"}},
		{Name: "Tags", Type: TypeMultipleSelects, Choices: []string{"a", "b", "c"}},
		{Name: "Company", Type: TypeMultipleRecordLinks, LinkedTable: "Companies"},
		{Name: "Notes", Type: TypeMultilineText},
		{Name: "Site", Type: TypeURL},
		{Name: "Last Modified", Type: TypeLastModifiedTime},
		{Name: "Created", Type: TypeCreatedTime},
	}})
	return s
}

// response is a decoded API answer.
type response struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

// errType is the type of an Airtable error body, "" for anything else.
func (r response) errType() string {
	e, _ := r.body["error"].(map[string]any)
	typ, _ := e["type"].(string)
	return typ
}

func (r response) records() []map[string]any {
	list, _ := r.body["records"].([]any)
	out := make([]map[string]any, len(list))
	for i, item := range list {
		out[i], _ = item.(map[string]any)
	}
	return out
}

// call sends a request with the default token; a non-nil body is sent as
// JSON.
func call(t *testing.T, s *Server, method, path string, body any) response {
	t.Helper()
	return callAs(t, s, DefaultToken, method, path, body)
}

func callAs(t *testing.T, s *Server, token, method, path string, body any) response {
	t.Helper()
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			t.Fatalf("encode body: %v", err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, s.URL()+path, rd)
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return send(t, req)
}

func send(t *testing.T, req *http.Request) response {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	out := response{status: resp.StatusCode, header: resp.Header, raw: string(data)}
	if err := json.Unmarshal(data, &out.body); err != nil {
		t.Fatalf("%s %s: body is not a JSON object: %q", req.Method, req.URL, data)
	}
	return out
}

// wantError fails unless r is the given Airtable error.
func wantError(t *testing.T, r response, status int, typ string) {
	t.Helper()
	if r.status != status || r.errType() != typ {
		t.Fatalf("got %d %s, want %d %s", r.status, r.raw, status, typ)
	}
}

func wantOK(t *testing.T, r response) {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("got %d %s, want 200", r.status, r.raw)
	}
}

// fieldsOf wraps field maps as a records array.
func fieldsOf(list ...map[string]any) []map[string]any {
	out := make([]map[string]any, len(list))
	for i, f := range list {
		out[i] = map[string]any{"fields": f}
	}
	return out
}

// names lists the Name field of records, in order.
func names(recs []map[string]any) []string {
	out := []string{}
	for _, r := range recs {
		f, _ := r["fields"].(map[string]any)
		n, _ := f["Name"].(string)
		out = append(out, n)
	}
	return out
}
