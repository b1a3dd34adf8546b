package airtable

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestListPageFollowsOffsets(t *testing.T) {
	c, s := newStub(t, func(w http.ResponseWriter, r seen) {
		switch r.Query.Get("offset") {
		case "":
			reply(w, 200, `{"records":[
				{"id":"rec1","createdTime":"2024-03-01T10:00:00.000Z","fields":{"Name":"a","Age":3}},
				{"id":"rec2","createdTime":"2024-03-01T10:00:01.000Z","fields":{"Name":"b","Age":4.5}}],
				"offset":"itr1/rec2"}`)
		case "itr1/rec2":
			reply(w, 200, `{"records":[{"id":"rec3","createdTime":"2024-03-01T10:00:02.000Z","fields":{}}]}`)
		default:
			reply(w, 422, `{"error":{"type":"LIST_RECORDS_ITERATOR_NOT_AVAILABLE","message":"gone"}}`)
		}
	})
	opts := ListOptions{Fields: []string{"Name", "Age"}, PageSize: 2, Sort: []Sort{{Field: "Age", Direction: "desc"}}}
	var ids []string
	for page := 0; ; page++ {
		if page > 3 {
			t.Fatal("paging does not end")
		}
		p, err := c.ListPage(context.Background(), "appA", "People", opts)
		if err != nil {
			t.Fatalf("page %d: %v", page, err)
		}
		for _, r := range p.Records {
			ids = append(ids, r.ID)
		}
		if p.Offset == "" {
			break
		}
		opts.Offset = p.Offset
	}
	if want := []string{"rec1", "rec2", "rec3"}; !slices.Equal(ids, want) {
		t.Errorf("ids = %v, want %v", ids, want)
	}
	reqs := s.requests()
	if len(reqs) != 2 {
		t.Fatalf("got %d requests, want 2", len(reqs))
	}
	first := reqs[0]
	if first.Method != http.MethodGet || first.EscapedPath != "/v0/appA/People" {
		t.Errorf("request = %s %s, want GET /v0/appA/People", first.Method, first.EscapedPath)
	}
	for key, want := range map[string][]string{
		"fields[]": {"Name", "Age"}, "pageSize": {"2"}, "sort[0][field]": {"Age"}, "sort[0][direction]": {"desc"},
	} {
		if got := first.Query[key]; !slices.Equal(got, want) {
			t.Errorf("query %s = %q, want %q", key, got, want)
		}
	}
	if first.Query.Has("offset") || first.Query.Has("returnFieldsByFieldId") || first.Query.Has("filterByFormula") {
		t.Errorf("first page sent unset options: %v", first.Query)
	}
	if got := reqs[1].Query.Get("offset"); got != "itr1/rec2" {
		t.Errorf("second page offset = %q, want itr1/rec2", got)
	}
}

func TestListPageDecodesRecords(t *testing.T) {
	c, _ := newStub(t, fixed(200, `{"records":[{"id":"rec1","createdTime":"2024-03-01T10:00:00.123Z",
		"fields":{"Age":12345678901234567,"Tags":["x","y"],"Done":true}}]}`))
	p, err := c.ListPage(context.Background(), "appA", "People", ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Records) != 1 || p.Offset != "" {
		t.Fatalf("page = %+v, want one record and no offset", p)
	}
	r := p.Records[0]
	if want := time.Date(2024, 3, 1, 10, 0, 0, 123e6, time.UTC); !r.CreatedTime.Equal(want) {
		t.Errorf("CreatedTime = %v, want %v", r.CreatedTime, want)
	}
	// Numbers stay exact: a float64 would round this one.
	if got := r.Fields["Age"]; got != json.Number("12345678901234567") {
		t.Errorf("Age = %#v, want json.Number 12345678901234567", got)
	}
	if got := mustJSON(t, r.Fields["Tags"]); got != `["x","y"]` {
		t.Errorf("Tags = %s", got)
	}
}

func TestListPageSendsLongFormulasInABody(t *testing.T) {
	short := "LEN({Name}) > " + strings.Repeat("1", longFormula-len("LEN({Name}) > "))
	long := short + "1"
	c, s := newStub(t, fixed(200, `{"records":[]}`))

	if _, err := c.ListPage(context.Background(), "appA", "People", ListOptions{FilterByFormula: short}); err != nil {
		t.Fatal(err)
	}
	get := onlyRequest(t, s)
	if get.Method != http.MethodGet || get.Query.Get("filterByFormula") != short {
		t.Errorf("a %d-character formula went as %s with query %.60v…", len(short), get.Method, get.Query)
	}

	opts := ListOptions{FilterByFormula: long, Fields: []string{"Name"}, PageSize: 50, Offset: "itr/rec",
		ReturnFieldsByFieldID: true, Sort: []Sort{{Field: "Name"}}}
	if _, err := c.ListPage(context.Background(), "appA", "People", opts); err != nil {
		t.Fatal(err)
	}
	post := s.requests()[1]
	if post.Method != http.MethodPost || post.EscapedPath != "/v0/appA/People/listRecords" {
		t.Fatalf("a %d-character formula went as %s %s, want POST …/listRecords", len(long), post.Method, post.EscapedPath)
	}
	if len(post.Query) != 0 {
		t.Errorf("POST carries a query too: %v", post.Query)
	}
	if ct := post.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	body := post.bodyJSON(t)
	want := map[string]any{"filterByFormula": long, "fields": []any{"Name"}, "pageSize": 50.0, "offset": "itr/rec",
		"returnFieldsByFieldId": true, "sort": []any{map[string]any{"field": "Name"}}}
	if mustJSON(t, body) != mustJSON(t, want) {
		t.Errorf("body = %s\nwant   %s", mustJSON(t, body), mustJSON(t, want))
	}
}

func TestListPageRejectsBadPageSize(t *testing.T) {
	c, s := newStub(t, fixed(200, `{"records":[]}`))
	for _, n := range []int{-1, MaxPageSize + 1} {
		if _, err := c.ListPage(context.Background(), "appA", "People", ListOptions{PageSize: n}); err == nil {
			t.Errorf("page size %d: no error", n)
		}
	}
	if n := len(s.requests()); n != 0 {
		t.Errorf("%d requests sent for bad page sizes", n)
	}
}
