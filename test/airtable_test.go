package test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/groundwork-dev/groundwork"
	"github.com/groundwork-dev/groundwork/internal/config"
	"github.com/groundwork-dev/groundwork/internal/testkit/airtablefake"
	"github.com/groundwork-dev/groundwork/internal/testkit/testenv"
	"github.com/groundwork-dev/groundwork/worker"
)

const testBase = "appTestBase123456"

// airtableFixture is a fake Airtable base with a Customers table and a
// Postgres contacts table, under one stack.
type airtableFixture struct {
	t    *testing.T
	fake *airtablefake.Server
	s    *stack
}

func newAirtableFixture(t *testing.T) *airtableFixture {
	t.Helper()
	return newAirtableFixtureWith(t, nil, nil)
}

// newAirtableFixtureWith lets a test change the fake's and the stack's
// Airtable settings.
func newAirtableFixtureWith(t *testing.T, fakeOpts func(*airtablefake.Options), cfg func(*config.Airtable)) *airtableFixture {
	t.Helper()
	testenv.SkipShort(t, "Postgres and Temporal")
	fo := airtablefake.Options{PerBase: 50, PerToken: 500, Lockout: 2 * time.Second}
	if fakeOpts != nil {
		fakeOpts(&fo)
	}
	fake := airtablefake.New(fo)
	t.Cleanup(fake.Close)
	fake.CreateTable(testBase, airtablefake.TableSpec{Name: "Customers", Fields: []airtablefake.FieldSpec{
		{Name: "Email", Type: airtablefake.TypeEmail},
		{Name: "Name", Type: airtablefake.TypeSingleLineText},
		{Name: "Plan", Type: airtablefake.TypeSingleSelect, Choices: []string{"starter", "pro"}},
		{Name: "Seats", Type: airtablefake.TypeNumber},
		{Name: "Active", Type: airtablefake.TypeCheckbox},
		{Name: "Last Modified", Type: airtablefake.TypeLastModifiedTime},
	}})
	at := config.Airtable{APIURL: fake.URL(), Token: airtablefake.DefaultToken, Bases: []string{testBase},
		PerBase: 40, PerToken: 400, Lockout: 2 * time.Second}
	if cfg != nil {
		cfg(&at)
	}
	// Its own Temporal: the shared stack's workers would take its tasks.
	s := startStack(t, stackOptions{
		temporalHostPort: testenv.StartTemporal(t).FrontendHostPort(), databaseURL: testenv.DatabaseURL(t),
		workers: "all", ratePerSec: 10000, ratePerMin: 1000000, airtable: at,
	}, true)
	_, err := s.App.Pool.Exec(context.Background(), `CREATE TABLE contacts (
		id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
		email text NOT NULL UNIQUE,
		name text,
		plan text,
		seats integer,
		active boolean NOT NULL DEFAULT false,
		updated_at timestamptz NOT NULL DEFAULT now())`)
	if err != nil {
		t.Fatal(err)
	}
	return &airtableFixture{t: t, fake: fake, s: s}
}

// openTable opens table for syncing by workspace alone, as
// `groundwork airtable allow-table table@workspace` does.
func (f *airtableFixture) openTable(table, workspace string) {
	f.t.Helper()
	f.pgExec(`INSERT INTO airtable_sync_tables (table_name, workspace_id) VALUES ($1, $2)
		ON CONFLICT (table_name) DO UPDATE SET workspace_id = excluded.workspace_id`, table, workspace)
}

func (f *airtableFixture) pgExec(sql string, args ...any) {
	f.t.Helper()
	if _, err := f.s.App.Pool.Exec(context.Background(), sql, args...); err != nil {
		f.t.Fatal(err)
	}
}

// pgCustomers is the Postgres table by email: name|plan|seats|active.
func (f *airtableFixture) pgCustomers() map[string][]any {
	f.t.Helper()
	rows, err := f.s.App.Pool.Query(context.Background(), `SELECT email, name, plan, seats, active FROM contacts`)
	if err != nil {
		f.t.Fatal(err)
	}
	defer rows.Close()
	out := map[string][]any{}
	for rows.Next() {
		var email string
		var name, plan *string
		var seats *int32
		var active bool
		if err := rows.Scan(&email, &name, &plan, &seats, &active); err != nil {
			f.t.Fatal(err)
		}
		out[email] = []any{deref(name), deref(plan), seats, active}
	}
	return out
}

func deref[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

// atCustomers is the Airtable table by email.
func (f *airtableFixture) atCustomers() map[string]map[string]any {
	out := map[string]map[string]any{}
	for _, r := range f.fake.Records(testBase, "Customers") {
		out[r.Fields["Email"].(string)] = r.Fields
	}
	return out
}

func (f *airtableFixture) atID(email string) string {
	for _, r := range f.fake.Records(testBase, "Customers") {
		if r.Fields["Email"] == email {
			return r.ID
		}
	}
	f.t.Fatalf("no Airtable record %s", email)
	return ""
}

func (c *apiClient) sync(mappingID string, dryRun bool) run {
	c.t.Helper()
	r, resp := c.start("/v1/airtable-syncs", map[string]any{"mapping_id": mappingID, "dry_run": dryRun})
	if resp.Status != http.StatusAccepted {
		c.t.Fatalf("start sync: %d %s", resp.Status, resp.Body)
	}
	done := c.waitRun(r.ID)
	if done.Status != "succeeded" {
		c.t.Fatalf("sync %+v", done)
	}
	return done
}

func counts(r run) map[string]any {
	c, _ := r.Result["counts"].(map[string]any)
	return c
}

func TestAirtableTwoWaySync(t *testing.T) {
	f := newAirtableFixture(t)
	c := f.s.newUser(t, "airtable-alice")
	f.openTable("public.contacts", "airtable-alice")
	bob := f.s.newUser(t, "airtable-bob")

	// Airtable has a and b; Postgres has b (older) and c.
	f.pgExec(`INSERT INTO contacts (email, name, plan, seats, active, updated_at) VALUES
		('b@x.example', 'B from Postgres', 'starter', 3, true, now() - interval '1 hour'),
		('c@x.example', 'C', 'pro', 10, false, now())`)
	f.fake.Insert(testBase, "Customers", map[string]any{"Email": "a@x.example", "Name": "A", "Plan": "pro", "Seats": 5, "Active": true})
	f.fake.Insert(testBase, "Customers", map[string]any{"Email": "b@x.example", "Name": "B from Airtable", "Plan": "pro"})

	mapping := map[string]any{
		"name":     "contacts",
		"airtable": map[string]any{"base_id": testBase, "table": "Customers", "modified_field": "Last Modified"},
		"postgres": map[string]any{"table": "public.contacts", "updated_at": "updated_at"},
		"key":      map[string]any{"airtable": "Email", "postgres": "email"},
		"fields": []map[string]any{
			{"airtable": "Name", "postgres": "name", "direction": "both"},
			{"airtable": "Plan", "postgres": "plan", "direction": "both"},
			{"airtable": "Seats", "postgres": "seats", "direction": "push"},
			{"airtable": "Active", "postgres": "active", "direction": "pull"},
		},
		"conflict": "latest_wins",
	}
	t.Run("bad mappings are refused", func(t *testing.T) {
		bad := map[string]any{}
		for k, v := range mapping {
			bad[k] = v
		}
		bad["postgres"] = map[string]any{"table": "public.api_keys"}
		if resp := c.do(http.MethodPost, "/v1/airtable/mappings", mustMarshal(t, bad)); resp.Status != http.StatusUnprocessableEntity {
			t.Fatalf("Groundwork's own table: %d %s", resp.Status, resp.Body)
		}
		bad["postgres"] = map[string]any{"table": "public.nope"}
		if resp := c.do(http.MethodPost, "/v1/airtable/mappings", mustMarshal(t, bad)); resp.Status != http.StatusUnprocessableEntity {
			t.Fatalf("missing table: %d %s", resp.Status, resp.Body)
		}
	})
	resp := c.do(http.MethodPost, "/v1/airtable/mappings", mustMarshal(t, mapping))
	if resp.Status != http.StatusCreated {
		t.Fatalf("create mapping: %d %s", resp.Status, resp.Body)
	}
	var m struct {
		ID       string `json:"id"`
		TokenSet bool   `json:"token_set"`
	}
	resp.json(t, &m)
	if r := bob.do(http.MethodGet, "/v1/airtable/mappings/"+m.ID, nil); r.Status != http.StatusNotFound {
		t.Fatalf("bob reads alice's mapping: %d", r.Status)
	}
	if _, r := bob.start("/v1/airtable-syncs", map[string]any{"mapping_id": m.ID}); r.Status != http.StatusNotFound {
		t.Fatalf("bob syncs alice's mapping: %d", r.Status)
	}

	t.Run("a dry run writes nothing", func(t *testing.T) {
		f.fake.ResetRequests()
		before := f.pgCustomers()
		r := c.sync(m.ID, true)
		if r.Result["diff"] == nil || counts(r)["airtable_creates"] != float64(1) || counts(r)["postgres_creates"] != float64(1) {
			t.Fatalf("dry run result %+v", r.Result)
		}
		for _, req := range f.fake.Requests() {
			if req.Method != http.MethodGet && !strings.HasSuffix(req.Path, "/listRecords") {
				t.Fatalf("a dry run wrote to Airtable: %+v", req)
			}
		}
		if got := f.pgCustomers(); len(got) != len(before) {
			t.Fatalf("a dry run wrote to Postgres: %v", got)
		}
	})

	r1 := c.sync(m.ID, false)
	replayAndRecord(t, f.s.App.Temporal, r1.ID, "airtable_sync_succeeded.json")
	t.Run("first sync converges both ways", func(t *testing.T) {
		pg, at := f.pgCustomers(), f.atCustomers()
		if len(pg) != 3 || len(at) != 3 {
			t.Fatalf("pg %v\nairtable %v", pg, at)
		}
		// b changed on both sides; Airtable's edit is the later one.
		if pg["b@x.example"][0] != "B from Airtable" || at["b@x.example"]["Name"] != "B from Airtable" {
			t.Fatalf("latest_wins: pg %v airtable %v", pg["b@x.example"], at["b@x.example"])
		}
		// Seats is push-only: Postgres's 3 goes to Airtable; Active is pull-only.
		if at["b@x.example"]["Seats"] != float64(3) || pg["a@x.example"][3] != true {
			t.Fatalf("directions: pg %v airtable %v", pg, at)
		}
		if pg["a@x.example"][0] != "A" || at["c@x.example"]["Name"] != "C" {
			t.Fatalf("creates: pg %v airtable %v", pg, at)
		}
		if r1.Result["failed"] != float64(0) {
			t.Fatalf("result %+v", r1.Result)
		}
	})

	t.Run("the audit log names the conflict", func(t *testing.T) {
		var audit struct {
			Entries []struct {
				Key, Field, Winner string
				Conflict           bool
				LosingValue        any `json:"losing_value"`
			} `json:"entries"`
		}
		c.do(http.MethodGet, "/v1/airtable/mappings/"+m.ID+"/audit?limit=100", nil).json(t, &audit)
		found := false
		for _, e := range audit.Entries {
			if e.Key == "b@x.example" && e.Field == "name" && e.Conflict && e.Winner == "airtable" && e.LosingValue == "B from Postgres" {
				found = true
			}
		}
		if !found || len(audit.Entries) < 6 {
			t.Fatalf("audit %+v", audit.Entries)
		}
	})

	t.Run("our own writes are not echoed back", func(t *testing.T) {
		r := c.sync(m.ID, false)
		if r.Result["applied"] != float64(0) {
			t.Fatalf("the second sync rewrote: %+v", r.Result)
		}
		// Nothing changed on either side since the cursors (moved past the
		// re-read overlap): nothing to read, nothing to do.
		f.pgExec(`UPDATE airtable_sync_state SET airtable_cursor = now() + interval '1 hour', postgres_cursor = now() + interval '1 hour' WHERE mapping_id = $1`, m.ID)
		r = c.sync(m.ID, false)
		if r.Result["applied"] != float64(0) || r.Result["scanned_postgres"] != float64(0) || r.Result["scanned_airtable"] != float64(0) {
			t.Fatalf("an idle sync: %+v", r.Result)
		}
		f.pgExec(`UPDATE airtable_sync_state SET airtable_cursor = now(), postgres_cursor = now() WHERE mapping_id = $1`, m.ID)
	})

	t.Run("incremental edits and a refused record", func(t *testing.T) {
		f.fake.Update(testBase, "Customers", f.atID("a@x.example"), map[string]any{"Name": "A renamed"})
		f.pgExec(`UPDATE contacts SET name = 'C renamed', updated_at = now() WHERE email = 'c@x.example'`)
		// Not a choice of the select: Airtable refuses this record alone.
		f.pgExec(`INSERT INTO contacts (email, name, plan) VALUES ('d@x.example', 'D', 'enterprise')`)
		f.pgExec(`INSERT INTO contacts (email, name, plan) VALUES ('e@x.example', 'E', 'pro')`)
		// And Postgres refuses this one alone: the rest of its
		// transaction is written all the same.
		f.pgExec(`ALTER TABLE contacts ADD CONSTRAINT name_allowed CHECK (name NOT LIKE '%refused%')`)
		f.fake.Insert(testBase, "Customers", map[string]any{"Email": "f@x.example", "Name": "F refused", "Plan": "pro"})
		f.fake.Insert(testBase, "Customers", map[string]any{"Email": "g@x.example", "Name": "G", "Plan": "pro"})
		r := c.sync(m.ID, false)
		pg, at := f.pgCustomers(), f.atCustomers()
		if pg["a@x.example"][0] != "A renamed" || at["c@x.example"]["Name"] != "C renamed" || at["e@x.example"] == nil || pg["g@x.example"] == nil {
			t.Fatalf("pg %v\nairtable %v", pg, at)
		}
		if _, ok := at["d@x.example"]; ok || pg["f@x.example"] != nil || r.Result["failed"] != float64(2) {
			t.Fatalf("the refused records: %+v", r.Result)
		}
		fails, _ := r.Result["failures"].([]any)
		failed := map[string]string{}
		for _, f := range fails {
			m := f.(map[string]any)
			failed[m["key"].(string)], _ = m["error"].(string)
		}
		if len(failed) != 2 || failed["d@x.example"] == "" || !strings.Contains(failed["f@x.example"], "name_allowed") {
			t.Fatalf("failures %+v", r.Result["failures"])
		}
		f.pgExec(`ALTER TABLE contacts DROP CONSTRAINT name_allowed`)
	})

	t.Run("one sync of a mapping at a time", func(t *testing.T) {
		// An open run holds the mapping's lease.
		f.pgExec(`INSERT INTO runs (id, owner_id, workspace_id, kind, request_hash) VALUES ('airtable-01JD4X7Q2W6ZC5D3V9N8K1M2P3', 'airtable-alice', 'airtable-alice', 'airtable', '\x00')`)
		f.pgExec(`UPDATE airtable_sync_state SET running_run_id = 'airtable-01JD4X7Q2W6ZC5D3V9N8K1M2P3' WHERE mapping_id = $1`, m.ID)
		_, resp := c.start("/v1/airtable-syncs", map[string]any{"mapping_id": m.ID})
		var p problemDoc
		resp.json(t, &p)
		if resp.Status != http.StatusConflict || !strings.HasSuffix(p.Type, "/sync_running") {
			t.Fatalf("second sync: %d %s", resp.Status, resp.Body)
		}
		// Once that run closed, the lease is free again.
		f.pgExec(`UPDATE runs SET closed_at = now(), status = 'failed' WHERE id = 'airtable-01JD4X7Q2W6ZC5D3V9N8K1M2P3'`)
		c.sync(m.ID, false)
	})

	if st := f.fake.Stats(); st.RateLimited != 0 || st.MaxWriteBatch > 10 {
		t.Fatalf("fake stats %+v", st)
	}
}

func mustMarshal(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// createMapping creates a mapping of the fixture's tables with the given
// fields and options and returns its ID.
func (f *airtableFixture) createMapping(c *apiClient, name string, fields []map[string]any, extra map[string]any) string {
	f.t.Helper()
	body := map[string]any{
		"name":     name,
		"airtable": map[string]any{"base_id": testBase, "table": "Customers", "modified_field": "Last Modified"},
		"postgres": map[string]any{"table": "public.contacts"},
		"key":      map[string]any{"airtable": "Email", "postgres": "email"},
		"fields":   fields,
		"conflict": "latest_wins",
	}
	for k, v := range extra {
		body[k] = v
	}
	resp := c.do(http.MethodPost, "/v1/airtable/mappings", mustMarshal(f.t, body))
	if resp.Status != http.StatusCreated {
		f.t.Fatalf("create mapping: %d %s", resp.Status, resp.Body)
	}
	var m struct{ ID string }
	resp.json(f.t, &m)
	return m.ID
}

func TestAirtablePoliciesAndDeletes(t *testing.T) {
	f := newAirtableFixture(t)
	c := f.s.newUser(t, "airtable-policies")
	f.openTable("public.contacts", "airtable-policies")
	for i, e := range []string{"p@x.example", "q@x.example", "r@x.example", "s@x.example"} {
		f.fake.Insert(testBase, "Customers", map[string]any{"Email": e, "Name": "N" + e, "Plan": "starter", "Seats": i})
	}
	// Name: Postgres wins conflicts; Plan: Airtable wins; deletes both ways.
	id := f.createMapping(c, "policies", []map[string]any{
		{"airtable": "Name", "postgres": "name", "direction": "both", "conflict": "postgres_wins"},
		{"airtable": "Plan", "postgres": "plan", "direction": "both", "conflict": "airtable_wins"},
	}, map[string]any{"deletes": "both"})
	c.sync(id, false)
	if len(f.pgCustomers()) != 4 {
		t.Fatalf("first sync: %v", f.pgCustomers())
	}

	// p: both sides change Name and Plan; the per-field policies decide.
	f.fake.Update(testBase, "Customers", f.atID("p@x.example"), map[string]any{"Name": "P airtable", "Plan": "pro"})
	f.pgExec(`UPDATE contacts SET name = 'P postgres', plan = 'starter', updated_at = now() + interval '1 minute' WHERE email = 'p@x.example'`)
	// q: deleted in Airtable; r: deleted in Postgres; s: deleted in
	// Airtable but edited in Postgres, so the edit wins and s comes back.
	f.fake.Delete(testBase, "Customers", f.atID("q@x.example"))
	f.pgExec(`DELETE FROM contacts WHERE email = 'r@x.example'`)
	f.fake.Delete(testBase, "Customers", f.atID("s@x.example"))
	f.pgExec(`UPDATE contacts SET name = 'S kept', updated_at = now() WHERE email = 's@x.example'`)
	r := c.sync(id, false)

	pg, at := f.pgCustomers(), f.atCustomers()
	if pg["p@x.example"][0] != "P postgres" || at["p@x.example"]["Name"] != "P postgres" {
		t.Errorf("postgres_wins on Name: pg %v airtable %v", pg["p@x.example"], at["p@x.example"])
	}
	if pg["p@x.example"][1] != "pro" || at["p@x.example"]["Plan"] != "pro" {
		t.Errorf("airtable_wins on Plan: pg %v airtable %v", pg["p@x.example"], at["p@x.example"])
	}
	if _, ok := pg["q@x.example"]; ok {
		t.Errorf("q deleted in Airtable is still in Postgres")
	}
	if _, ok := at["r@x.example"]; ok {
		t.Errorf("r deleted in Postgres is still in Airtable")
	}
	if pg["s@x.example"] == nil || at["s@x.example"] == nil || at["s@x.example"]["Name"] != "S kept" {
		t.Errorf("an edit lost to a delete: pg %v airtable %v", pg["s@x.example"], at["s@x.example"])
	}
	if r.Result["failed"] != float64(0) {
		t.Fatalf("result %+v", r.Result)
	}
}

func TestAirtableRateLimitStorm(t *testing.T) {
	f := newAirtableFixture(t)
	c := f.s.newUser(t, "airtable-storm")
	f.openTable("public.contacts", "airtable-storm")
	for i := range 30 {
		f.pgExec(`INSERT INTO contacts (email, name) VALUES ($1, $2)`, fmt.Sprintf("u%02d@x.example", i), fmt.Sprintf("U%d", i))
	}
	id := f.createMapping(c, "storm", []map[string]any{{"airtable": "Name", "postgres": "name", "direction": "both"}}, nil)
	// Airtable answers the next requests with 429: the sync waits out the
	// lockout through its retry delay and finishes without a duplicate.
	f.fake.FailNext(4, http.StatusTooManyRequests)
	r := c.sync(id, false)
	if got := len(f.atCustomers()); got != 30 || r.Result["failed"] != float64(0) {
		t.Fatalf("%d Airtable records, result %+v", got, r.Result)
	}
	if st := f.fake.Stats(); st.Injected != 4 {
		t.Fatalf("stats %+v", st)
	}

	// A refusal no retry can fix (403) fails the run at once: the list
	// is not tried again.
	f.fake.ResetRequests()
	f.fake.FailNext(1, http.StatusForbidden)
	started, resp := c.start("/v1/airtable-syncs", map[string]any{"mapping_id": id})
	if resp.Status != http.StatusAccepted {
		t.Fatalf("start sync: %d %s", resp.Status, resp.Body)
	}
	done := c.waitRun(started.ID)
	if done.Status != "failed" || done.Error == nil || !strings.Contains(done.Error.Message, "Airtable refused") {
		t.Fatalf("a sync refused by Airtable: %+v", done)
	}
	lists := 0
	for _, q := range f.fake.Requests() {
		if q.Method == http.MethodGet && q.Table != "" && !strings.Contains(q.Path, "/meta/") {
			lists++
		}
	}
	if lists != 1 {
		t.Fatalf("%d list requests after a 403, want 1: %+v", lists, f.fake.Requests())
	}
}

// TestAirtableSyncSurvivesAKilledWorker runs the airtable queue in a worker
// process, kills it while the sync writes, and lets an in-process worker
// finish: every record exists once on each side and the audit log has one
// entry per changed field, none twice.
func TestAirtableSyncSurvivesAKilledWorker(t *testing.T) {
	testenv.SkipShort(t, "Postgres, Temporal and a worker process")
	fake := airtablefake.New(airtablefake.Options{PerBase: 100, PerToken: 1000, Lockout: time.Second})
	defer fake.Close()
	fake.CreateTable(testBase, airtablefake.TableSpec{Name: "Customers", Fields: []airtablefake.FieldSpec{
		{Name: "Email", Type: airtablefake.TypeEmail},
		{Name: "Name", Type: airtablefake.TypeSingleLineText},
		{Name: "Last Modified", Type: airtablefake.TypeLastModifiedTime},
	}})
	dev := testenv.StartTemporal(t)
	dbURL := testenv.DatabaseURL(t)
	// Slow enough that the kill lands mid-write: 400 creates at 10
	// requests/s take four seconds.
	at := config.Airtable{APIURL: fake.URL(), Token: airtablefake.DefaultToken, Bases: []string{testBase}, PerBase: 10, PerToken: 100, Lockout: time.Second}
	s := startStack(t, stackOptions{temporalHostPort: dev.FrontendHostPort(), databaseURL: dbURL,
		workers: "main", ratePerSec: 10000, ratePerMin: 1000000, airtable: at}, true)
	f := &airtableFixture{t: t, fake: fake, s: s}
	f.pgExec(`CREATE TABLE contacts (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, email text NOT NULL UNIQUE,
		name text, plan text, seats integer, active boolean NOT NULL DEFAULT false, updated_at timestamptz NOT NULL DEFAULT now())`)
	f.pgExec(`INSERT INTO contacts (email, name) SELECT 'k' || g || '@x.example', 'K' || g FROM generate_series(1, 400) g`)

	proc := startWorkerProcess(t, dev.FrontendHostPort(), dbURL,
		"AIRTABLE_API_URL="+fake.URL(), "AIRTABLE_TOKEN="+airtablefake.DefaultToken, "GROUNDWORK_AIRTABLE_BASES="+testBase,
		"GROUNDWORK_AIRTABLE_REQUESTS_PER_BASE=10", "GROUNDWORK_AIRTABLE_REQUESTS_PER_TOKEN=100", "GROUNDWORK_AIRTABLE_LOCKOUT=1s")

	c := s.newUser(t, "airtable-crash")
	f.openTable("public.contacts", "airtable-crash")
	id := f.createMapping(c, "crash", []map[string]any{{"airtable": "Name", "postgres": "name", "direction": "both"}}, nil)
	r, resp := c.start("/v1/airtable-syncs", map[string]any{"mapping_id": id})
	if resp.Status != http.StatusAccepted {
		t.Fatalf("start: %d %s", resp.Status, resp.Body)
	}
	testenv.Eventually(t, time.Minute, "the worker process writing to Airtable", func() bool {
		return len(fake.Records(testBase, "Customers")) >= 50
	})
	if err := proc.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = proc.Wait()

	ws, err := worker.New(s.App.WorkerDeps())
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range ws[1:] {
		if err := w.Start(); err != nil {
			t.Fatal(err)
		}
		defer w.Stop()
	}
	var got run
	testenv.Eventually(t, 3*time.Minute, "the sync to finish", func() bool {
		got = c.getRun(r.ID)
		return got.Status != "running" && got.Status != "queued"
	})
	if got.Status != "succeeded" || got.Result["failed"] != float64(0) {
		t.Fatalf("run %+v", got)
	}
	seen := map[string]int{}
	for _, rec := range fake.Records(testBase, "Customers") {
		seen[rec.Fields["Email"].(string)]++
	}
	if len(seen) != 400 {
		t.Fatalf("%d distinct Airtable records, want 400", len(seen))
	}
	for e, n := range seen {
		if n != 1 {
			t.Errorf("%s created %d times in Airtable", e, n)
		}
	}
	var dup int
	err = s.App.Pool.QueryRow(context.Background(), `SELECT count(*) FROM (SELECT record_key, field FROM airtable_audit
		WHERE mapping_id = $1 GROUP BY record_key, field HAVING count(*) > 1) d`, id).Scan(&dup)
	if err != nil || dup != 0 {
		t.Fatalf("%d fields audited twice (%v)", dup, err)
	}
	var audited int
	if err := s.App.Pool.QueryRow(context.Background(), `SELECT count(*) FROM airtable_audit WHERE mapping_id = $1`, id).Scan(&audited); err != nil || audited != 400 {
		t.Fatalf("%d audit entries, want 400 (%v)", audited, err)
	}
}

// TestAirtableSchedule checks that a mapping's schedule is a Temporal
// Schedule that follows the mapping, and that a scheduled sync is a run of
// the mapping's owner like any other.
func TestAirtableSchedule(t *testing.T) {
	f := newAirtableFixture(t)
	c := f.s.newUser(t, "airtable-schedule")
	f.openTable("public.contacts", "airtable-schedule")
	f.fake.Insert(testBase, "Customers", map[string]any{"Email": "sched@x.example", "Name": "Scheduled"})
	id := f.createMapping(c, "scheduled", []map[string]any{{"airtable": "Name", "postgres": "name", "direction": "both"}},
		map[string]any{"schedule": "1h"})
	ctx := context.Background()
	h := f.s.App.Temporal.ScheduleClient().GetHandle(ctx, groundwork.ScheduleIDForMapping(id))
	desc, err := h.Describe(ctx)
	if err != nil {
		t.Fatalf("the mapping's schedule: %v", err)
	}
	if iv := desc.Schedule.Spec.Intervals; len(iv) != 1 || iv[0].Every != time.Hour {
		t.Fatalf("schedule spec %+v", desc.Schedule.Spec)
	}

	// A tick now: the run shows in the owner's list and syncs.
	if err := h.Trigger(ctx, client.ScheduleTriggerOptions{}); err != nil {
		t.Fatal(err)
	}
	var syncRun run
	testenv.Eventually(t, time.Minute, "the scheduled sync to appear and finish", func() bool {
		for _, r := range c.listRuns() {
			if r.Kind == "airtable" {
				syncRun = c.getRun(r.ID)
				return syncRun.Status == "succeeded" || syncRun.Status == "failed"
			}
		}
		return false
	})
	if syncRun.Status != "succeeded" || f.pgCustomers()["sched@x.example"] == nil {
		t.Fatalf("scheduled run %+v; postgres %v", syncRun, f.pgCustomers())
	}

	// Dropping the schedule from the mapping deletes it; so does deleting
	// the mapping (tested with a second one).
	body := map[string]any{
		"name":     "scheduled",
		"airtable": map[string]any{"base_id": testBase, "table": "Customers", "modified_field": "Last Modified"},
		"postgres": map[string]any{"table": "public.contacts"},
		"key":      map[string]any{"airtable": "Email", "postgres": "email"},
		"fields":   []map[string]any{{"airtable": "Name", "postgres": "name", "direction": "both"}},
		"conflict": "latest_wins",
	}
	if resp := c.do(http.MethodPut, "/v1/airtable/mappings/"+id, mustMarshal(t, body)); resp.Status != http.StatusOK {
		t.Fatalf("update: %d %s", resp.Status, resp.Body)
	}
	if _, err := h.Describe(ctx); err == nil {
		t.Fatal("the schedule survived its removal from the mapping")
	}
	id2 := f.createMapping(c, "scheduled-2", []map[string]any{{"airtable": "Name", "postgres": "name", "direction": "pull"}},
		map[string]any{"schedule": "30m"})
	if resp := c.do(http.MethodDelete, "/v1/airtable/mappings/"+id2, nil); resp.Status != http.StatusNoContent {
		t.Fatalf("delete: %d %s", resp.Status, resp.Body)
	}
	if _, err := f.s.App.Temporal.ScheduleClient().GetHandle(ctx, groundwork.ScheduleIDForMapping(id2)).Describe(ctx); err == nil {
		t.Fatal("the schedule survived its mapping")
	}
	if resp := c.do(http.MethodGet, "/v1/airtable/mappings/"+id2, nil); resp.Status != http.StatusNotFound {
		t.Fatalf("deleted mapping: %d", resp.Status)
	}
}

// TestAirtableMappingToken stores a mapping's own token encrypted, never
// returns it, and syncs with it when the worker has no token of its own.
func TestAirtableMappingToken(t *testing.T) {
	const secret = "patMappingOwnToken.0123456789"
	f := newAirtableFixtureWith(t,
		func(o *airtablefake.Options) { o.Tokens = []string{secret} },
		func(a *config.Airtable) { a.Token = ""; a.EncryptionKey = []byte("0123456789abcdef0123456789abcdef") })
	c := f.s.newUser(t, "airtable-token")
	f.openTable("public.contacts", "airtable-token")
	f.fake.Insert(testBase, "Customers", map[string]any{"Email": "t@x.example", "Name": "T"})
	id := f.createMapping(c, "token", []map[string]any{{"airtable": "Name", "postgres": "name", "direction": "both"}},
		map[string]any{"airtable": map[string]any{"base_id": testBase, "table": "Customers", "modified_field": "Last Modified", "token": secret}})

	for _, path := range []string{"/v1/airtable/mappings/" + id, "/v1/airtable/mappings"} {
		resp := c.do(http.MethodGet, path, nil)
		if strings.Contains(string(resp.Body), secret) || !strings.Contains(string(resp.Body), `"token_set":true`) {
			t.Fatalf("GET %s: %s", path, resp.Body)
		}
	}
	var stored []byte
	if err := f.s.App.Pool.QueryRow(context.Background(), `SELECT config::text::bytea || coalesce(token_ciphertext, '') FROM airtable_mappings WHERE id = $1`, id).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(stored), secret) {
		t.Fatal("the token is stored in the clear")
	}
	c.sync(id, false)
	if f.pgCustomers()["t@x.example"] == nil {
		t.Fatal("the sync did not use the mapping's token")
	}
}

// TestAirtableSharedTableConfinedToWorkspace: two workspaces map one
// shared table through its workspace column; each syncs, samples and
// audits only its own rows, creates rows with its own workspace, and a key
// another workspace's row holds fails that decision without touching it.
func TestAirtableSharedTableConfinedToWorkspace(t *testing.T) {
	f := newAirtableFixture(t)
	for _, name := range []string{"DealsA", "DealsG"} {
		f.fake.CreateTable(testBase, airtablefake.TableSpec{Name: name, Fields: []airtablefake.FieldSpec{
			{Name: "Email", Type: airtablefake.TypeEmail},
			{Name: "Name", Type: airtablefake.TypeSingleLineText},
			{Name: "Last Modified", Type: airtablefake.TypeLastModifiedTime},
		}})
	}
	f.pgExec(`CREATE TABLE deals (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, email text NOT NULL UNIQUE,
		name text, workspace_id text NOT NULL, updated_at timestamptz NOT NULL DEFAULT now())`)
	f.pgExec(`INSERT INTO deals (email, name, workspace_id) VALUES ('a1@x.example', 'Acme one', 'acme'), ('g1@x.example', 'Globex one', 'globex')`)
	f.pgExec(`INSERT INTO airtable_sync_tables (table_name, workspace_column) VALUES ('public.deals', 'workspace_id')`)
	f.fake.Insert(testBase, "DealsA", map[string]any{"Email": "a2@x.example", "Name": "Acme two"})
	// Globex's base holds a record with a key acme's row has.
	f.fake.Insert(testBase, "DealsG", map[string]any{"Email": "a1@x.example", "Name": "Globex's claim"})

	acme := f.s.client(t, "acme-admin", "acme", "admin")
	globex := f.s.client(t, "globex-admin", "globex", "admin")
	mapping := func(table, wsColumn string) map[string]any {
		pg := map[string]any{"table": "public.deals"}
		if wsColumn != "" {
			pg["workspace_column"] = wsColumn
		}
		return map[string]any{
			"name":     "deals",
			"airtable": map[string]any{"base_id": testBase, "table": table, "modified_field": "Last Modified"},
			"postgres": pg,
			"key":      map[string]any{"airtable": "Email", "postgres": "email"},
			"fields":   []map[string]any{{"airtable": "Name", "postgres": "name", "direction": "both"}},
			"conflict": "latest_wins",
		}
	}
	// The operator names the workspace column; a mapping cannot pick
	// another one that happens to hold its workspace's name.
	if r := acme.do(http.MethodPost, "/v1/airtable/mappings", mustMarshal(t, mapping("DealsA", "email"))); r.Status != http.StatusUnprocessableEntity ||
		!strings.Contains(string(r.Body), "postgres.workspace_column") {
		t.Fatalf("a mapping choosing its own workspace column: %d %s", r.Status, r.Body)
	}
	create := func(c *apiClient, table, wsColumn string) string {
		r := c.do(http.MethodPost, "/v1/airtable/mappings", mustMarshal(t, mapping(table, wsColumn)))
		if r.Status != http.StatusCreated {
			t.Fatalf("create mapping: %d %s", r.Status, r.Body)
		}
		var m struct{ ID string }
		r.json(t, &m)
		return m.ID
	}
	// Leaving the column out takes the operator's; naming it is the same.
	acmeMap, globexMap := create(acme, "DealsA", ""), create(globex, "DealsG", "workspace_id")

	dry := globex.sync(globexMap, true)
	if b, _ := json.Marshal(dry.Result); strings.Contains(string(b), "Acme one") {
		t.Fatalf("globex's dry run shows acme's row: %s", b)
	}
	acme.sync(acmeMap, false)
	emails := func(table string) map[string]string {
		out := map[string]string{}
		for _, r := range f.fake.Records(testBase, table) {
			out[r.Fields["Email"].(string)], _ = r.Fields["Name"].(string)
		}
		return out
	}
	if got := emails("DealsA"); len(got) != 2 || got["a1@x.example"] != "Acme one" || got["a2@x.example"] != "Acme two" {
		t.Fatalf("acme's Airtable table: %v", got)
	}
	var ws string
	if err := f.s.App.Pool.QueryRow(context.Background(), `SELECT workspace_id FROM deals WHERE email = 'a2@x.example'`).Scan(&ws); err != nil || ws != "acme" {
		t.Fatalf("the row the sync created: workspace %q, %v", ws, err)
	}

	// Globex's sync: g1 goes to its table; its a1 record cannot become a
	// row, because acme's row holds that key, and acme's row is untouched.
	r, resp := globex.start("/v1/airtable-syncs", map[string]any{"mapping_id": globexMap})
	if resp.Status != http.StatusAccepted {
		t.Fatalf("start: %d %s", resp.Status, resp.Body)
	}
	done := globex.waitRun(r.ID)
	if got := emails("DealsG"); got["g1@x.example"] != "Globex one" {
		t.Fatalf("globex's Airtable table: %v (run %+v)", got, done)
	}
	if done.Result["failed"] != float64(1) {
		t.Errorf("the decision on acme's key should fail alone: %+v", done.Result)
	}
	var name string
	if err := f.s.App.Pool.QueryRow(context.Background(), `SELECT name, workspace_id FROM deals WHERE email = 'a1@x.example'`).Scan(&name, &ws); err != nil || name != "Acme one" || ws != "acme" {
		t.Fatalf("acme's row after globex's sync: %q %q %v", name, ws, err)
	}
	var audit struct {
		Entries []AuditView `json:"entries"`
	}
	acme.do(http.MethodGet, "/v1/airtable/mappings/"+acmeMap+"/audit", nil).json(t, &audit)
	for _, e := range audit.Entries {
		if strings.HasPrefix(e.Key, "g") {
			t.Errorf("acme's audit shows globex's row %s", e.Key)
		}
	}
	if r := globex.do(http.MethodGet, "/v1/airtable/mappings/"+acmeMap, nil); r.Status != http.StatusNotFound {
		t.Errorf("globex reads acme's mapping: %d", r.Status)
	}
}

// AuditView is the part of an audit entry the tests read.
type AuditView struct {
	Key string `json:"key"`
}

// TestAirtableIntegerAndUUIDKeys syncs tables keyed by a bigint and by a
// uuid primary key, which the sync looks up in the column's own type (not
// as text, which no index covers): an Airtable edit finds its unchanged
// row by key, deletes go both ways by key, and an Airtable key that is no
// value of the type fails its own record without failing the lookups.
func TestAirtableIntegerAndUUIDKeys(t *testing.T) {
	f := newAirtableFixture(t)
	c := f.s.newUser(t, "airtable-keys")
	for _, tc := range []struct {
		typ        string
		a, b, cKey string // keys made in Postgres
		d          string // made in Airtable
		bad        string // no value of the type
	}{
		{"bigint", "1", "2", "3000000000", "4", "x7"},
		{"uuid", "6f1b8a1e-2c3d-4e5f-8a9b-0c1d2e3f4a5b", "0a0b0c0d-0e0f-4000-8000-000000000002", "0a0b0c0d-0e0f-4000-8000-000000000003",
			"0a0b0c0d-0e0f-4000-8000-000000000004", "not-a-uuid"},
	} {
		t.Run(tc.typ, func(t *testing.T) {
			table, atTable := "items_"+tc.typ, "Items "+tc.typ
			f.fake.CreateTable(testBase, airtablefake.TableSpec{Name: atTable, Fields: []airtablefake.FieldSpec{
				{Name: "ID", Type: airtablefake.TypeSingleLineText},
				{Name: "Name", Type: airtablefake.TypeSingleLineText},
				{Name: "Last Modified", Type: airtablefake.TypeLastModifiedTime},
			}})
			f.pgExec(fmt.Sprintf(`CREATE TABLE %s (id %s PRIMARY KEY, name text, updated_at timestamptz NOT NULL DEFAULT now())`, table, tc.typ))
			f.pgExec(fmt.Sprintf(`INSERT INTO %s (id, name) VALUES ($1, 'A'), ($2, 'B'), ($3, 'C')`, table), tc.a, tc.b, tc.cKey)
			f.openTable("public."+table, "airtable-keys")
			f.fake.Insert(testBase, atTable, map[string]any{"ID": tc.d, "Name": "D"})
			id := f.createMapping(c, "keys "+tc.typ, []map[string]any{{"airtable": "Name", "postgres": "name", "direction": "both"}}, map[string]any{
				"airtable": map[string]any{"base_id": testBase, "table": atTable, "modified_field": "Last Modified"},
				"postgres": map[string]any{"table": "public." + table, "updated_at": "updated_at"},
				"key":      map[string]any{"airtable": "ID", "postgres": "id"},
				"deletes":  "both",
			})
			pgNames := func() map[string]string {
				rows, err := f.s.App.Pool.Query(context.Background(), fmt.Sprintf(`SELECT id::text, coalesce(name, '') FROM %s`, table))
				if err != nil {
					t.Fatal(err)
				}
				defer rows.Close()
				out := map[string]string{}
				for rows.Next() {
					var k, n string
					if err := rows.Scan(&k, &n); err != nil {
						t.Fatal(err)
					}
					out[k] = n
				}
				return out
			}
			atNames := func() (map[string]string, map[string]string) {
				names, ids := map[string]string{}, map[string]string{}
				for _, r := range f.fake.Records(testBase, atTable) {
					k := fmt.Sprint(r.Fields["ID"])
					names[k], _ = r.Fields["Name"].(string)
					ids[k] = r.ID
				}
				return names, ids
			}
			same := func(what string, want map[string]string) {
				t.Helper()
				at, _ := atNames()
				if pg := pgNames(); fmt.Sprint(pg) != fmt.Sprint(want) || fmt.Sprint(at) != fmt.Sprint(want) {
					t.Fatalf("%s: postgres %v, airtable %v, want %v", what, pg, at, want)
				}
			}

			c.sync(id, false)
			same("first sync", map[string]string{tc.a: "A", tc.b: "B", tc.cKey: "C", tc.d: "D"})

			// A edited in Airtable (its row unchanged: found by key), B
			// deleted in Airtable (deleted by key), C's row deleted (its
			// link's key no longer finds a row).
			_, ids := atNames()
			f.fake.Update(testBase, atTable, ids[tc.a], map[string]any{"Name": "A edited"})
			f.fake.Delete(testBase, atTable, ids[tc.b])
			f.pgExec(fmt.Sprintf(`DELETE FROM %s WHERE id = $1`, table), tc.cKey)
			r := c.sync(id, false)
			same("second sync", map[string]string{tc.a: "A edited", tc.d: "D"})
			if r.Result["failed"] != float64(0) {
				t.Fatalf("second sync: %+v", r.Result)
			}

			// A key the column cannot hold fails that record alone.
			f.fake.Insert(testBase, atTable, map[string]any{"ID": tc.bad, "Name": "bad"})
			f.fake.Update(testBase, atTable, ids[tc.d], map[string]any{"Name": "D edited"})
			r, resp := c.start("/v1/airtable-syncs", map[string]any{"mapping_id": id})
			if resp.Status != http.StatusAccepted {
				t.Fatalf("start: %d %s", resp.Status, resp.Body)
			}
			done := c.waitRun(r.ID)
			if done.Status != "succeeded" || done.Result["failed"] != float64(1) {
				t.Fatalf("a key of the wrong type should fail its record alone: %+v", done)
			}
			if pg := pgNames(); pg[tc.d] != "D edited" || len(pg) != 2 {
				t.Fatalf("third sync: postgres %v", pg)
			}

			// The list shows each mapping with its own last sync, read in
			// the same query; one never synced has none.
			unsynced := f.createMapping(c, "never synced "+tc.typ, []map[string]any{{"airtable": "Name", "postgres": "name", "direction": "both"}}, map[string]any{
				"airtable": map[string]any{"base_id": testBase, "table": atTable, "modified_field": "Last Modified"},
				"postgres": map[string]any{"table": "public." + table, "updated_at": "updated_at"},
				"key":      map[string]any{"airtable": "ID", "postgres": "id"},
			})
			var list struct {
				Mappings []struct {
					ID       string `json:"id"`
					LastSync *struct {
						RunID    string     `json:"run_id"`
						SyncedAt *time.Time `json:"synced_at"`
					} `json:"last_sync"`
				} `json:"mappings"`
			}
			c.do(http.MethodGet, "/v1/airtable/mappings", nil).json(t, &list)
			seen := 0
			for _, m := range list.Mappings {
				switch m.ID {
				case id:
					seen++
					if m.LastSync == nil || m.LastSync.RunID != done.ID || m.LastSync.SyncedAt == nil {
						t.Errorf("listed mapping %s: last sync %+v, want run %s", id, m.LastSync, done.ID)
					}
				case unsynced:
					seen++
					if m.LastSync != nil {
						t.Errorf("a mapping never synced lists a last sync: %+v", m.LastSync)
					}
				}
			}
			if seen != 2 {
				t.Errorf("the list has %d of the 2 mappings: %+v", seen, list.Mappings)
			}
		})
	}
}
