package airtable

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"testing"
)

func TestWritesOverTenRecordsAreRefusedBeforeAnyRequest(t *testing.T) {
	c, s := newStub(t, fixed(200, `{"records":[]}`))
	waits := 0
	c.Wait = func(context.Context, string) error { waits++; return nil }
	fields := make([]map[string]any, MaxBatch+1)
	recs := make([]Record, MaxBatch+1)
	ids := make([]string, MaxBatch+1)
	for i := range ids {
		fields[i] = map[string]any{"Name": fmt.Sprint(i)}
		ids[i] = fmt.Sprintf("rec%014d", i)
		recs[i] = Record{ID: ids[i], Fields: fields[i]}
	}
	ctx := context.Background()
	calls := map[string]func() error{
		"Create": func() error { _, err := c.Create(ctx, "appA", "People", fields, false); return err },
		"Update": func() error { _, err := c.Update(ctx, "appA", "People", recs, false); return err },
		"Upsert": func() error {
			_, err := c.Upsert(ctx, "appA", "People", []string{"Name"}, fields, false)
			return err
		},
		"Delete": func() error { _, err := c.Delete(ctx, "appA", "People", ids); return err },
	}
	for name, call := range calls {
		err := call()
		if !errors.Is(err, ErrBatchTooLarge) {
			t.Errorf("%s of 11: err = %v, want ErrBatchTooLarge", name, err)
		}
		if IsRetryable(err) {
			t.Errorf("%s of 11: error is retryable", name)
		}
	}
	if n := len(s.requests()); n != 0 || waits != 0 {
		t.Errorf("%d requests and %d waits for oversized batches, want none", n, waits)
	}
}

func TestEmptyWritesSendNothing(t *testing.T) {
	c, s := newStub(t, fixed(500, `{}`))
	ctx := context.Background()
	if recs, err := c.Create(ctx, "appA", "People", nil, false); err != nil || recs != nil {
		t.Errorf("Create(nil) = %v, %v", recs, err)
	}
	if recs, err := c.Update(ctx, "appA", "People", nil, false); err != nil || recs != nil {
		t.Errorf("Update(nil) = %v, %v", recs, err)
	}
	if res, err := c.Upsert(ctx, "appA", "People", []string{"Name"}, nil, false); err != nil || res.Records != nil {
		t.Errorf("Upsert(nil) = %v, %v", res, err)
	}
	if ids, err := c.Delete(ctx, "appA", "People", nil); err != nil || ids != nil {
		t.Errorf("Delete(nil) = %v, %v", ids, err)
	}
	if n := len(s.requests()); n != 0 {
		t.Errorf("%d requests for empty batches", n)
	}
}

func TestCreateSendsRecordsAndTypecast(t *testing.T) {
	c, s := newStub(t, fixed(200, `{"records":[
		{"id":"recA","createdTime":"2024-03-01T10:00:00.000Z","fields":{"Name":"a"}},
		{"id":"recB","createdTime":"2024-03-01T10:00:00.000Z","fields":{}}]}`))
	got, err := c.Create(context.Background(), "appA", "People", []map[string]any{{"Name": "a"}, nil}, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].ID != "recA" || got[1].ID != "recB" {
		t.Errorf("records = %+v", got)
	}
	r := onlyRequest(t, s)
	if r.Method != http.MethodPost || r.EscapedPath != "/v0/appA/People" {
		t.Errorf("request = %s %s, want POST /v0/appA/People", r.Method, r.EscapedPath)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	if want := `{"records":[{"fields":{"Name":"a"}},{"fields":{}}],"typecast":true}`; string(r.Body) != want {
		t.Errorf("body = %s\nwant   %s", r.Body, want)
	}
}

func TestUpdateSendsOnlyIDsAndFields(t *testing.T) {
	c, s := newStub(t, fixed(200, `{"records":[{"id":"recA","createdTime":"2024-03-01T10:00:00.000Z","fields":{"Name":"b"}}]}`))
	recs := []Record{{ID: "recA", Fields: map[string]any{"Name": "b", "Notes": nil}}}
	recs[0].CreatedTime = recs[0].CreatedTime.AddDate(2020, 0, 0) // must not be sent
	got, err := c.Update(context.Background(), "appA", "People", recs, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Fields["Name"] != "b" {
		t.Errorf("records = %+v", got)
	}
	r := onlyRequest(t, s)
	if r.Method != http.MethodPatch {
		t.Errorf("method = %s, want PATCH", r.Method)
	}
	if want := `{"records":[{"id":"recA","fields":{"Name":"b","Notes":null}}]}`; string(r.Body) != want {
		t.Errorf("body = %s\nwant   %s", r.Body, want)
	}

	if _, err := c.Update(context.Background(), "appA", "People", []Record{{Fields: map[string]any{}}}, false); err == nil {
		t.Error("update of a record without ID: no error")
	}
	if n := len(s.requests()); n != 1 {
		t.Errorf("a record without ID was sent (%d requests)", n)
	}
}

func TestUpsert(t *testing.T) {
	c, s := newStub(t, fixed(200, `{"records":[
		{"id":"recOld","createdTime":"2024-01-01T00:00:00.000Z","fields":{"Email":"a@x","Name":"A"}},
		{"id":"recNew","createdTime":"2024-03-01T00:00:00.000Z","fields":{"Email":"b@x","Name":"B"}}],
		"createdRecords":["recNew"],"updatedRecords":["recOld"]}`))
	recs := []map[string]any{{"Email": "a@x", "Name": "A"}, {"Email": "b@x", "Name": "B"}}
	res, err := c.Upsert(context.Background(), "appA", "People", []string{"Email"}, recs, true)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.Created, []string{"recNew"}) || !slices.Equal(res.Updated, []string{"recOld"}) {
		t.Errorf("created %v, updated %v", res.Created, res.Updated)
	}
	if len(res.Records) != 2 || res.Records[1].ID != "recNew" {
		t.Errorf("records = %+v", res.Records)
	}
	r := onlyRequest(t, s)
	if r.Method != http.MethodPatch || r.EscapedPath != "/v0/appA/People" {
		t.Errorf("request = %s %s, want PATCH /v0/appA/People", r.Method, r.EscapedPath)
	}
	want := `{"performUpsert":{"fieldsToMergeOn":["Email"]},"records":[{"fields":{"Email":"a@x","Name":"A"}},` +
		`{"fields":{"Email":"b@x","Name":"B"}}],"typecast":true}`
	if string(r.Body) != want {
		t.Errorf("body = %s\nwant   %s", r.Body, want)
	}

	for _, mergeOn := range [][]string{nil, {"a", "b", "c", "d"}} {
		if _, err := c.Upsert(context.Background(), "appA", "People", mergeOn, recs, false); err == nil {
			t.Errorf("upsert merging on %q: no error", mergeOn)
		}
	}
	if n := len(s.requests()); n != 1 {
		t.Errorf("bad merge fields were sent (%d requests)", n)
	}
}

func TestDelete(t *testing.T) {
	c, s := newStub(t, fixed(200, `{"records":[{"id":"recA","deleted":true},{"id":"recB","deleted":true}]}`))
	got, err := c.Delete(context.Background(), "appA", "People", []string{"recA", "recB"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, []string{"recA", "recB"}) {
		t.Errorf("deleted = %v", got)
	}
	r := onlyRequest(t, s)
	if r.Method != http.MethodDelete || r.EscapedPath != "/v0/appA/People" {
		t.Errorf("request = %s %s, want DELETE /v0/appA/People", r.Method, r.EscapedPath)
	}
	if got := r.Query["records[]"]; !slices.Equal(got, []string{"recA", "recB"}) || len(r.Query) != 1 {
		t.Errorf("query = %v, want records[]=recA&records[]=recB", r.Query)
	}
	if len(r.Body) != 0 {
		t.Errorf("DELETE has a body: %s", r.Body)
	}
}
