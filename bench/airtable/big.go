package main

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/groundwork-dev/groundwork/db"
	"github.com/groundwork-dev/groundwork/internal/testkit/airtablefake"
)

// The big scenario (--pg-rows N): an incremental sync of a table of N rows
// keyed by a bigint primary key, already in sync, after --changes edits
// (half in Airtable, half in Postgres, on different keys spread over the
// table). What it measures is whether a sync's cost follows its changes or
// the table's size: every lookup by key must use an index.
const (
	bigTable      = "public.big_contacts"
	bigATTable    = "BigContacts"
	bigKeyField   = "ID"
	bigAllowTable = bigTable + "@bench-airtable"
)

// bigFields are the big mapping's fields, by Airtable name and column.
var bigFields = []struct{ AT, PG string }{{"Name", "name"}, {"Plan", "plan"}, {"Seats", "seats"}}

// bigName, bigPlan and bigSeats are row i's initial values, the same on
// both sides.
func bigName(i int) string { return "Customer " + strconv.Itoa(i) }
func bigPlan(i int) string { return plans[i%len(plans)] }
func bigSeats(i int) int   { return i%50 + 1 }

// createBigTable adds the Airtable table and the Postgres table of the big
// scenario.
func createBigTable(fake *airtablefake.Server) {
	fake.CreateTable(baseID, airtablefake.TableSpec{Name: bigATTable, Fields: []airtablefake.FieldSpec{
		{Name: bigKeyField, Type: airtablefake.TypeNumber},
		{Name: "Name", Type: airtablefake.TypeSingleLineText},
		{Name: "Plan", Type: airtablefake.TypeSingleSelect, Choices: plans},
		{Name: "Seats", Type: airtablefake.TypeNumber},
		{Name: modField, Type: airtablefake.TypeLastModifiedTime},
	}})
}

// bigMappingBody is the big scenario's mapping: ID ↔ id (bigint), every
// field both ways, latest_wins, no deletes (their propagation reads every
// link, whatever the key's type).
func bigMappingBody() map[string]any {
	fs := make([]map[string]any, len(bigFields))
	for i, f := range bigFields {
		fs[i] = map[string]any{"airtable": f.AT, "postgres": f.PG, "direction": "both"}
	}
	return map[string]any{
		"name":     "bench-big-contacts",
		"airtable": map[string]any{"base_id": baseID, "table": bigATTable, "modified_field": modField},
		"postgres": map[string]any{"table": bigTable, "updated_at": "updated_at"},
		"key":      map[string]any{"airtable": bigKeyField, "postgres": "id"},
		"fields":   fs,
		"conflict": "latest_wins",
	}
}

// bigState is what the big scenario set up: the changed keys of each side
// and the Airtable record IDs of the keys the fake holds.
type bigState struct {
	atEdits, pgEdits []int
	ids              map[int]string
	// seeded is the fake's last record's modification time: the Airtable
	// cursor must be beyond Airtable's second of overlap after it.
	seeded time.Time
}

// bigChangedKeys picks n distinct keys of 1 … rows, spread over the table.
func bigChangedKeys(rows, n int, seed uint64) []int {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	seen := map[int]bool{}
	out := make([]int, 0, n)
	for len(out) < n {
		k := rng.IntN(rows) + 1
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	return out
}

// loadBig makes the two sides of the big table as a first sync of the
// whole table would have left them: N rows in Postgres (by
// generate_series, not row by row), and in the fake the records of the
// changed keys and of --records others. The fake holds no
// more because an incremental sync never reads the records that did not
// change (Airtable filters them out by formula), and a million records
// would make the fake, not the sync, the thing measured.
func loadBig(ctx context.Context, pool *pgxpool.Pool, fake *airtablefake.Server, o options) (bigState, error) {
	changed := bigChangedKeys(o.pgRows, o.changes, o.seed)
	st := bigState{atEdits: changed[:o.changes/2], pgEdits: changed[o.changes/2:], ids: map[int]string{}}
	held := slices.Clone(changed)
	for i := range min(o.records, o.pgRows) {
		held = append(held, 1+i*(o.pgRows/max(min(o.records, o.pgRows), 1)))
	}
	slices.Sort(held)
	held = slices.Compact(held)
	logf("seeding %d Airtable records of the big table…", len(held))
	for _, k := range held {
		rec := fake.Insert(baseID, bigATTable, map[string]any{bigKeyField: k, "Name": bigName(k), "Plan": bigPlan(k), "Seats": bigSeats(k)})
		st.ids[k] = rec.ID
		// The fake stamps changes at least a millisecond apart, so a
		// quick seeding runs ahead of the clock.
		st.seeded = rec.LastModified
	}

	logf("loading %d Postgres rows with generate_series…", o.pgRows)
	start := time.Now()
	steps := []struct {
		what string
		sql  string
		args []any
	}{
		{"create", `CREATE TABLE public.big_contacts (
			id bigint PRIMARY KEY,
			name text,
			plan text,
			seats integer,
			updated_at timestamptz NOT NULL)`, nil},
		// Rows changed long before the cursors below.
		{"load", `INSERT INTO public.big_contacts (id, name, plan, seats, updated_at)
			SELECT g, 'Customer ' || g, ($2::text[])[g % 3 + 1], g % 50 + 1, now() - interval '1 day'
			FROM generate_series(1, $1::bigint) g`, []any{o.pgRows, plans}},
		// A table synced incrementally needs its updated_at indexed, or
		// every sync reads it whole to find what changed.
		{"index updated_at", `CREATE INDEX big_contacts_updated_at ON public.big_contacts (updated_at)`, nil},
		{"analyze", `ANALYZE public.big_contacts`, nil},
	}
	for _, s := range steps {
		if _, err := pool.Exec(ctx, s.sql, s.args...); err != nil {
			return st, fmt.Errorf("big table: %s: %w", s.what, err)
		}
	}
	logf("loaded in %.1fs", time.Since(start).Seconds())
	return st, nil
}

// linkBig links every row of the big table to its record and sets the
// mapping's cursors, as a first sync would have: held are the keys the
// fake holds.
func linkBig(ctx context.Context, pool *pgxpool.Pool, st bigState, mappingID string) error {
	start := time.Now()
	held := slices.Sorted(maps.Keys(st.ids))
	// Else the sync would read the unchanged records again as within the
	// cursor's overlap.
	time.Sleep(time.Until(st.seeded.Add(1100 * time.Millisecond)))
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `CREATE TEMP TABLE held (key text PRIMARY KEY, airtable_id text NOT NULL) ON COMMIT DROP`); err != nil {
			return err
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"held"}, []string{"key", "airtable_id"}, pgx.CopyFromSlice(len(held), func(i int) ([]any, error) {
			return []any{strconv.Itoa(held[i]), st.ids[held[i]]}, nil
		})); err != nil {
			return err
		}
		// synced holds every mapped field by column, as the sync stores
		// it; a record the fake does not hold gets an ID no request uses.
		if _, err := tx.Exec(ctx, `INSERT INTO airtable_links (mapping_id, key, airtable_id, synced, synced_at)
			SELECT $1, t.id::text, coalesce(h.airtable_id, 'recNotHeld' || t.id), jsonb_build_object('name', t.name, 'plan', t.plan, 'seats', t.seats), now()
			FROM public.big_contacts t LEFT JOIN held h ON h.key = t.id::text`, mappingID); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO airtable_sync_state (mapping_id, airtable_cursor, postgres_cursor, synced_at)
			VALUES ($1, now(), now(), now())`, mappingID)
		return err
	})
	if err != nil {
		return fmt.Errorf("link the big table: %w", err)
	}
	if _, err := pool.Exec(ctx, `ANALYZE airtable_links`); err != nil {
		return fmt.Errorf("analyze links: %w", err)
	}
	logf("linked in %.1fs", time.Since(start).Seconds())
	return nil
}

// bigScenario edits each side of the big table and runs one sync, which
// must apply every edit to the other side within --max-ratio of its
// rate-limit floor.
func (b *bench) bigScenario(ctx context.Context, pool *pgxpool.Pool, st bigState, rep *report) error {
	add := func(c check) { rep.Checks = append(rep.Checks, c) }
	defer b.perSyncChecks(rep)
	// After the cursors' overlap (Airtable's 1 s), so that only the edits
	// are read again.
	time.Sleep(1500 * time.Millisecond)
	logf("editing %d Airtable records and %d Postgres rows of the big table…", len(st.atEdits), len(st.pgEdits))
	for _, k := range st.atEdits {
		b.fake.Update(baseID, bigATTable, st.ids[k], map[string]any{"Name": bigName(k) + " (airtable edit)"})
	}
	pgKeys := make([]int64, len(st.pgEdits))
	for i, k := range st.pgEdits {
		pgKeys[i] = int64(k)
	}
	if _, err := pool.Exec(ctx, `UPDATE public.big_contacts SET name = name || ' (postgres edit)', updated_at = now() WHERE id = ANY ($1)`, pgKeys); err != nil {
		return fmt.Errorf("edit the big table: %w", err)
	}
	rep.Edits.Airtable, rep.Edits.Postgres = len(st.atEdits), len(st.pgEdits)

	f, _, err := b.sync(ctx, rep, "big sync", false)
	if err != nil {
		return err
	}
	if !succeeded(rep, f, true) {
		return nil
	}
	add(check{Name: fmt.Sprintf("big sync within %.2g× of the rate-limit floor", b.o.maxRatio), Bar: true, OK: f.Within,
		Detail: fmt.Sprintf("%.2fs for %d requests at %d/s (floor %.2fs): %.2f×", f.WallSeconds, f.Requests, b.o.rate, f.FloorSeconds, f.Ratio)})

	// Every edit reached the other side, and nothing else changed.
	pgNames := map[int]string{}
	keys := append(slices.Clone(st.atEdits), st.pgEdits...)
	k64 := make([]int64, len(keys))
	for i, k := range keys {
		k64[i] = int64(k)
	}
	rows, _ := pool.Query(ctx, `SELECT id, coalesce(name, '') FROM public.big_contacts WHERE id = ANY ($1)`, k64)
	type nameRow struct {
		ID   int64
		Name string
	}
	got, err := pgx.CollectRows(rows, pgx.RowToStructByPos[nameRow])
	if err != nil {
		return fmt.Errorf("read the big table: %w", err)
	}
	for _, r := range got {
		pgNames[int(r.ID)] = r.Name
	}
	var wrong []string
	for _, k := range keys {
		want := bigName(k) + " (airtable edit)"
		if slices.Contains(st.pgEdits, k) {
			want = bigName(k) + " (postgres edit)"
		}
		rec, ok := b.fake.Get(baseID, bigATTable, st.ids[k])
		at, _ := rec.Fields["Name"].(string)
		if !ok || at != want || pgNames[k] != want {
			wrong = append(wrong, fmt.Sprintf("%d: airtable %q, postgres %q, want %q", k, at, pgNames[k], want))
		}
	}
	add(check{Name: "big sync applies every edit to the other side", Bar: true, OK: len(wrong) == 0,
		Detail: fmt.Sprintf("%d of %d keys wrong", len(wrong), len(keys)), Examples: first(wrong)})
	var count, touched int64
	if err := pool.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE updated_at > now() - interval '1 hour') FROM public.big_contacts`).Scan(&count, &touched); err != nil {
		return fmt.Errorf("count the big table: %w", err)
	}
	add(check{Name: "big sync touches only the edited rows", Bar: true, OK: count == int64(b.o.pgRows) && touched == int64(len(keys)),
		Detail: fmt.Sprintf("%d rows (seeded %d), %d with a new updated_at (edited %d)", count, b.o.pgRows, touched, len(keys))})
	wrote := f.ByKind[kindCreate] + f.ByKind[kindDelete]
	add(check{Name: "big sync creates and deletes nothing in Airtable", Bar: true, OK: wrote == 0,
		Detail: fmt.Sprintf("%d creates, %d deletes, %d updates", f.ByKind[kindCreate], f.ByKind[kindDelete], f.ByKind[kindUpdate])})

	if rep.Explains, err = explainKeyLookups(ctx, pool, st, b.mappingID); err != nil {
		return err
	}
	for _, e := range rep.Explains {
		// Every link against every row is a hash join, in any type: only
		// the lookups of a few keys must use the index.
		if strings.HasSuffix(e.Name, "(in the key's type)") && !strings.Contains(e.Name, "gone") {
			uses := strings.Contains(e.Plan, "big_contacts_pkey")
			add(check{Name: "the sync's " + e.Name + " uses the key's index", Bar: true, OK: uses,
				Detail: strings.ReplaceAll(firstLines(e.Plan, 3), "\n", " / ")})
		}
	}
	return nil
}

// firstLines is s's first n lines.
func firstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	return strings.Join(lines[:min(n, len(lines))], "\n")
}

// explained is one statement's plan, as EXPLAIN ANALYZE ran it.
type explained struct {
	Name string `json:"name"`
	SQL  string `json:"sql"`
	Plan string `json:"plan"`
}

// explainKeyLookups runs, on the big table after its sync, the sync's
// lookups by key as the sync writes them (db.PostgresTable's conditions,
// in the key's type) and as they were written before (the key as text),
// under EXPLAIN ANALYZE, and reports their plans: the first must use the
// key's index. Deletes run in a transaction rolled back.
func explainKeyLookups(ctx context.Context, pool *pgxpool.Pool, st bigState, mappingID string) ([]explained, error) {
	pt := db.PostgresTable{Schema: "public", Name: "big_contacts", Key: "id", Types: map[string]string{"id": "bigint"}}
	keys := make([]string, len(st.atEdits))
	for i, k := range st.atEdits {
		keys[i] = strconv.Itoa(k)
	}
	one := keys[0]
	cases := []struct {
		name string
		sql  string
		args []any
	}{
		{"rows of Airtable's changes, by key (in the key's type)",
			`SELECT to_jsonb(t), t.updated_at FROM public.big_contacts t WHERE ` + pt.KeyInArray(`t."id"`, "$1::text[]"), []any{keys}},
		{"rows of Airtable's changes, by key (as text, before)",
			`SELECT to_jsonb(t), t.updated_at FROM public.big_contacts t WHERE t."id"::text = ANY ($1)`, []any{keys}},
		{"delete by key (in the key's type)",
			`DELETE FROM public.big_contacts WHERE ` + pt.KeyEquals(`"id"`, "$1::text"), []any{one}},
		{"delete by key (as text, before)",
			`DELETE FROM public.big_contacts WHERE "id"::text = $1`, []any{one}},
		{"linked rows gone from Postgres (in the key's type)",
			`SELECT l.key FROM airtable_links l WHERE l.mapping_id = $1 AND NOT EXISTS (SELECT 1 FROM public.big_contacts t WHERE ` +
				pt.KeyEquals(`t."id"`, "l.key") + `)`, []any{mappingID}},
		{"linked rows gone from Postgres (as text, before)",
			`SELECT l.key FROM airtable_links l WHERE l.mapping_id = $1 AND NOT EXISTS (SELECT 1 FROM public.big_contacts t WHERE t."id"::text = l.key)`, []any{mappingID}},
	}
	var out []explained
	for _, c := range cases {
		var lines []string
		err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			rows, _ := tx.Query(ctx, "EXPLAIN (ANALYZE, COSTS OFF) "+c.sql, c.args...)
			var err error
			lines, err = pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil {
				return err
			}
			return errRollback
		})
		if err != nil && !errors.Is(err, errRollback) {
			return out, fmt.Errorf("explain %s: %w", c.name, err)
		}
		out = append(out, explained{Name: c.name, SQL: c.sql, Plan: strings.Join(lines, "\n")})
	}
	return out, nil
}

// errRollback ends a transaction that must leave nothing behind.
var errRollback = errors.New("rolled back on purpose")
