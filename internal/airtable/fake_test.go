package airtable

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/groundwork-dev/groundwork/internal/testkit/airtablefake"
)

const fakeBase = "appSales"

// fakeTable has a field of every type the conversions know.
var fakeTable = airtablefake.TableSpec{Name: "Customers & Co/2024", Fields: []airtablefake.FieldSpec{
	{Name: "Name", Type: airtablefake.TypeSingleLineText},
	{Name: "Notes", Type: airtablefake.TypeMultilineText},
	{Name: "Email", Type: airtablefake.TypeEmail},
	{Name: "Age", Type: airtablefake.TypeNumber, Precision: 2},
	{Name: "Active", Type: airtablefake.TypeCheckbox},
	{Name: "Born", Type: airtablefake.TypeDate},
	{Name: "Seen", Type: airtablefake.TypeDateTime},
	{Name: "Status", Type: airtablefake.TypeSingleSelect, Choices: []string{"Lead", "Customer"}},
	{Name: "Tags", Type: airtablefake.TypeMultipleSelects, Choices: []string{"vip", "eu", "us"}},
	{Name: "Referrer", Type: airtablefake.TypeMultipleRecordLinks, LinkedTable: "Customers & Co/2024"},
	{Name: "Modified", Type: airtablefake.TypeLastModifiedTime},
}}

// newFake starts a fake with one table and returns a client for it whose
// Wait hook counts calls.
func newFake(t *testing.T, opts airtablefake.Options) (*airtablefake.Server, *Client, *int) {
	t.Helper()
	srv := airtablefake.New(opts)
	t.Cleanup(srv.Close)
	srv.CreateTable(fakeBase, fakeTable)
	var mu sync.Mutex
	waits := 0
	c := &Client{BaseURL: srv.URL(), Token: airtablefake.DefaultToken, Wait: func(context.Context, string) error {
		mu.Lock()
		defer mu.Unlock()
		waits++
		return nil
	}}
	return srv, c, &waits
}

var unlimited = airtablefake.Options{PerBase: -1, PerToken: -1}

func TestFakePaging(t *testing.T) {
	srv, c, waits := newFake(t, unlimited)
	var want []string
	for i := range 250 {
		want = append(want, srv.Insert(fakeBase, fakeTable.Name, map[string]any{"Name": fmt.Sprintf("c%03d", i)}).ID)
	}
	var got []string
	opts := ListOptions{Fields: []string{"Name"}}
	for page := 0; ; page++ {
		if page > 3 {
			t.Fatal("paging does not end")
		}
		p, err := c.ListPage(context.Background(), fakeBase, fakeTable.Name, opts)
		if err != nil {
			t.Fatalf("page %d: %v", page, err)
		}
		if len(p.Records) > MaxPageSize {
			t.Fatalf("page %d has %d records", page, len(p.Records))
		}
		for _, r := range p.Records {
			got = append(got, r.ID)
		}
		if p.Offset == "" {
			break
		}
		opts.Offset = p.Offset
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("listed %d records, want the %d seeded", len(got), len(want))
	}
	if n := len(srv.Requests()); n != 3 || *waits != 3 {
		t.Errorf("%d requests and %d waits, want 3 each", n, *waits)
	}
}

func TestFakeUpsert(t *testing.T) {
	srv, c, _ := newFake(t, unlimited)
	old := srv.Insert(fakeBase, fakeTable.Name, map[string]any{"Email": "a@x.com", "Name": "A"})
	recs := []map[string]any{{"Email": "a@x.com", "Name": "A2"}, {"Email": "b@x.com", "Name": "B"}}
	res, err := c.Upsert(context.Background(), fakeBase, fakeTable.Name, []string{"Email"}, recs, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Records) != 2 || res.Records[0].ID != old.ID {
		t.Fatalf("records = %+v, want the existing one first", res.Records)
	}
	newID := res.Records[1].ID
	if !slices.Equal(res.Updated, []string{old.ID}) || !slices.Equal(res.Created, []string{newID}) {
		t.Errorf("updated %v created %v, want [%s] [%s]", res.Updated, res.Created, old.ID, newID)
	}
	if got, _ := srv.Get(fakeBase, fakeTable.Name, old.ID); got.Fields["Name"] != "A2" {
		t.Errorf("existing record's name = %v, want A2", got.Fields["Name"])
	}
	// Repeating the upsert, as a retried activity would, creates nothing.
	res, err = c.Upsert(context.Background(), fakeBase, fakeTable.Name, []string{"Email"}, recs, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Created) != 0 || len(res.Updated) != 2 || len(srv.Records(fakeBase, fakeTable.Name)) != 2 {
		t.Errorf("repeated upsert: created %v updated %v", res.Created, res.Updated)
	}
}

func TestFakeOversizedBatchNeverReachesTheServer(t *testing.T) {
	srv, c, _ := newFake(t, unlimited)
	recs := make([]map[string]any, 11)
	for i := range recs {
		recs[i] = map[string]any{"Name": fmt.Sprint(i)}
	}
	if _, err := c.Create(context.Background(), fakeBase, fakeTable.Name, recs, false); !errors.Is(err, ErrBatchTooLarge) {
		t.Errorf("err = %v, want ErrBatchTooLarge", err)
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("the fake saw %d requests", n)
	}
	// Ten is fine.
	if _, err := c.Create(context.Background(), fakeBase, fakeTable.Name, recs[:10], false); err != nil {
		t.Fatal(err)
	}
	if st := srv.Stats(); st.MaxWriteBatch != 10 {
		t.Errorf("largest batch = %d, want 10", st.MaxWriteBatch)
	}
}

func TestFakeRateLimit(t *testing.T) {
	for _, tt := range []struct {
		name       string
		opts       airtablefake.Options
		retryAfter time.Duration
	}{
		{"no Retry-After", airtablefake.Options{PerBase: 2, PerToken: -1, Window: time.Hour}, 0},
		{"Retry-After", airtablefake.Options{PerBase: 2, PerToken: -1, Window: time.Hour, Lockout: 5 * time.Minute, RetryAfter: true},
			5 * time.Minute},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, c, _ := newFake(t, tt.opts)
			for i := range 2 {
				if _, err := c.ListPage(context.Background(), fakeBase, fakeTable.Name, ListOptions{}); err != nil {
					t.Fatalf("request %d: %v", i, err)
				}
			}
			_, err := c.ListPage(context.Background(), fakeBase, fakeTable.Name, ListOptions{})
			var e *Error
			if !errors.As(err, &e) || !e.IsRateLimited() || !e.Retryable() || e.Type != "RATE_LIMIT_REACHED" {
				t.Fatalf("third request: err = %v, want RATE_LIMIT_REACHED", err)
			}
			// The header counts whole seconds down from the lockout.
			if e.RetryAfter > tt.retryAfter || e.RetryAfter < tt.retryAfter-2*time.Second {
				t.Errorf("RetryAfter = %v, want about %v", e.RetryAfter, tt.retryAfter)
			}
		})
	}
}

func TestFakeErrors(t *testing.T) {
	srv, c, _ := newFake(t, unlimited)
	ctx := context.Background()
	_, err := c.Create(ctx, fakeBase, fakeTable.Name, []map[string]any{{"Nope": "x"}}, false)
	var e *Error
	if !errors.As(err, &e) || e.Status != 422 || e.Type == "" || e.Retryable() {
		t.Errorf("unknown field: err = %v, want a 422 that is not retryable", err)
	}
	_, err = c.ListPage(ctx, fakeBase, "No Such Table", ListOptions{})
	if !errors.As(err, &e) || e.Status != 404 || e.Retryable() {
		t.Errorf("unknown table: err = %v, want a 404 that is not retryable", err)
	}
	srv.FailNext(1, 503)
	_, err = c.ListPage(ctx, fakeBase, fakeTable.Name, ListOptions{})
	if !errors.As(err, &e) || e.Status != 503 || !e.Retryable() {
		t.Errorf("injected 503: err = %v, want a retryable 503", err)
	}
	bad := &Client{BaseURL: srv.URL(), Token: "pat-wrong"}
	_, err = bad.Tables(ctx, fakeBase)
	if !errors.As(err, &e) || e.Status != 401 || e.Retryable() || strings.Contains(err.Error(), "pat-wrong") {
		t.Errorf("bad token: err = %v, want a 401 that is not retryable and hides the token", err)
	}
}

// TestFakeRoundTrip writes every field type through ToAirtable, reads the
// records back through FromAirtable and compares them with Equal, as the
// sync does.
func TestFakeRoundTrip(t *testing.T) {
	srv, c, _ := newFake(t, unlimited)
	ctx := context.Background()
	tables, err := c.Tables(ctx, fakeBase)
	if err != nil {
		t.Fatal(err)
	}
	if len(tables) != 1 || tables[0].Name != fakeTable.Name || len(tables[0].Fields) != len(fakeTable.Fields) {
		t.Fatalf("tables = %+v", tables)
	}
	types := map[string]string{}
	for _, f := range tables[0].Fields {
		types[f.Name] = f.Type
	}

	ref := srv.Insert(fakeBase, fakeTable.Name, map[string]any{"Name": "referrer"})
	rows := []map[string]any{
		{"Name": "Ann", "Notes": "line 1\nline 2", "Email": "ann@x.com", "Age": int32(41), "Active": true,
			"Born": time.Date(1983, 2, 28, 0, 0, 0, 0, time.UTC), "Seen": time.Date(2024, 3, 1, 12, 30, 15, 250e6, time.UTC),
			"Status": "Customer", "Tags": []string{"vip", "eu"}, "Referrer": []string{ref.ID}},
		{"Name": "Bob", "Notes": nil, "Email": nil, "Age": 12.5, "Active": false,
			"Born": nil, "Seen": nil, "Status": nil, "Tags": []string{}, "Referrer": nil},
	}
	var fields []map[string]any
	for _, row := range rows {
		f := map[string]any{}
		for name, v := range row {
			if f[name], err = ToAirtable(types[name], v); err != nil {
				t.Fatal(err)
			}
		}
		fields = append(fields, f)
	}
	created, err := c.Create(ctx, fakeBase, fakeTable.Name, fields, false)
	if err != nil {
		t.Fatal(err)
	}
	page, err := c.ListPage(ctx, fakeBase, fakeTable.Name, ListOptions{
		FilterByFormula: "OR(RECORD_ID() = " + Quote(created[0].ID) + ", RECORD_ID() = " + Quote(created[1].ID) + ")",
		Sort:            []Sort{{Field: "Name"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Records) != 2 {
		t.Fatalf("read back %d records, want 2", len(page.Records))
	}
	for i, rec := range page.Records {
		for name, want := range rows[i] {
			got, err := FromAirtable(types[name], rec.Fields[name])
			if err != nil {
				t.Errorf("%s.%s: %v", rows[i]["Name"], name, err)
				continue
			}
			if !Equal(types[name], want, got) {
				t.Errorf("%s.%s: wrote %#v, read %#v", rows[i]["Name"], name, want, got)
			}
		}
	}

	// An update of one field, and a change Equal must see.
	upd, err := c.Update(ctx, fakeBase, fakeTable.Name, []Record{{ID: created[1].ID, Fields: map[string]any{"Active": true}}}, false)
	if err != nil {
		t.Fatal(err)
	}
	if active, _ := FromAirtable(TypeCheckbox, upd[0].Fields["Active"]); Equal(TypeCheckbox, false, active) {
		t.Errorf("Active after update = %v", active)
	}
	deleted, err := c.Delete(ctx, fakeBase, fakeTable.Name, []string{created[0].ID, created[1].ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(deleted) != 2 || len(srv.Records(fakeBase, fakeTable.Name)) != 1 {
		t.Errorf("deleted %v; %d records left, want 1", deleted, len(srv.Records(fakeBase, fakeTable.Name)))
	}
}

// TestFakeFormulas runs the formula helpers through the fake's formula
// engine, including a formula long enough to go by POST.
func TestFakeFormulas(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	opts := unlimited
	opts.Now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	srv, c, _ := newFake(t, opts)
	ctx := context.Background()

	tricky := []string{`O'Brien`, `say "hi"`, `back\slash`, `\'`, `x', '') & '`, `{Name}`}
	ids := map[string]string{}
	for _, name := range tricky {
		ids[name] = srv.Insert(fakeBase, fakeTable.Name, map[string]any{"Name": name}).ID
	}
	for _, name := range tricky {
		p, err := c.ListPage(ctx, fakeBase, fakeTable.Name, ListOptions{FilterByFormula: FieldRef("Name") + " = " + Quote(name)})
		if err != nil {
			t.Fatalf("%q: %v", name, err)
		}
		if len(p.Records) != 1 || p.Records[0].ID != ids[name] {
			t.Errorf("filter on %q found %d records", name, len(p.Records))
		}
	}

	cutoff := now.Add(500 * time.Millisecond)
	mu.Lock()
	now = now.Add(time.Second)
	mu.Unlock()
	srv.Update(fakeBase, fakeTable.Name, ids[`O'Brien`], map[string]any{"Email": "ob@x.com"})
	p, err := c.ListPage(ctx, fakeBase, fakeTable.Name, ListOptions{FilterByFormula: ModifiedAfter("Modified", cutoff)})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Records) != 1 || p.Records[0].ID != ids[`O'Brien`] {
		t.Errorf("ModifiedAfter found %d records, want the one updated", len(p.Records))
	}

	var clauses []string
	for range 40 {
		for _, name := range tricky {
			clauses = append(clauses, FieldRef("Name")+" = "+Quote(name))
		}
	}
	long := "OR(" + strings.Join(clauses, ", ") + ")"
	srv.ResetRequests()
	p, err = c.ListPage(ctx, fakeBase, fakeTable.Name, ListOptions{FilterByFormula: long})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Records) != len(tricky) {
		t.Errorf("long formula found %d records, want %d", len(p.Records), len(tricky))
	}
	if reqs := srv.Requests(); len(reqs) != 1 || !strings.HasSuffix(reqs[0].Path, "/listRecords") {
		t.Errorf("long formula went as %+v, want POST …/listRecords", reqs)
	}
}
