package test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/groundwork-dev/groundwork"
	"github.com/groundwork-dev/groundwork/activities"
)

// walkerDefinitionSlug is the assessment definition the route walker uses.
const walkerDefinitionSlug = "walker-def"

// walkerDefinition is a small valid assessment definition.
const walkerDefinition = `{"slug": "walker-def", "name": "Walker", "categories": [{"key": "c1", "name": "One", "weight": 1}],
 "questions": [{"key": "q1", "category": "c1", "text": "How far?", "weight": 1, "scale": {"min": 1, "max": 5}},
               {"key": "q2", "category": "c1", "text": "Done?", "weight": 1, "options": [{"value": "yes", "score": 100}, {"value": "no", "score": 0}]}],
 "levels": [{"name": "Starting", "min_score": 0}, {"name": "Good", "min_score": 60}]}`

// seedWalkerCustomer stores a customer, a manual milestone, the walker's
// definition and a scored assessment in workspace, straight in Postgres,
// and returns their IDs.
func seedWalkerCustomer(t *testing.T, s *stack, workspace, user string) (customer, milestone, assessment string) {
	t.Helper()
	ctx := context.Background()
	customer, milestone, assessment = "cus_walker_"+workspace, "ms_walker_"+workspace, "assessment-01JD4X7Q2W6ZC5D3V9N8K1M2P9"
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO workspaces (id) VALUES ($1) ON CONFLICT DO NOTHING`, []any{workspace}},
		{`INSERT INTO customers (id, workspace_id, name) VALUES ($1, $2, 'Walker Co')`, []any{customer, workspace}},
		{`INSERT INTO milestones (id, workspace_id, name, position, rule_kind) VALUES ($1, $2, 'Kickoff', 1, 'manual')`, []any{milestone, workspace}},
		{`INSERT INTO assessment_definitions (workspace_id, slug, version, body, body_hash, created_by) VALUES ($1, $2, 1, $3, '\x00', $4)`,
			[]any{workspace, walkerDefinitionSlug, walkerDefinition, user}},
		{`INSERT INTO assessments (id, workspace_id, customer_id, definition, version, overall, level, categories, percentile, cohort_size)
		  VALUES ($1, $2, $3, $4, 1, 50, 'Starting', '{"c1": 50}', 50, 1)`, []any{assessment, workspace, customer, walkerDefinitionSlug}},
	} {
		if _, err := s.App.Pool.Exec(ctx, q.sql, q.args...); err != nil {
			t.Fatalf("%s: %v", q.sql, err)
		}
	}
	return customer, milestone, assessment
}

// seedWalkerWebhook stores an endpoint with one dead message and its dead
// letter in workspace, straight in Postgres.
func seedWalkerWebhook(t *testing.T, s *stack, workspace, user string) (endpoint, message, deadLetter string) {
	t.Helper()
	endpoint, message, deadLetter = "wep_walker_"+workspace, "msg_walker_"+workspace, "dl_walker_"+workspace
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO webhook_endpoints (id, workspace_id, url, event_types, rate_per_second, secret_ciphertext, created_by)
		  VALUES ($1, $2, 'https://hooks.example/x', '{run.succeeded}', 10, '\x00', $3)`, []any{endpoint, workspace, user}},
		{`INSERT INTO webhook_messages (id, endpoint_id, workspace_id, event_key, event_type, payload, status, dispatched_at)
		  VALUES ($1, $2, $3, 'k', 'run.succeeded', '{}', 'dead', now())`, []any{message, endpoint, workspace}},
		{`INSERT INTO dead_letters (id, workspace_id, owner_id, kind, message_id, generation, endpoint_id, error_type, error)
		  VALUES ($1, $2, $3, 'webhook', $4, 0, $5, 'delivery_failed', 'walker')`, []any{deadLetter, workspace, user, message, endpoint}},
		{`INSERT INTO webhook_sources (id, workspace_id, owner_id, name, mode, action) VALUES ($1, $2, $3, 'walker', 'signature', '{"type": "track"}')`,
			[]any{walkerSource(workspace), workspace, user}},
	} {
		if _, err := s.App.Pool.Exec(context.Background(), q.sql, q.args...); err != nil {
			t.Fatalf("%s: %v", q.sql, err)
		}
	}
	return endpoint, message, deadLetter
}

// walkerSource is the ID of the webhook source seedWalkerWebhook stores.
func walkerSource(workspace string) string { return "src_walker_" + workspace }

// status sends a request and returns once the answer's headers arrived,
// for streams that do not end by themselves.
func (c *apiClient) status(method, path string) response {
	c.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, nil)
	if err != nil {
		c.t.Fatal(err)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	r := response{Status: resp.StatusCode, Header: resp.Header}
	if resp.StatusCode != http.StatusOK {
		var b strings.Builder
		buf := make([]byte, 4096)
		n, _ := resp.Body.Read(buf)
		b.Write(buf[:n])
		r.Body = []byte(b.String())
	}
	return r
}

// customer mirrors the API's customer JSON.
type customer struct {
	ID             string          `json:"id"`
	Name           string          `json:"name"`
	Domain         string          `json:"domain"`
	Stage          string          `json:"stage"`
	OwnerUserID    string          `json:"owner_user_id"`
	ExternalID     string          `json:"external_id"`
	CustomFields   json.RawMessage `json:"custom_fields"`
	LastActivityAt *time.Time      `json:"last_activity_at"`
	Events         *int64          `json:"events"`
}

func (c *apiClient) createCustomer(body map[string]any) customer {
	c.t.Helper()
	b, _ := json.Marshal(body)
	r := c.do(http.MethodPost, "/v1/customers", b)
	if r.Status != http.StatusCreated {
		c.t.Fatalf("create customer: %d %s", r.Status, r.Body)
	}
	var cu customer
	r.json(c.t, &cu)
	return cu
}

// trackResult mirrors the API's answer to an ingest.
type trackResult struct {
	Accepted   int   `json:"accepted"`
	Stored     int64 `json:"stored"`
	Duplicates int64 `json:"duplicates"`
	Rejected   []struct {
		Index int `json:"index"`
	} `json:"rejected"`
	MilestonesAchieved []struct {
		CustomerID  string `json:"customer_id"`
		MilestoneID string `json:"milestone_id"`
	} `json:"milestones_achieved"`
}

type event map[string]any

func ev(id, customer, typ string, at time.Time) event {
	return event{"id": id, "customer_id": customer, "type": typ, "occurred_at": at.UTC().Format(time.RFC3339Nano)}
}

func (c *apiClient) track(events []event, query string) (trackResult, response) {
	c.t.Helper()
	b, _ := json.Marshal(map[string]any{"events": events})
	r := c.do(http.MethodPost, "/v1/track"+query, b)
	var tr trackResult
	if r.Status == http.StatusOK {
		r.json(c.t, &tr)
	}
	return tr, r
}

func fieldsOf(t *testing.T, r response) []string {
	t.Helper()
	var p problemDoc
	r.json(t, &p)
	var out []string
	for _, e := range p.Errors {
		out = append(out, e.Field)
	}
	slices.Sort(out)
	return out
}

func TestCustomersCRUDAndList(t *testing.T) {
	s := sharedStack(t)
	admin := s.client(t, "crm-admin", "crm-ws", "admin")
	member := s.client(t, "crm-member", "crm-ws", "member")
	other := s.client(t, "crm-other", "crm-other-ws", "admin")

	old := time.Now().Add(-30 * 24 * time.Hour).UTC().Format(time.RFC3339)
	acme := admin.createCustomer(map[string]any{"name": "Acme Corp", "domain": "acme.example", "external_id": "crm-1",
		"owner_user_id": "crm-admin", "stage": "adoption", "custom_fields": map[string]any{"tier": "gold"}, "started_at": old})
	globex := admin.createCustomer(map[string]any{"name": "Globex", "started_at": old})
	initech := member.createCustomer(map[string]any{"name": "Initech 100%_off", "external_id": "crm-3"})
	if acme.Stage != "adoption" || globex.Stage != "onboarding" || string(acme.CustomFields) != `{"tier":"gold"}` {
		t.Fatalf("created: %+v %+v", acme, globex)
	}

	dup, _ := json.Marshal(map[string]any{"name": "Again", "external_id": "crm-1"})
	if r := admin.do(http.MethodPost, "/v1/customers", dup); r.Status != http.StatusConflict || !strings.HasSuffix(problemType(t, r), "/external_id_taken") {
		t.Errorf("duplicate external_id: %d %s", r.Status, r.Body)
	}
	bad := []byte(`{"name": " ", "domain": "not a domain", "custom_fields": [1]}`)
	if r := admin.do(http.MethodPost, "/v1/customers", bad); r.Status != http.StatusUnprocessableEntity ||
		!slices.Equal(fieldsOf(t, r), []string{"custom_fields", "domain", "name"}) {
		t.Errorf("invalid customer: %d %s", r.Status, r.Body)
	}
	if r := admin.do(http.MethodPost, "/v1/customers", []byte(`{"name": "X", "stage": "won"}`)); r.Status != http.StatusUnprocessableEntity {
		t.Errorf("unknown stage: %d %s", r.Status, r.Body)
	}

	list := func(c *apiClient, query string) ([]string, string) {
		t.Helper()
		r := c.do(http.MethodGet, "/v1/customers"+query, nil)
		if r.Status != http.StatusOK {
			t.Fatalf("list %s: %d %s", query, r.Status, r.Body)
		}
		var out struct {
			Customers  []customer `json:"customers"`
			NextCursor string     `json:"next_cursor"`
		}
		r.json(t, &out)
		var ids []string
		for _, c := range out.Customers {
			ids = append(ids, c.ID)
		}
		return ids, out.NextCursor
	}
	page1, cursor := list(admin, "?limit=2")
	page2, end := list(admin, "?limit=2&cursor="+cursor)
	// IDs sort by creation time to the millisecond: newest first, but three
	// created within one millisecond may come in any order.
	all := append(page1, page2...)
	want := []string{initech.ID, globex.ID, acme.ID}
	slices.Sort(want)
	slices.Reverse(want)
	if !slices.Equal(all, want) || len(page1) != 2 || end != "" {
		t.Errorf("pages: %v %v (cursor %q)", page1, page2, end)
	}
	if ids, _ := list(admin, "?stage=adoption"); !slices.Equal(ids, []string{acme.ID}) {
		t.Errorf("stage filter: %v", ids)
	}
	if ids, _ := list(admin, "?owner=crm-admin"); !slices.Equal(ids, []string{acme.ID}) {
		t.Errorf("owner filter: %v", ids)
	}
	if ids, _ := list(admin, "?q=ACME"); !slices.Equal(ids, []string{acme.ID}) {
		t.Errorf("text search: %v", ids)
	}
	// LIKE's wildcards are searched as text.
	if ids, _ := list(admin, "?q=%25_off"); !slices.Equal(ids, []string{initech.ID}) {
		t.Errorf("search for %%_off: %v", ids)
	}
	if ids, _ := list(admin, "?q=100%25x"); len(ids) != 0 {
		t.Errorf("search for 100%%x: %v", ids)
	}
	// Globex started 30 days ago and never did anything; Acme did today.
	if _, r := admin.track([]event{ev("crm-e1", acme.ID, "login", time.Now())}, ""); r.Status != http.StatusOK {
		t.Fatalf("track: %d %s", r.Status, r.Body)
	}
	if ids, _ := list(admin, "?stalled=true"); !slices.Equal(ids, []string{globex.ID}) {
		t.Errorf("stalled filter: %v", ids)
	}
	if ids, _ := list(other, ""); len(ids) != 0 {
		t.Errorf("another workspace lists %v", ids)
	}

	patch := []byte(`{"stage": "expansion", "domain": "", "custom_fields": {"tier": "platinum"}}`)
	r := member.do(http.MethodPatch, "/v1/customers/"+acme.ID, patch)
	var got customer
	r.json(t, &got)
	if r.Status != http.StatusOK || got.Stage != "expansion" || got.Domain != "" || got.Name != "Acme Corp" || string(got.CustomFields) != `{"tier":"platinum"}` {
		t.Errorf("patch: %d %s", r.Status, r.Body)
	}
	for _, c := range []*apiClient{other} {
		if r := c.do(http.MethodGet, "/v1/customers/"+acme.ID, nil); r.Status != http.StatusNotFound {
			t.Errorf("another workspace's customer: %d", r.Status)
		}
		if r := c.do(http.MethodPatch, "/v1/customers/"+acme.ID, patch); r.Status != http.StatusNotFound {
			t.Errorf("patch of another workspace's customer: %d", r.Status)
		}
	}
	for _, path := range []string{"/v1/customers/%00", "/v1/customers?q=a%00b", "/v1/customers?cursor=%00"} {
		if r := admin.do(http.MethodGet, path, nil); r.Status != http.StatusBadRequest {
			t.Errorf("GET %s: %d %s", path, r.Status, r.Body)
		}
	}
	if r := admin.do(http.MethodGet, "/v1/customers/cus_nope", nil); r.Status != http.StatusNotFound {
		t.Errorf("unknown customer: %d", r.Status)
	}
	if r := member.do(http.MethodDelete, "/v1/customers/"+acme.ID, nil); r.Status != http.StatusForbidden {
		t.Errorf("member delete: %d", r.Status)
	}
	if r := admin.do(http.MethodDelete, "/v1/customers/"+acme.ID, nil); r.Status != http.StatusNoContent {
		t.Fatalf("delete: %d %s", r.Status, r.Body)
	}
	var left int
	if err := s.App.Pool.QueryRow(context.Background(), `SELECT count(*) FROM events WHERE customer_id = $1`, acme.ID).Scan(&left); err != nil || left != 0 {
		t.Errorf("a deleted customer's events: %d %v", left, err)
	}
}

func TestTrackingIsIdempotentAndAllOrNothing(t *testing.T) {
	s := sharedStack(t)
	c := s.client(t, "trk-admin", "trk-ws", "admin")
	other := s.client(t, "trk-other", "trk-other-ws", "admin")
	a := c.createCustomer(map[string]any{"name": "A"})
	b := c.createCustomer(map[string]any{"name": "B"})
	stranger := other.createCustomer(map[string]any{"name": "Not yours"})
	now := time.Now()
	count := func(customer string) int {
		t.Helper()
		var n int
		if err := s.App.Pool.QueryRow(context.Background(), `SELECT count(*) FROM events WHERE customer_id = $1`, customer).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	batch := []event{ev("e1", a.ID, "login", now.Add(-time.Hour)), ev("e2", a.ID, "feature_used", now), ev("e3", b.ID, "login", now)}
	res, r := c.track(batch, "")
	if r.Status != http.StatusOK || res.Stored != 3 || res.Duplicates != 0 {
		t.Fatalf("first batch: %d %s", r.Status, r.Body)
	}
	// Sent again, and once more with a duplicate inside the batch.
	res, _ = c.track(append(batch, batch[0]), "")
	if res.Accepted != 4 || res.Stored != 0 || res.Duplicates != 4 {
		t.Errorf("re-sent batch: %+v", res)
	}
	if n := count(a.ID); n != 2 {
		t.Errorf("customer A has %d events, want 2", n)
	}
	var prog struct {
		Events int64 `json:"events"`
	}
	c.do(http.MethodGet, "/v1/customers/"+a.ID+"/progress", nil).json(t, &prog)
	if prog.Events != 2 {
		t.Errorf("progress counts %d events, want 2", prog.Events)
	}

	// One bad event refuses the whole batch, naming each bad index.
	mixed := []event{
		ev("m0", a.ID, "login", now),
		ev("m1", a.ID, "Not A Type", now),
		ev("m2", a.ID, "login", now.Add(48*time.Hour)),
		ev("m3", stranger.ID, "login", now),
		ev("m4", a.ID, "login", now.Add(-500*24*time.Hour)),
		{"id": "m5", "customer_id": a.ID, "type": "login", "occurred_at": now.Format(time.RFC3339), "properties": map[string]any{"big": strings.Repeat("x", 9000)}},
	}
	_, r = c.track(mixed, "")
	want := []string{"events[1].type", "events[2].occurred_at", "events[3].customer_id", "events[4].occurred_at", "events[5].properties"}
	if r.Status != http.StatusUnprocessableEntity || !slices.Equal(fieldsOf(t, r), want) {
		t.Errorf("mixed batch: %d %s", r.Status, r.Body)
	}
	if n := count(a.ID); n != 2 {
		t.Errorf("a refused batch stored events: A has %d", n)
	}
	if n := count(stranger.ID); n != 0 {
		t.Errorf("another workspace's customer got %d events", n)
	}
	res, r = c.track(mixed, "?partial=true")
	var rejected []int
	for _, rj := range res.Rejected {
		rejected = append(rejected, rj.Index)
	}
	if r.Status != http.StatusOK || res.Stored != 1 || !slices.Equal(rejected, []int{1, 2, 3, 4, 5}) {
		t.Errorf("partial batch: %d %s", r.Status, r.Body)
	}

	// One event on a customer's own route.
	one := []byte(fmt.Sprintf(`{"id": "solo", "type": "meeting", "occurred_at": %q, "properties": {"with": "CFO"}}`, now.Format(time.RFC3339)))
	if r := c.do(http.MethodPost, "/v1/customers/"+b.ID+"/track", one); r.Status != http.StatusOK {
		t.Errorf("track one: %d %s", r.Status, r.Body)
	}
	mismatch := []byte(fmt.Sprintf(`{"id": "solo2", "customer_id": %q, "type": "meeting", "occurred_at": %q}`, a.ID, now.Format(time.RFC3339)))
	if r := c.do(http.MethodPost, "/v1/customers/"+b.ID+"/track", mismatch); r.Status != http.StatusUnprocessableEntity {
		t.Errorf("track one naming another customer: %d %s", r.Status, r.Body)
	}
	if r := other.do(http.MethodPost, "/v1/customers/"+b.ID+"/track", one); r.Status != http.StatusNotFound {
		t.Errorf("track on another workspace's customer: %d %s", r.Status, r.Body)
	}
	tooMany := make([]event, 1001)
	for i := range tooMany {
		tooMany[i] = ev(fmt.Sprint("x", i), a.ID, "login", now)
	}
	if _, r := c.track(tooMany, ""); r.Status != http.StatusUnprocessableEntity {
		t.Errorf("1,001 events: %d", r.Status)
	}
}

// TestMilestonesAchievedExactlyOnce races batches that together pass an
// events rule's threshold many times over: the milestone is achieved once,
// reported once, and recorded once.
func TestMilestonesAchievedExactlyOnce(t *testing.T) {
	s := sharedStack(t)
	c := s.client(t, "ms-admin", "ms-ws", "admin")
	member := s.client(t, "ms-member", "ms-ws", "member")
	cu := c.createCustomer(map[string]any{"name": "Racer"})
	cu2 := c.createCustomer(map[string]any{"name": "Racer 2"})
	r := c.do(http.MethodPost, "/v1/milestones", []byte(`{"name": "Five features", "position": 2, "due_days": 30, "rule": {"kind": "events", "event_type": "feature_used", "min_events": 5}}`))
	if r.Status != http.StatusCreated {
		t.Fatalf("create milestone: %d %s", r.Status, r.Body)
	}
	var ms struct {
		ID string `json:"id"`
	}
	r.json(t, &ms)

	const clients, batches, perBatch = 8, 5, 3
	var mu sync.Mutex
	reported := 0
	var wg sync.WaitGroup
	for w := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range batches {
				var evs []event
				for i := range perBatch {
					evs = append(evs, ev(fmt.Sprintf("race-%d-%d-%d", w, b, i), cu.ID, "feature_used", time.Now()),
						ev(fmt.Sprintf("race2-%d-%d-%d", w, b, i), cu2.ID, "feature_used", time.Now()))
				}
				b, _ := json.Marshal(map[string]any{"events": evs})
				resp := c.do(http.MethodPost, "/v1/track", b)
				if resp.Status != http.StatusOK {
					t.Errorf("batch: %d %s", resp.Status, resp.Body)
					return
				}
				var tr trackResult
				_ = json.Unmarshal(resp.Body, &tr)
				mu.Lock()
				reported += len(tr.MilestonesAchieved)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	var rows int
	if err := s.App.Pool.QueryRow(context.Background(), `SELECT count(*) FROM customer_milestones WHERE milestone_id = $1`, ms.ID).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows != 2 || reported != 2 {
		t.Errorf("milestone achieved %d times, reported %d times; want once per customer (2)", rows, reported)
	}

	// A rule milestone defined later is achieved at once by who reaches it.
	r = c.do(http.MethodPost, "/v1/milestones", []byte(`{"name": "Thousand features", "position": 3, "rule": {"kind": "events", "event_type": "feature_used", "min_events": 1000}}`))
	var later struct {
		ID string `json:"id"`
	}
	r.json(t, &later)
	r = c.do(http.MethodPost, "/v1/milestones", []byte(`{"name": "Kickoff", "position": 1, "rule": {"kind": "manual"}}`))
	var kickoff struct {
		ID string `json:"id"`
	}
	r.json(t, &kickoff)
	var list struct {
		Milestones []struct {
			ID       string `json:"id"`
			Achieved bool   `json:"achieved"`
			Current  *int64 `json:"current"`
		} `json:"milestones"`
	}
	c.do(http.MethodGet, "/v1/customers/"+cu.ID+"/milestones", nil).json(t, &list)
	if len(list.Milestones) != 3 || list.Milestones[0].ID != kickoff.ID || list.Milestones[0].Achieved ||
		!list.Milestones[1].Achieved || *list.Milestones[1].Current != clients*batches*perBatch || list.Milestones[2].Achieved {
		t.Errorf("customer milestones: %+v", list.Milestones)
	}

	// Manual milestones are completed and reopened by hand, by members too.
	base := "/v1/customers/" + cu.ID + "/milestones/"
	if r := member.do(http.MethodPost, base+kickoff.ID+"/complete", nil); r.Status != http.StatusOK || !strings.Contains(string(r.Body), `"achieved_by":"ms-member"`) {
		t.Errorf("complete: %d %s", r.Status, r.Body)
	}
	if r := member.do(http.MethodPost, base+kickoff.ID+"/complete", nil); r.Status != http.StatusOK {
		t.Errorf("complete again: %d %s", r.Status, r.Body)
	}
	if r := member.do(http.MethodPost, base+ms.ID+"/reopen", nil); r.Status != http.StatusConflict || !strings.HasSuffix(problemType(t, r), "/milestone_not_manual") {
		t.Errorf("reopen a rule milestone: %d %s", r.Status, r.Body)
	}
	if r := member.do(http.MethodPost, base+kickoff.ID+"/reopen", nil); r.Status != http.StatusOK || !strings.Contains(string(r.Body), `"achieved":false`) {
		t.Errorf("reopen: %d %s", r.Status, r.Body)
	}
	if r := member.do(http.MethodPost, "/v1/milestones", []byte(`{"name": "M", "position": 1, "rule": {"kind": "manual"}}`)); r.Status != http.StatusForbidden {
		t.Errorf("member defines a milestone: %d", r.Status)
	}
	if r := c.do(http.MethodPost, "/v1/milestones", []byte(`{"name": "Kickoff", "position": 1, "rule": {"kind": "manual"}}`)); r.Status != http.StatusConflict {
		t.Errorf("a second milestone of the same name: %d", r.Status)
	}
	if r := c.do(http.MethodPost, "/v1/milestones", []byte(`{"name": "Bad", "position": 1, "rule": {"kind": "events", "event_type": "x", "min_events": 0, "min_score": 5}}`)); r.Status != http.StatusUnprocessableEntity {
		t.Errorf("an invalid rule: %d %s", r.Status, r.Body)
	}
}

// engagementScore is the documented formula, written out again.
func engagementScore(w7, w30 float64) int {
	return int(math.Round(100 * (0.6*(1-math.Exp(-w7/10)) + 0.4*(1-math.Exp(-w30/40)))))
}

func TestProgressAndInsights(t *testing.T) {
	s := sharedStack(t)
	c := s.client(t, "pi-admin", "pi-ws", "admin")
	now := time.Now()
	started := now.Add(-40 * 24 * time.Hour)
	cu := c.createCustomer(map[string]any{"name": "Progressing", "stage": "adoption", "started_at": started.UTC().Format(time.RFC3339)})
	idle := c.createCustomer(map[string]any{"name": "Idle", "started_at": now.Add(-20 * 24 * time.Hour).UTC().Format(time.RFC3339)})
	for _, m := range []string{
		`{"name": "Onboarded", "position": 1, "due_days": 10, "rule": {"kind": "manual"}}`,
		`{"name": "Ten meetings", "position": 2, "due_days": 44, "rule": {"kind": "events", "event_type": "meeting", "min_events": 10}}`,
	} {
		if r := c.do(http.MethodPost, "/v1/milestones", []byte(m)); r.Status != http.StatusCreated {
			t.Fatalf("milestone: %d %s", r.Status, r.Body)
		}
	}
	// Last week: 10 feature_used (weight 2); this week: 2 meetings (weight 5).
	var evs []event
	for i := range 10 {
		evs = append(evs, ev(fmt.Sprint("pf", i), cu.ID, "feature_used", now.Add(-9*24*time.Hour-time.Duration(i)*time.Minute)))
	}
	evs = append(evs, ev("pm1", cu.ID, "meeting", now.Add(-24*time.Hour)), ev("pm2", cu.ID, "meeting", now.Add(-48*time.Hour)))
	if _, r := c.track(evs, ""); r.Status != http.StatusOK {
		t.Fatalf("track: %d %s", r.Status, r.Body)
	}

	var p struct {
		Stage      string `json:"stage"`
		Milestones struct {
			Done, Total, Overdue int
			Next                 *struct {
				Name    string `json:"name"`
				Overdue bool   `json:"overdue"`
			} `json:"next"`
		} `json:"milestones"`
		LastActivityAt *time.Time `json:"last_activity_at"`
		Events         int64      `json:"events"`
		Engagement     struct {
			Score        int      `json:"score"`
			Weighted7    float64  `json:"weighted_7d"`
			Weighted30   float64  `json:"weighted_30d"`
			Previous7    float64  `json:"weighted_previous_7d"`
			TrendPercent *float64 `json:"trend_percent"`
			Trend        string   `json:"trend"`
		} `json:"engagement"`
	}
	r := c.do(http.MethodGet, "/v1/customers/"+cu.ID+"/progress", nil)
	if r.Status != http.StatusOK {
		t.Fatalf("progress: %d %s", r.Status, r.Body)
	}
	r.json(t, &p)
	e := p.Engagement
	if p.Stage != "adoption" || p.Milestones.Total != 2 || p.Milestones.Done != 0 || p.Milestones.Overdue != 1 ||
		p.Milestones.Next == nil || p.Milestones.Next.Name != "Onboarded" || !p.Milestones.Next.Overdue || p.Events != 12 ||
		p.LastActivityAt == nil || now.Sub(*p.LastActivityAt) > 25*time.Hour {
		t.Errorf("progress: %s", r.Body)
	}
	if e.Weighted7 != 10 || e.Weighted30 != 30 || e.Previous7 != 20 || e.Score != engagementScore(10, 30) ||
		e.TrendPercent == nil || *e.TrendPercent != -50 || e.Trend != "down" {
		t.Errorf("engagement: %+v (want score %d)", e, engagementScore(10, 30))
	}

	// The same events over time: a day bucket each, weighted as the score weighs them.
	var ts struct {
		Series []struct {
			Events       int64            `json:"events"`
			Weighted     float64          `json:"weighted"`
			EventsByType map[string]int64 `json:"events_by_type"`
		} `json:"series"`
	}
	r = c.do(http.MethodGet, "/v1/analytics/customers/"+cu.ID+"/timeseries?granularity=day&from="+now.AddDate(0, 0, -14).Format(time.RFC3339), nil)
	if r.Status != http.StatusOK {
		t.Fatalf("timeseries: %d %s", r.Status, r.Body)
	}
	r.json(t, &ts)
	var events, meetings int64
	var weighted float64
	for _, b := range ts.Series {
		events, weighted, meetings = events+b.Events, weighted+b.Weighted, meetings+b.EventsByType["meeting"]
	}
	if events != 12 || weighted != 30 || meetings != 2 || len(ts.Series) < 3 {
		t.Errorf("timeseries: %s", r.Body)
	}

	kinds := func(id string) []string {
		t.Helper()
		var out struct {
			Insights []struct {
				Kind    string         `json:"kind"`
				Detail  string         `json:"detail"`
				Numbers map[string]any `json:"numbers"`
			} `json:"insights"`
		}
		r := c.do(http.MethodGet, "/v1/customers/"+id+"/insights", nil)
		if r.Status != http.StatusOK {
			t.Fatalf("insights: %d %s", r.Status, r.Body)
		}
		r.json(t, &out)
		var ks []string
		for _, in := range out.Insights {
			if in.Detail == "" || len(in.Numbers) == 0 {
				t.Errorf("insight %s without its explanation: %+v", in.Kind, in)
			}
			ks = append(ks, in.Kind)
		}
		return ks
	}
	// Onboarded is overdue. The meetings milestone, the next one not yet
	// due, is due in 4 days, 8 meetings short at a pace of 2 a week: at
	// risk. Not stalled: the last meeting was yesterday.
	if got := kinds(cu.ID); !slices.Equal(got, []string{"milestone_overdue", "engagement_down", "milestone_at_risk"}) {
		t.Errorf("insights: %v", got)
	}
	if got := kinds(idle.ID); !slices.Equal(got, []string{"stalled", "milestone_overdue"}) {
		t.Errorf("idle customer's insights: %v", got)
	}

	// The narrative turns them into text; without an LLM provider, by rules.
	nr, resp := c.start("/v1/customers/"+cu.ID+"/insights/narrative", nil)
	if resp.Status != http.StatusAccepted {
		t.Fatalf("narrative: %d %s", resp.Status, resp.Body)
	}
	done := c.waitRun(nr.ID)
	fields, _ := done.Result["fields"].(map[string]any)
	summary, _ := fields["summary"].(string)
	if done.Status != "succeeded" || done.Result["provider"] != "rules" || !strings.Contains(summary, "Onboarded") || fields["next_step"] == "" {
		t.Fatalf("narrative run: %+v", done)
	}
	// A generation renders as a document too.
	exp, resp := c.startExport(map[string]any{"format": "docx", "source": map[string]any{"run_id": nr.ID}})
	if resp.Status != http.StatusAccepted {
		t.Fatalf("export the narrative: %d %s", resp.Status, resp.Body)
	}
	if d := c.waitRun(exp.ID); d.Status != "succeeded" {
		t.Errorf("narrative export: %+v", d)
	}
}

// assessmentDefinition has two weighted categories, a scale and an
// options question, and three levels.
const assessmentDefinition = `{"slug": "sales-maturity", "name": "Sales maturity",
 "categories": [{"key": "pipeline", "name": "Pipeline", "weight": 2}, {"key": "coaching", "name": "Coaching", "weight": 1, "recommendation": "Run a weekly call review."}],
 "questions": [
   {"key": "q1", "category": "pipeline", "text": "How well is the pipeline reviewed?", "weight": 1, "scale": {"min": 1, "max": 5}},
   {"key": "q2", "category": "pipeline", "text": "Are stages defined?", "weight": 3, "options": [{"value": "yes", "score": 100}, {"value": "partly", "score": 40}, {"value": "no", "score": 0}]},
   {"key": "q3", "category": "coaching", "text": "Coaching hours a month?", "weight": 1, "scale": {"min": 0, "max": 10}}],
 "levels": [{"name": "Starting", "min_score": 0}, {"name": "Developing", "min_score": 50}, {"name": "Leading", "min_score": 80}]}`

func TestAssessmentScoredAndExported(t *testing.T) {
	s := sharedStack(t)
	c := s.client(t, "as-admin", "as-ws", "admin")
	member := s.client(t, "as-member", "as-ws", "member")
	other := s.client(t, "as-other", "as-other-ws", "admin")
	strong := c.createCustomer(map[string]any{"name": "Strong"})
	weak := c.createCustomer(map[string]any{"name": "Weak"})

	publish := func(body string) (int, int) {
		t.Helper()
		r := c.do(http.MethodPost, "/v1/assessment-definitions", []byte(body))
		var v struct {
			Version int `json:"version"`
		}
		if r.Status < 300 {
			r.json(t, &v)
		}
		return r.Status, v.Version
	}
	if st, v := publish(assessmentDefinition); st != http.StatusCreated || v != 1 {
		t.Fatalf("publish: %d v%d", st, v)
	}
	if st, v := publish(assessmentDefinition); st != http.StatusOK || v != 1 {
		t.Errorf("publish unchanged: %d v%d", st, v)
	}
	changed := strings.Replace(assessmentDefinition, `"Sales maturity"`, `"Sales maturity 2"`, 1)
	if st, v := publish(changed); st != http.StatusCreated || v != 2 {
		t.Errorf("publish changed: %d v%d", st, v)
	}
	if r := member.do(http.MethodPost, "/v1/assessment-definitions", []byte(assessmentDefinition)); r.Status != http.StatusForbidden {
		t.Errorf("member publishes: %d", r.Status)
	}
	invalid := strings.Replace(assessmentDefinition, `"category": "coaching"`, `"category": "nope"`, 1)
	if st, _ := publish(invalid); st != http.StatusUnprocessableEntity {
		t.Errorf("definition with an unknown category: %d", st)
	}
	if r := c.do(http.MethodPost, "/v1/milestones", []byte(`{"name": "Pipeline mastered", "position": 1, "rule": {"kind": "assessment", "definition": "sales-maturity", "category": "pipeline", "min_score": 90}}`)); r.Status != http.StatusCreated {
		t.Fatalf("milestone: %d %s", r.Status, r.Body)
	}

	// Bad answers are named one by one before any run starts.
	bad := map[string]any{"customer_id": strong.ID, "definition": "sales-maturity", "version": 1,
		"answers": map[string]any{"q1": 9, "q2": "maybe", "q9": 1}}
	_, r := c.start("/v1/assessments", bad)
	if r.Status != http.StatusUnprocessableEntity || !slices.Equal(fieldsOf(t, r), []string{"answers.q1", "answers.q2", "answers.q3", "answers.q9"}) {
		t.Errorf("bad answers: %d %s", r.Status, r.Body)
	}
	if _, r := c.start("/v1/assessments", map[string]any{"customer_id": "cus_nope", "definition": "sales-maturity", "answers": map[string]any{}}); r.Status != http.StatusUnprocessableEntity {
		t.Errorf("unknown customer: %d", r.Status)
	}

	score := func(cu string, answers map[string]any) map[string]any {
		t.Helper()
		run, r := c.start("/v1/assessments", map[string]any{"customer_id": cu, "definition": "sales-maturity", "version": 1, "answers": answers})
		if r.Status != http.StatusAccepted {
			t.Fatalf("start assessment: %d %s", r.Status, r.Body)
		}
		done := c.waitRun(run.ID)
		if done.Status != "succeeded" {
			t.Fatalf("assessment run: %+v", done)
		}
		done.Result["run_id"] = run.ID
		return done.Result
	}
	// Written out: pipeline = (75×1 + 100×3) / 4 = 93.75; coaching = 30;
	// overall = (93.75×2 + 30×1) / 3 = 72.5 → Developing.
	res := score(strong.ID, map[string]any{"q1": 4, "q2": "yes", "q3": 3})
	pipeline := (75.0*1 + 100*3) / 4
	overall := (pipeline*2 + 30*1) / 3
	cats, _ := res["categories"].([]any)
	if res["overall"] != overall || res["level"] != "Developing" || len(cats) != 2 || res["percentile"] != 50.0 || res["cohort_size"] != 1.0 ||
		res["recommendations_by"] != "rules" {
		t.Errorf("strong result: %+v", res)
	}
	if c0, _ := cats[0].(map[string]any); c0["key"] != "pipeline" || c0["score"] != pipeline {
		t.Errorf("pipeline category: %+v", cats)
	}
	recs, _ := res["recommendations"].([]any)
	if r0, _ := recs[0].(map[string]any); len(recs) != 2 || r0["category"] != "coaching" || !strings.Contains(r0["text"].(string), "weekly call review") {
		t.Errorf("recommendations: %+v", recs)
	}
	// Weaker than the one before it: a quarter of the cohort ((0 + ½) / 2).
	weakRes := score(weak.ID, map[string]any{"q1": 1, "q2": "no", "q3": 0})
	if weakRes["overall"] != 0.0 || weakRes["level"] != "Starting" || weakRes["percentile"] != 25.0 || weakRes["cohort_size"] != 2.0 {
		t.Errorf("weak result: %+v", weakRes)
	}
	achieved := func(cu string) int {
		var p struct {
			Milestones struct{ Done int } `json:"milestones"`
		}
		c.do(http.MethodGet, "/v1/customers/"+cu+"/progress", nil).json(t, &p)
		return p.Milestones.Done
	}
	if achieved(strong.ID) != 1 || achieved(weak.ID) != 0 {
		t.Errorf("assessment milestone: strong %d, weak %d", achieved(strong.ID), achieved(weak.ID))
	}
	id := res["assessment_id"].(string)
	// A retried score (its worker killed after the commit) finds the
	// stored result: nothing scored, stored or achieved twice.
	again, err := (&activities.Assessments{Pool: s.App.Pool}).AssessmentScore(context.Background(), groundwork.RunInput{RunID: id, OwnerID: "as-admin"})
	if err != nil || again.Overall != overall {
		t.Errorf("score again: %+v %v", again, err)
	}
	var rows, achievedRows int
	_ = s.App.Pool.QueryRow(context.Background(), `SELECT count(*) FROM assessments WHERE id = $1`, id).Scan(&rows)
	_ = s.App.Pool.QueryRow(context.Background(), `SELECT count(*) FROM customer_milestones WHERE customer_id = $1`, strong.ID).Scan(&achievedRows)
	if rows != 1 || achievedRows != 1 {
		t.Errorf("after a retried score: %d assessments, %d milestones", rows, achievedRows)
	}
	if r := other.do(http.MethodGet, "/v1/assessments/"+id, nil); r.Status != http.StatusNotFound {
		t.Errorf("another workspace's assessment: %d", r.Status)
	}
	if r := member.do(http.MethodGet, "/v1/assessments/"+id, nil); r.Status != http.StatusOK || !strings.Contains(string(r.Body), `"level":"Developing"`) {
		t.Errorf("a member reads the workspace's assessment: %d %s", r.Status, r.Body)
	}

	// The result renders to PDF with its chart.
	exp, r := c.startExport(map[string]any{"format": "pdf", "source": map[string]any{"run_id": res["run_id"]}})
	if r.Status != http.StatusAccepted {
		t.Fatalf("export: %d %s", r.Status, r.Body)
	}
	if d := c.waitRun(exp.ID); d.Status != "succeeded" || d.Result["pages"] == nil {
		t.Errorf("assessment export: %+v", d)
	}
}
