package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	benchcluster "github.com/groundwork-dev/groundwork/bench/internal/cluster"
	"github.com/groundwork-dev/groundwork/internal/testkit/airtablefake"
)

// The Airtable side of the load: one table in the fake, one Postgres
// table, one mapping syncing two fields both ways (latest_wins).
const (
	atBase    = "appChaosBase12345"
	atTable   = "Contacts"
	atKey     = "Email"
	atMod     = "Last Modified"
	pgTable   = "public.chaos_contacts"
	seedEach  = 60 // records made on each side before the first sync
	editsEach = 12 // records edited on each side before each sync
)

// atWrite is one record of a write the fake answered 2xx, as the proxy
// in front of it saw: the record's key, and the cells the request set.
type atWrite struct {
	At     time.Time
	Key    string
	Values string // the request's cells as canonical JSON
	Upsert bool
}

// airtableSide is the fake Airtable the workers sync with, behind a
// recording proxy (AIRTABLE_API_URL), and the bench's edits of both sides.
// The proxy logs every record of every write the fake accepted, keyed by
// the record's key field, which the fake's own request log (counts only)
// cannot; it forwards each request on a context detached from the
// worker's, so a write in flight when a worker is SIGKILLed still reaches
// the fake whole and its outcome is logged.
type airtableSide struct {
	fake  *airtablefake.Server
	proxy *httptest.Server
	hc    *http.Client

	// inFlight counts write requests the proxy is forwarding now, and
	// inFlightFrom by the client's TCP port.
	inFlight     atomic.Int64
	inFlightFrom map[int]int

	mu     sync.Mutex
	writes []atWrite
	// writeRequests counts the write requests by answer status.
	writeRequests map[int]int

	pool      *pgxpool.Pool
	mappingID string
	rng       *rand.Rand
	nextKey   int
	// Edits made and edits refused (Postgres down), per side; syncs the
	// driver skipped because the previous one was still open.
	PGEdits, PGEditErrors, ATEdits, SyncsSkipped int
}

func newAirtableSide() *airtableSide {
	a := &airtableSide{
		// Airtable's own limits (5 requests/s a base, 30 s lockout) and a
		// round trip's latency, so that a sync's writes are in flight long
		// enough for a worker kill to land among them.
		fake:          airtablefake.New(airtablefake.Options{Latency: 200 * time.Millisecond}),
		hc:            &http.Client{Timeout: time.Minute},
		writeRequests: map[int]int{},
		inFlightFrom:  map[int]int{},
		rng:           rand.New(rand.NewPCG(2, uint64(time.Now().UnixNano()))),
	}
	a.fake.CreateTable(atBase, airtablefake.TableSpec{Name: atTable, Fields: []airtablefake.FieldSpec{
		{Name: atKey, Type: airtablefake.TypeEmail},
		{Name: "Name", Type: airtablefake.TypeSingleLineText},
		{Name: "Score", Type: airtablefake.TypeNumber},
		{Name: atMod, Type: airtablefake.TypeLastModifiedTime},
	}})
	a.proxy = httptest.NewServer(http.HandlerFunc(a.serve))
	return a
}

// env is what the cluster's APIs and workers need to sync with the fake.
func (a *airtableSide) env() []string {
	return []string{"AIRTABLE_API_URL=" + a.proxy.URL, "AIRTABLE_TOKEN=" + airtablefake.DefaultToken,
		"GROUNDWORK_AIRTABLE_BASES=" + atBase}
}

// writesInFlightFrom returns the number of write requests at the fake
// now that process pid sent (on a socket it has open).
func (a *airtableSide) writesInFlightFrom(pid int) int64 {
	if a.inFlight.Load() == 0 {
		return 0
	}
	ports, err := localPorts(pid)
	if err != nil {
		return 0
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	var n int64
	for p, k := range a.inFlightFrom {
		if ports[p] {
			n += int64(k)
		}
	}
	return n
}

func remotePort(addr string) int {
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		return 0
	}
	n, _ := strconv.Atoi(p)
	return n
}

func (a *airtableSide) close() {
	a.proxy.Close()
	a.fake.Close()
	if a.pool != nil {
		a.pool.Close()
	}
}

func isWrite(r *http.Request) bool {
	if strings.HasPrefix(r.URL.Path, "/v0/meta/") {
		return false
	}
	switch r.Method {
	case http.MethodPatch, http.MethodPut:
		return true
	case http.MethodPost:
		return !strings.HasSuffix(r.URL.Path, "/listRecords")
	}
	return false
}

func (a *airtableSide) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	req, err := http.NewRequestWithContext(context.WithoutCancel(r.Context()), r.Method, a.fake.URL()+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	req.Header = r.Header.Clone()
	if isWrite(r) {
		port := remotePort(r.RemoteAddr)
		a.inFlight.Add(1)
		a.mu.Lock()
		a.inFlightFrom[port]++
		a.mu.Unlock()
		defer func() {
			a.inFlight.Add(-1)
			a.mu.Lock()
			if a.inFlightFrom[port]--; a.inFlightFrom[port] <= 0 {
				delete(a.inFlightFrom, port)
			}
			a.mu.Unlock()
		}()
	}
	resp, err := a.hc.Do(req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	rb, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if isWrite(r) {
		a.logWrite(body, rb, resp.StatusCode)
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	for k, v := range resp.Header {
		w.Header()[k] = v
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(rb)
}

// logWrite records each record of a write the fake accepted, by key: the
// answer names the key (an update's request carries only the record ID),
// the request the cells it set.
func (a *airtableSide) logWrite(reqBody, respBody []byte, status int) {
	type rec struct {
		ID     string         `json:"id"`
		Fields map[string]any `json:"fields"`
	}
	var in struct {
		Records       []rec `json:"records"`
		PerformUpsert any   `json:"performUpsert"`
	}
	var out struct {
		Records []rec `json:"records"`
	}
	_ = json.Unmarshal(reqBody, &in)
	_ = json.Unmarshal(respBody, &out)
	now := time.Now()
	a.mu.Lock()
	defer a.mu.Unlock()
	a.writeRequests[status]++
	if status < 200 || status >= 300 {
		return
	}
	for i, r := range in.Records {
		key := ""
		if i < len(out.Records) {
			key, _ = out.Records[i].Fields[atKey].(string)
		}
		cells := map[string]any{}
		for k, v := range r.Fields {
			if k != atKey {
				cells[k] = v
			}
		}
		b, _ := json.Marshal(cells)
		a.writes = append(a.writes, atWrite{At: now, Key: strings.ToLower(key), Values: string(b), Upsert: in.PerformUpsert != nil})
	}
}

// setup creates and fills the Postgres table, opens it for the dev
// workspace with `groundwork airtable allow-table`, seeds the fake and
// creates the mapping through the load balancer.
func (a *airtableSide) setup(ctx context.Context, c *cluster, bin string, l *load) error {
	pool, err := pgxpool.New(ctx, c.State.DatabaseURL)
	if err != nil {
		return fmt.Errorf("airtable: bench pool: %w", err)
	}
	a.pool = pool
	if _, err := pool.Exec(ctx, `CREATE TABLE `+pgTable+` (
		id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
		email text NOT NULL UNIQUE,
		name text,
		score integer,
		updated_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return fmt.Errorf("airtable: create %s: %w", pgTable, err)
	}
	var ws string
	if err := pool.QueryRow(ctx, `SELECT workspace_id FROM api_keys ORDER BY created_at LIMIT 1`).Scan(&ws); err != nil {
		return fmt.Errorf("airtable: the dev key's workspace: %w", err)
	}
	cmd := exec.CommandContext(ctx, bin, "airtable", "allow-table", pgTable+"@"+ws)
	cmd.Env = append(benchcluster.CleanEnv(os.Environ()), "DATABASE_URL="+c.State.DatabaseURL)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("airtable allow-table: %w\n%s", err, out)
	}
	for range seedEach {
		if err := a.insertPG(ctx); err != nil {
			return err
		}
		a.insertAT()
	}
	fields := []map[string]any{
		{"airtable": "Name", "postgres": "name", "direction": "both"},
		{"airtable": "Score", "postgres": "score", "direction": "both"},
	}
	body, _ := json.Marshal(map[string]any{
		"name":     "chaos-contacts",
		"airtable": map[string]any{"base_id": atBase, "table": atTable, "modified_field": atMod},
		"postgres": map[string]any{"table": pgTable, "updated_at": "updated_at"},
		"key":      map[string]any{"airtable": atKey, "postgres": "email"},
		"fields":   fields,
		"conflict": "latest_wins",
	})
	status, b, err := l.do(ctx, http.MethodPost, "/v1/airtable/mappings", body, nil)
	if err != nil {
		return fmt.Errorf("create airtable mapping: %w", err)
	}
	if status != http.StatusCreated {
		return fmt.Errorf("create airtable mapping: %d %s", status, truncate(b, 300))
	}
	var m struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(b, &m); err != nil || m.ID == "" {
		return fmt.Errorf("create airtable mapping: no id in %s", truncate(b, 300))
	}
	a.mappingID = m.ID
	return nil
}

func (a *airtableSide) newKey(side string) string {
	a.nextKey++
	return fmt.Sprintf("c%04d-%s@chaos.example", a.nextKey, side)
}

func (a *airtableSide) insertPG(ctx context.Context) error {
	_, err := a.pool.Exec(ctx, `INSERT INTO `+pgTable+` (email, name, score) VALUES ($1, $2, $3)`,
		a.newKey("pg"), fmt.Sprintf("PG name %d", a.rng.IntN(1_000_000)), a.rng.IntN(1000))
	if err != nil {
		return fmt.Errorf("airtable: insert into %s: %w", pgTable, err)
	}
	return nil
}

func (a *airtableSide) insertAT() {
	a.fake.Insert(atBase, atTable, map[string]any{atKey: a.newKey("at"),
		"Name": fmt.Sprintf("AT name %d", a.rng.IntN(1_000_000)), "Score": a.rng.IntN(1000)})
}

// edit changes a few records on each side and adds one to each, as
// people would between two syncs; Postgres's edits fail while it is down.
func (a *airtableSide) edit(ctx context.Context) {
	recs := a.fake.Records(atBase, atTable)
	for range editsEach {
		r := recs[a.rng.IntN(len(recs))]
		a.fake.Update(atBase, atTable, r.ID, map[string]any{"Name": fmt.Sprintf("AT edit %d", a.rng.IntN(1_000_000)), "Score": a.rng.IntN(1000)})
		a.ATEdits++
	}
	a.insertAT()
	a.ATEdits++
	ectx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	for range editsEach {
		r := recs[a.rng.IntN(len(recs))]
		key, _ := r.Fields[atKey].(string)
		_, err := a.pool.Exec(ectx, `UPDATE `+pgTable+` SET name = $1, score = $2, updated_at = now() WHERE email = $3`,
			fmt.Sprintf("PG edit %d", a.rng.IntN(1_000_000)), a.rng.IntN(1000), key)
		a.count(err)
	}
	a.count(a.insertPG(ectx))
}

func (a *airtableSide) count(err error) {
	if err != nil {
		a.PGEditErrors++
	} else {
		a.PGEdits++
	}
}

// driver edits both sides and then starts a sync, every `every` until
// ctx ends; while the previous sync is still open (a 409 sync_running
// would be the answer) it edits and skips the start.
func (a *airtableSide) driver(ctx context.Context, l *load, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	body, _ := json.Marshal(map[string]any{"mapping_id": a.mappingID})
	last := ""
	for seq := 0; ; {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		a.edit(ctx)
		if last != "" && !a.closed(ctx, l, last) {
			a.SyncsSkipped++
			continue
		}
		last = l.start(ctx, "airtable-sync", "/v1/airtable-syncs", body, fmt.Sprintf("chaos-%s-airtable-%d", l.tag, seq), "")
		seq++
	}
}

// closed reports whether the run has closed (false also when the API
// does not answer).
func (a *airtableSide) closed(ctx context.Context, l *load, id string) bool {
	status, b, err := l.do(ctx, http.MethodGet, "/v1/runs/"+url.PathEscape(id), nil, nil)
	if err != nil || status != http.StatusOK {
		return false
	}
	var r struct {
		Status string `json:"status"`
	}
	_ = json.Unmarshal(b, &r)
	return r.Status != "queued" && r.Status != "running" && r.Status != ""
}

// finalSync starts one last sync once nothing edits either side any more
// (not counted in the load's requests) and waits for it to close: after
// it both sides must agree.
func (a *airtableSide) finalSync(ctx context.Context, l *load, max time.Duration) (string, error) {
	body, _ := json.Marshal(map[string]any{"mapping_id": a.mappingID})
	key := fmt.Sprintf("chaos-%s-airtable-final", l.tag)
	var id string
	for deadline := time.Now().Add(max); ; {
		status, b, err := l.do(ctx, http.MethodPost, "/v1/airtable-syncs", body, map[string]string{"Idempotency-Key": key})
		if err == nil && status == http.StatusAccepted {
			var r struct {
				ID string `json:"id"`
			}
			_ = json.Unmarshal(b, &r)
			id = r.ID
			break
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("final airtable sync: not started: %d %s %v", status, truncate(b, 200), err)
		}
		if !sleepCtx(ctx, time.Second) { // 409 while the load's last sync runs
			return "", ctx.Err()
		}
	}
	for deadline := time.Now().Add(max); !a.closed(ctx, l, id); {
		if time.Now().After(deadline) {
			return id, fmt.Errorf("final airtable sync %s still open after %v", id, max)
		}
		if !sleepCtx(ctx, time.Second) {
			return id, ctx.Err()
		}
	}
	return id, nil
}

// AirtableReconciliation compares what Groundwork recorded of its writes
// to Airtable (the mapping's audit: one entry per field, each naming its
// run, key and the side written) with the writes the fake accepted, and
// the two sides once the final sync has run.
type AirtableReconciliation struct {
	MappingID string `json:"mapping_id"`
	// Syncs counts the load's sync runs by status; FinalSync is the last
	// one's run ID and status.
	Syncs        map[string]int `json:"syncs"`
	FinalSync    string         `json:"final_sync"`
	SyncsSkipped int            `json:"syncs_skipped_previous_open"`
	// The bench's edits: Airtable, Postgres, and Postgres's refused ones.
	ATEdits      int `json:"airtable_edits"`
	PGEdits      int `json:"postgres_edits"`
	PGEditErrors int `json:"postgres_edits_refused"`

	// AuditWrites are (run, key) pairs with an audit entry written_to
	// airtable: the record writes Groundwork recorded. AuditToPostgres
	// the same for Postgres.
	AuditWrites     int `json:"audit_record_writes_to_airtable"`
	AuditToPostgres int `json:"audit_record_writes_to_postgres"`
	// FakeWrites are records in writes the fake answered 2xx;
	// FakeResent those that repeated the key's previous write cell for
	// cell (a retried attempt re-sending what a cut one had sent:
	// idempotent); FakeDistinct the rest.
	FakeWrites    int         `json:"fake_record_writes"`
	FakeResent    int         `json:"fake_record_writes_resent"`
	FakeDistinct  int         `json:"fake_record_writes_distinct"`
	WriteRequests map[int]int `json:"fake_write_requests_by_status"`
	FakeRequests  int         `json:"fake_requests"`
	Fake429       int         `json:"fake_rate_limited"`
	// Lost are keys with more audited writes than distinct writes at the
	// fake; Unrecorded the other way round.
	Lost       []string `json:"keys_audited_not_written,omitempty"`
	Unrecorded []string `json:"keys_written_not_audited,omitempty"`

	// The sides after the final sync.
	ATRecords  int      `json:"airtable_records"`
	PGRows     int      `json:"postgres_rows"`
	DupKeys    []string `json:"airtable_keys_twice,omitempty"`
	OnlyAT     []string `json:"keys_only_in_airtable,omitempty"`
	OnlyPG     []string `json:"keys_only_in_postgres,omitempty"`
	Mismatched []string `json:"keys_with_different_values,omitempty"`
}

// reconcileAirtable checks: every sync succeeded; Groundwork's audited
// Airtable writes = the fake's distinct writes, key by key; after the
// final sync both sides hold the same keys with the same values and no
// key twice.
func (a *airtableSide) reconcileAirtable(ctx context.Context, conn *pgx.Conn, runs map[string]*runRow, final string, problem func(string, ...any)) (*AirtableReconciliation, error) {
	r := &AirtableReconciliation{MappingID: a.mappingID, Syncs: map[string]int{}, FinalSync: final,
		SyncsSkipped: a.SyncsSkipped, ATEdits: a.ATEdits, PGEdits: a.PGEdits, PGEditErrors: a.PGEditErrors}
	for _, run := range runs {
		if run.Kind == "airtable" {
			r.Syncs[run.Status]++
		}
	}
	audited := map[string]int{}
	rows, err := conn.Query(ctx, `SELECT record_key, written_to, count(DISTINCT run_id) FROM airtable_audit
		WHERE mapping_id = $1 GROUP BY 1, 2`, a.mappingID)
	if err != nil {
		return nil, fmt.Errorf("read airtable audit: %w", err)
	}
	for rows.Next() {
		var key, to string
		var n int
		if err := rows.Scan(&key, &to, &n); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read airtable audit: %w", err)
		}
		if to == "airtable" {
			audited[strings.ToLower(key)] += n
			r.AuditWrites += n
		} else {
			r.AuditToPostgres += n
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read airtable audit: %w", err)
	}

	a.mu.Lock()
	writes := append([]atWrite(nil), a.writes...)
	r.WriteRequests = map[int]int{}
	for k, v := range a.writeRequests {
		r.WriteRequests[k] = v
	}
	a.mu.Unlock()
	st := a.fake.Stats()
	r.FakeRequests, r.Fake429 = st.Requests, st.RateLimited
	distinct := map[string]int{}
	prev := map[string]string{}
	for _, w := range writes {
		r.FakeWrites++
		if p, ok := prev[w.Key]; ok && p == w.Values {
			r.FakeResent++
			continue
		}
		prev[w.Key] = w.Values
		distinct[w.Key]++
		r.FakeDistinct++
	}
	for k, n := range audited {
		if distinct[k] < n {
			r.Lost = append(r.Lost, fmt.Sprintf("%s: %d audited, %d written", k, n, distinct[k]))
		}
	}
	for k, n := range distinct {
		if audited[k] < n {
			r.Unrecorded = append(r.Unrecorded, fmt.Sprintf("%s: %d written, %d audited", k, n, audited[k]))
		}
	}
	sort.Strings(r.Lost)
	sort.Strings(r.Unrecorded)
	if len(r.Lost) > 0 {
		problem("airtable: %d keys have audited writes the fake never accepted", len(r.Lost))
	}
	if len(r.Unrecorded) > 0 {
		problem("airtable: %d keys got writes at the fake that no audit entry records", len(r.Unrecorded))
	}

	// Both sides after the final sync.
	at := map[string]string{}
	for _, rec := range a.fake.Records(atBase, atTable) {
		r.ATRecords++
		key, _ := rec.Fields[atKey].(string)
		key = strings.ToLower(key)
		if _, dup := at[key]; dup {
			r.DupKeys = append(r.DupKeys, key)
		}
		name, _ := rec.Fields["Name"].(string)
		score := "null"
		if v, ok := rec.Fields["Score"]; ok && v != nil {
			score = fmt.Sprint(v)
		}
		at[key] = name + " | " + score
	}
	pg := map[string]string{}
	prow, err := conn.Query(ctx, `SELECT lower(email), coalesce(name, ''), coalesce(score::text, 'null') FROM `+pgTable)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", pgTable, err)
	}
	for prow.Next() {
		var key, name, score string
		if err := prow.Scan(&key, &name, &score); err != nil {
			prow.Close()
			return nil, fmt.Errorf("read %s: %w", pgTable, err)
		}
		r.PGRows++
		pg[key] = name + " | " + score
	}
	prow.Close()
	if err := prow.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", pgTable, err)
	}
	for k, v := range at {
		p, ok := pg[k]
		switch {
		case !ok:
			r.OnlyAT = append(r.OnlyAT, k)
		case p != v:
			r.Mismatched = append(r.Mismatched, fmt.Sprintf("%s: airtable %q, postgres %q", k, v, p))
		}
	}
	for k := range pg {
		if _, ok := at[k]; !ok {
			r.OnlyPG = append(r.OnlyPG, k)
		}
	}
	sort.Strings(r.OnlyAT)
	sort.Strings(r.OnlyPG)
	sort.Strings(r.Mismatched)
	if n := len(r.DupKeys) + len(r.OnlyAT) + len(r.OnlyPG) + len(r.Mismatched); n > 0 {
		problem("airtable: after the final sync the sides differ: %d keys twice in Airtable, %d only in Airtable, %d only in Postgres, %d with different values",
			len(r.DupKeys), len(r.OnlyAT), len(r.OnlyPG), len(r.Mismatched))
	}
	return r, nil
}
