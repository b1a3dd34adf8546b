package airtable

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
)

func TestEveryRequestWaitsOnceForItsBase(t *testing.T) {
	c, s := newStub(t, func(w http.ResponseWriter, r seen) {
		switch r.Method {
		case http.MethodDelete:
			reply(w, 200, `{"records":[{"id":"rec1","deleted":true}]}`)
		case http.MethodGet:
			reply(w, 200, `{"records":[],"tables":[]}`)
		default:
			reply(w, 200, `{"records":[{"id":"rec1","createdTime":"2024-03-01T00:00:00.000Z","fields":{}}]}`)
		}
	})
	var bases []string
	c.Wait = func(_ context.Context, baseID string) error {
		// A wait must come before the request it admits.
		if got := len(s.requests()); got != len(bases) {
			t.Errorf("wait %d came after %d requests", len(bases)+1, got)
		}
		bases = append(bases, baseID)
		return nil
	}
	ctx := context.Background()
	fields := []map[string]any{{"Name": "a"}}
	steps := []func() error{
		func() error { _, err := c.ListPage(ctx, "appA", "People", ListOptions{}); return err },
		func() error {
			_, err := c.ListPage(ctx, "appB", "People", ListOptions{FilterByFormula: strings.Repeat("x", 2000)})
			return err
		},
		func() error { _, err := c.Create(ctx, "appA", "People", fields, false); return err },
		func() error { _, err := c.Update(ctx, "appA", "People", []Record{{ID: "rec1"}}, false); return err },
		func() error { _, err := c.Upsert(ctx, "appA", "People", []string{"Name"}, fields, false); return err },
		func() error { _, err := c.Delete(ctx, "appA", "People", []string{"rec1"}); return err },
		func() error { _, err := c.Tables(ctx, "appC"); return err },
	}
	for i, step := range steps {
		if err := step(); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	if want := []string{"appA", "appB", "appA", "appA", "appA", "appA", "appC"}; !slices.Equal(bases, want) {
		t.Errorf("waited for %v, want %v", bases, want)
	}
	if n := len(s.requests()); n != len(steps) {
		t.Errorf("%d requests, want %d", n, len(steps))
	}
}

func TestWaitErrorAbortsTheRequest(t *testing.T) {
	c, s := newStub(t, fixed(200, `{"records":[]}`))
	limiterErr := errors.New("rate: Wait(n=1) would exceed context deadline")
	c.Wait = func(context.Context, string) error { return limiterErr }
	_, err := c.ListPage(context.Background(), "appA", "People", ListOptions{})
	if !errors.Is(err, limiterErr) {
		t.Errorf("err = %v, want the Wait error", err)
	}
	if IsRetryable(err) {
		t.Errorf("a failed wait is reported as a retryable Airtable error")
	}
	if n := len(s.requests()); n != 0 {
		t.Errorf("%d requests sent after Wait failed", n)
	}
}

func TestHeaders(t *testing.T) {
	c, s := newStub(t, fixed(200, `{"records":[]}`))
	if _, err := c.ListPage(context.Background(), "appA", "People", ListOptions{}); err != nil {
		t.Fatal(err)
	}
	c.UserAgent = "groundwork-sync/1.0"
	if _, err := c.Create(context.Background(), "appA", "People", []map[string]any{{}}, false); err != nil {
		t.Fatal(err)
	}
	reqs := s.requests()
	for i, wantUA := range []string{defaultUserAgent, "groundwork-sync/1.0"} {
		h := reqs[i].Header
		if got := h.Get("Authorization"); got != "Bearer "+testToken {
			t.Errorf("request %d: Authorization = %q", i, got)
		}
		if got := h.Get("User-Agent"); got != wantUA {
			t.Errorf("request %d: User-Agent = %q, want %q", i, got, wantUA)
		}
	}
	if got := reqs[1].Header.Get("Content-Type"); got != "application/json" {
		t.Errorf("write Content-Type = %q", got)
	}
}

func TestMissingTokenSendsNothing(t *testing.T) {
	c, s := newStub(t, fixed(200, `{"records":[]}`))
	c.Token = ""
	if _, err := c.ListPage(context.Background(), "appA", "People", ListOptions{}); err == nil {
		t.Error("no error without a token")
	}
	if n := len(s.requests()); n != 0 {
		t.Errorf("%d requests sent without a token", n)
	}
}

func TestPathSegmentsAreEscaped(t *testing.T) {
	c, s := newStub(t, fixed(200, `{"records":[]}`))
	const table = "Customers & Co/2024"
	const want = "/v0/appA/Customers%20&%20Co%2F2024"
	ctx := context.Background()
	if _, err := c.ListPage(ctx, "appA", table, ListOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ListPage(ctx, "appA", table, ListOptions{FilterByFormula: strings.Repeat("x", longFormula+1)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Delete(ctx, "appA", table, []string{"rec1"}); err != nil {
		t.Fatal(err)
	}
	reqs := s.requests()
	for i, wantPath := range []string{want, want + "/listRecords", want} {
		if reqs[i].EscapedPath != wantPath {
			t.Errorf("request %d path = %s, want %s", i, reqs[i].EscapedPath, wantPath)
		}
	}
	if _, err := c.ListPage(ctx, "appA", "", ListOptions{}); err == nil {
		t.Error("empty table name: no error")
	}
}

func TestTables(t *testing.T) {
	c, s := newStub(t, fixed(200, `{"tables":[{"id":"tblP","name":"People","primaryFieldId":"fldN","fields":[
		{"id":"fldN","name":"Name","type":"singleLineText"},
		{"id":"fldS","name":"Status","type":"singleSelect","options":{"choices":[{"id":"selA","name":"Active"}]}}],
		"views":[{"id":"viw1","name":"Grid view","type":"grid"}]}]}`))
	tables, err := c.Tables(context.Background(), "appA")
	if err != nil {
		t.Fatal(err)
	}
	if r := onlyRequest(t, s); r.Method != http.MethodGet || r.EscapedPath != "/v0/meta/bases/appA/tables" {
		t.Errorf("request = %s %s", r.Method, r.EscapedPath)
	}
	if len(tables) != 1 || tables[0].ID != "tblP" || tables[0].Name != "People" || tables[0].PrimaryFieldID != "fldN" {
		t.Fatalf("tables = %+v", tables)
	}
	f := tables[0].Fields
	if len(f) != 2 || f[1].Type != TypeSingleSelect || string(f[1].Options) != `{"choices":[{"id":"selA","name":"Active"}]}` {
		t.Errorf("fields = %+v", f)
	}
	if f[0].Options != nil {
		t.Errorf("options of a field without options = %s", f[0].Options)
	}
}
