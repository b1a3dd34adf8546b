package activities

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/activity"
	"golang.org/x/sync/errgroup"

	"github.com/groundwork-dev/groundwork"
	"github.com/groundwork-dev/groundwork/db"
	"github.com/groundwork-dev/groundwork/db/sqlc"
	"github.com/groundwork-dev/groundwork/internal/airtable"
	"github.com/groundwork-dev/groundwork/internal/syncplan"
)

// planSamples is how many example decisions of each kind a dry run shows.
const planSamples = 5

// planEntry is one stored decision with what applying it needs besides.
type planEntry struct {
	Decision   syncplan.Decision `json:"decision"`
	AirtableID string            `json:"airtable_id,omitempty"`
	// KeyValue is the key as its side holds it (a number stays a number).
	KeyValue any `json:"key_value"`
}

// pgRow is a Postgres row's mapped values (JSON, by column).
type pgRow struct {
	values  map[string]any
	updated time.Time
}

// AirtablePlan decides every record either side changed since the last
// sync, field by field, and stores the decisions for AirtableApply; a dry
// run returns the diff instead and stores nothing.
func (a *Airtable) AirtablePlan(ctx context.Context, in groundwork.AirtablePlanInput) (groundwork.AirtablePlanResult, error) {
	// The plan reads both schemas afresh; the run's apply passes reuse them.
	j, err := a.openJob(ctx, in.RunID, in.MappingID, false)
	if err != nil {
		return groundwork.AirtablePlanResult{}, err
	}
	q := sqlc.New(a.Pool)
	st, err := q.AirtableSyncStateGet(ctx, j.id)
	if err != nil && !db.IsNotFound(err) {
		return groundwork.AirtablePlanResult{}, fmt.Errorf("load sync state: %w", err)
	}
	res := groundwork.AirtablePlanResult{AirtableCursor: st.AirtableCursor, PostgresCursor: st.PostgresCursor}
	mapping := j.syncMapping()

	recs := map[string]*syncplan.Record{}
	keyValues := map[string]any{}
	airtableIDs := map[string]string{}
	rec := func(key string) *syncplan.Record {
		r, ok := recs[key]
		if !ok {
			r = &syncplan.Record{Key: key}
			recs[key] = r
		}
		return r
	}

	var since *time.Time
	if st.PostgresCursor != nil {
		// Overlap, as for Airtable: a row committed late with an earlier
		// updated_at is read again rather than missed.
		t := st.PostgresCursor.Add(-5 * time.Second)
		since = &t
	}
	withGone := j.m.Deletes == groundwork.DeletesPostgresToAirtable || j.m.Deletes == groundwork.DeletesBoth
	inputs, err := a.readPlanInputs(ctx, j, in.RunID, since, withGone, in.FullScan)
	if err != nil {
		return res, err
	}
	activity.RecordHeartbeat(ctx, "deciding")
	res.ScannedAirtable = len(inputs.staged)
	for _, sr := range inputs.staged {
		s, fields := sr.row, sr.fields
		r := rec(s.Key)
		r.Airtable = syncplan.Side{Present: true, Values: j.airtableValues(fields)}
		if s.Modified != nil {
			r.Airtable.Modified = *s.Modified
			if res.AirtableCursor == nil || s.Modified.After(*res.AirtableCursor) {
				t := *s.Modified
				res.AirtableCursor = &t
			}
		}
		keyValues[s.Key] = fields[j.m.Key.Airtable]
		airtableIDs[s.Key] = s.AirtableID
	}
	changed := inputs.changed
	res.ScannedPostgres = len(changed)
	for key, row := range changed {
		r := rec(key)
		r.Postgres = syncplan.Side{Present: true, Values: row.values, Modified: row.updated}
		if _, ok := keyValues[key]; !ok {
			keyValues[key] = row.values[j.m.Key.Postgres]
		}
		if res.PostgresCursor == nil || row.updated.After(*res.PostgresCursor) {
			t := row.updated
			res.PostgresCursor = &t
		}
	}
	// Both sides of every record either side reported: the Postgres rows
	// of Airtable's changes, unchanged since the cursor.
	var missing []string
	for key, r := range recs {
		if !r.Postgres.Present {
			missing = append(missing, key)
		}
	}
	rest, err := j.pgRowsByKey(ctx, a.Pool, missing)
	if err != nil {
		return res, err
	}
	for key, row := range rest {
		if r, ok := recs[key]; ok {
			r.Postgres = syncplan.Side{Present: true, Values: row.values, Modified: row.updated}
		}
	}

	fullScan := in.FullScan
	gone := inputs.gone
	links := inputs.links
	if !fullScan {
		// Only the links of what either side reported, or of rows gone
		// from Postgres, can matter: the rest are unchanged on both sides.
		keys := slices.Collect(maps.Keys(recs))
		for k := range gone {
			if _, ok := recs[k]; !ok {
				keys = append(keys, k)
			}
		}
		rows, err := q.AirtableLinksForKeys(ctx, sqlc.AirtableLinksForKeysParams{MappingID: j.id, Keys: keys})
		if err != nil {
			return res, fmt.Errorf("load links: %w", err)
		}
		if links, err = decodeLinks(rows); err != nil {
			return res, err
		}
	}
	for _, lr := range links {
		l, synced := lr.row, lr.synced
		r, reported := recs[l.Key]
		if !reported {
			// Neither side reported it: only a deletion can concern it,
			// seen by a full Airtable scan or by its row being gone.
			if !fullScan && !gone[l.Key] {
				continue
			}
			r = rec(l.Key)
			if !gone[l.Key] {
				r.Postgres = syncplan.Side{Present: true, Values: synced}
			}
		}
		r.Link = syncplan.Link{Known: true, Synced: synced}
		if !r.Airtable.Present && !fullScan {
			// Not read because unchanged: it holds what we last agreed on.
			r.Airtable = syncplan.Side{Present: true, Values: synced}
		}
		if _, ok := airtableIDs[l.Key]; !ok && l.AirtableID != nil {
			airtableIDs[l.Key] = *l.AirtableID
		}
		if _, ok := keyValues[l.Key]; !ok {
			keyValues[l.Key] = l.Key
		}
	}

	all := make([]syncplan.Record, 0, len(recs))
	for _, r := range recs {
		all = append(all, *r)
	}
	if in.DryRun {
		diff := syncplan.Diff(mapping, all, planSamples)
		res.Counts = countsOf(diff.Summary)
		b, err := json.Marshal(diff)
		if err != nil {
			return res, fmt.Errorf("marshal diff: %w", err)
		}
		res.Diff = b
		return res, nil
	}

	var decisions []syncplan.Decision
	var rows []planRow
	for _, r := range all {
		d := syncplan.Decide(mapping, r)
		decisions = append(decisions, d)
		if d.Airtable == syncplan.OpNone && d.Postgres == syncplan.OpNone && r.Link.Known && reflect.DeepEqual(d.Synced, r.Link.Synced) {
			continue // nothing to write, not even the link
		}
		body, err := json.Marshal(planEntry{Decision: d, AirtableID: airtableIDs[r.Key], KeyValue: keyValues[r.Key]})
		if err != nil {
			return res, fmt.Errorf("marshal decision: %w", err)
		}
		rows = append(rows, planRow{runID: in.RunID, key: r.Key, decision: body, airtableOp: string(d.Airtable), postgresOp: string(d.Postgres)})
	}
	res.Decisions = len(rows)
	res.Counts = countsOf(syncplan.Summarize(decisions))
	activity.RecordHeartbeat(ctx, "storing the plan")
	if err := storePlan(ctx, a.Pool, rows); err != nil {
		return res, err
	}
	return res, nil
}

// planRow is a decision as airtable_plan stores it.
type planRow struct {
	runID, key             string
	decision               []byte
	airtableOp, postgresOp string
}

// storePlan adds decisions to airtable_plan by COPY. A key already there
// keeps its row: an earlier attempt's plan may already be being applied
// (an attempt that timed out can still finish after its retry did), and
// its done marks must stand.
func storePlan(ctx context.Context, pool *pgxpool.Pool, rows []planRow) error {
	err := db.InTx(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `CREATE TEMP TABLE plan_in (LIKE airtable_plan INCLUDING DEFAULTS) ON COMMIT DROP`); err != nil {
			return err
		}
		_, err := tx.CopyFrom(ctx, pgx.Identifier{"plan_in"}, []string{"run_id", "key", "decision", "airtable_op", "postgres_op"},
			pgx.CopyFromSlice(len(rows), func(i int) ([]any, error) {
				r := rows[i]
				return []any{r.runID, r.key, r.decision, r.airtableOp, r.postgresOp}, nil
			}))
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO airtable_plan SELECT * FROM plan_in ON CONFLICT (run_id, key) DO NOTHING`)
		return err
	})
	if err != nil {
		return fmt.Errorf("store plan: %w", err)
	}
	return nil
}

// stagedRecord is a staged Airtable record with its fields decoded.
type stagedRecord struct {
	row    sqlc.AirtableStaging
	fields map[string]any
}

// linkRecord is a link with the values it holds decoded.
type linkRecord struct {
	row    sqlc.AirtableLink
	synced map[string]any
}

// planInputs are what a plan reads: the staged Airtable records, the
// Postgres rows changed since the cursor, the links (on a full scan), and
// (when Postgres deletions propagate) the linked keys whose rows are gone.
type planInputs struct {
	staged  []stagedRecord
	changed map[string]pgRow
	links   []linkRecord
	gone    map[string]bool
}

// readPlanInputs reads and decodes a plan's inputs, all at once: none
// depends on another, and planning holds up the sync's first write. Every
// link is read only when allLinks (a full scan, where any linked record may
// be gone); otherwise the caller reads the links of the reported keys.
func (a *Airtable) readPlanInputs(ctx context.Context, j *syncJob, runID string, since *time.Time, withGone, allLinks bool) (planInputs, error) {
	var in planInputs
	g, gctx := errgroup.WithContext(ctx)
	q := sqlc.New(a.Pool)
	g.Go(func() error {
		rows, err := q.AirtableStagingList(gctx, runID)
		if err != nil {
			return fmt.Errorf("load staged records: %w", err)
		}
		in.staged = make([]stagedRecord, len(rows))
		for i, r := range rows {
			in.staged[i].row = r
			if err := json.Unmarshal(r.Fields, &in.staged[i].fields); err != nil {
				return fmt.Errorf("decode staged record: %w", err)
			}
		}
		return nil
	})
	g.Go(func() error {
		var err error
		in.changed, err = j.pgRowsChanged(gctx, a.Pool, since)
		return err
	})
	if allLinks {
		g.Go(func() error {
			rows, err := q.AirtableLinksAll(gctx, j.id)
			if err != nil {
				return fmt.Errorf("load links: %w", err)
			}
			in.links, err = decodeLinks(rows)
			return err
		})
	}
	if withGone {
		g.Go(func() error {
			var err error
			in.gone, err = j.goneFromPostgres(gctx, a.Pool)
			return err
		})
	}
	return in, g.Wait()
}

// decodeLinks decodes the values links hold.
func decodeLinks(rows []sqlc.AirtableLink) ([]linkRecord, error) {
	out := make([]linkRecord, len(rows))
	for i, r := range rows {
		out[i].row = r
		if err := json.Unmarshal(r.Synced, &out[i].synced); err != nil {
			return nil, fmt.Errorf("decode link: %w", err)
		}
	}
	return out, nil
}

func countsOf(s syncplan.Summary) groundwork.SyncCounts {
	return groundwork.SyncCounts{
		AirtableCreates: s.AirtableCreates, AirtableUpdates: s.AirtableUpdates, AirtableDeletes: s.AirtableDeletes,
		PostgresCreates: s.PostgresCreates, PostgresUpdates: s.PostgresUpdates, PostgresDeletes: s.PostgresDeletes,
		Conflicts: s.Conflicts, Unchanged: s.Unchanged,
	}
}

// syncMapping is the mapping as the decision core takes it: fields named
// by their Postgres column, compared as their Airtable type.
func (j *syncJob) syncMapping() syncplan.Mapping {
	m := syncplan.Mapping{Policy: syncplan.Policy(j.m.Conflict), Deletes: syncplan.Deletes(j.m.Deletes)}
	for _, f := range j.m.Fields {
		sf := syncplan.Field{Name: f.Postgres, Direction: syncplan.Direction(f.Direction), Policy: syncplan.Policy(f.Conflict)}
		if typ, ok := j.types[f.Airtable]; ok {
			sf.Equal = func(a, b any) bool { return airtable.Equal(typ, a, b) }
		}
		m.Fields = append(m.Fields, sf)
	}
	return m
}

// airtableValues maps a record's cells to the Postgres columns they sync
// with; an absent (empty) cell is nil.
func (j *syncJob) airtableValues(fields map[string]any) map[string]any {
	out := make(map[string]any, len(j.m.Fields))
	for _, f := range j.m.Fields {
		out[f.Postgres] = fields[f.Airtable]
	}
	return out
}

// pgRowsChanged reads, by key, the mapped columns of the rows updated
// after since, or of every row when since is nil (the first sync).
func (j *syncJob) pgRowsChanged(ctx context.Context, pool *pgxpool.Pool, since *time.Time) (map[string]pgRow, error) {
	if since == nil {
		return j.pgRowsWhere(ctx, pool, "")
	}
	return j.pgRowsWhere(ctx, pool, fmt.Sprintf(`WHERE t.%s > $1`, pgx.Identifier{j.m.Postgres.UpdatedAt}.Sanitize()), *since)
}

// pgRowsByKey reads, by key, the mapped columns of the rows with keys;
// none for no keys, never the whole table.
func (j *syncJob) pgRowsByKey(ctx context.Context, pool *pgxpool.Pool, keys []string) (map[string]pgRow, error) {
	if len(keys) == 0 {
		return map[string]pgRow{}, nil
	}
	// In the key column's own type: as text no index covers the lookup.
	cond := j.pg.KeyInArray("t."+pgx.Identifier{j.m.Key.Postgres}.Sanitize(), "$1::text[]")
	return j.pgRowsWhere(ctx, pool, "WHERE "+cond, keys)
}

// pgRowsWhere reads the mapped columns of the rows where says, by key.
func (j *syncJob) pgRowsWhere(ctx context.Context, pool *pgxpool.Pool, where string, args ...any) (map[string]pgRow, error) {
	table := pgx.Identifier{j.pg.Schema, j.pg.Name}.Sanitize()
	upd := pgx.Identifier{j.m.Postgres.UpdatedAt}.Sanitize()
	if ws := j.pg.WorkspaceColumn; ws != "" {
		// Only the workspace's rows exist for its mapping.
		cond := fmt.Sprintf("t.%s = $%d", pgx.Identifier{ws}.Sanitize(), len(args)+1)
		if where == "" {
			where = "WHERE " + cond
		} else {
			where += " AND " + cond
		}
		args = append(args, j.pg.Workspace)
	}
	// The key as the column's text output, the spelling lookups by key
	// compare with: decoded from JSON, a bigint beyond 2^53 would come
	// back as a rounded float.
	key := pgx.Identifier{j.m.Key.Postgres}.Sanitize()
	rows, err := pool.Query(ctx, fmt.Sprintf(`SELECT to_jsonb(t), t.%s, t.%s::text FROM %s t %s`, upd, key, table, where), args...)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", table, err)
	}
	defer rows.Close()
	out := map[string]pgRow{}
	for rows.Next() {
		var raw []byte
		var updated time.Time
		var key *string
		if err := rows.Scan(&raw, &updated, &key); err != nil {
			return nil, fmt.Errorf("read %s: %w", table, err)
		}
		var all map[string]any
		if err := json.Unmarshal(raw, &all); err != nil {
			return nil, fmt.Errorf("decode row of %s: %w", table, err)
		}
		if key == nil || *key == "" {
			continue
		}
		vals := make(map[string]any, len(j.m.Fields)+1)
		for _, f := range j.m.Fields {
			vals[f.Postgres] = all[f.Postgres]
		}
		vals[j.m.Key.Postgres] = all[j.m.Key.Postgres]
		out[*key] = pgRow{values: vals, updated: updated}
	}
	return out, rows.Err()
}

// goneFromPostgres lists the linked keys whose rows no longer exist.
func (j *syncJob) goneFromPostgres(ctx context.Context, pool interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
}) (map[string]bool, error) {
	own, args := "", []any{j.id}
	if ws := j.pg.WorkspaceColumn; ws != "" {
		// A row that moved to another workspace is gone from this one.
		own, args = fmt.Sprintf(" AND t.%s = $2", pgx.Identifier{ws}.Sanitize()), append(args, j.pg.Workspace)
	}
	// The link's key is cast to the column's type (NULL when it cannot be
	// one of its values: such a row is gone), so each probe uses the key's
	// index rather than the text of every row.
	rows, err := pool.Query(ctx, fmt.Sprintf(`SELECT l.key FROM airtable_links l
		WHERE l.mapping_id = $1 AND NOT EXISTS (SELECT 1 FROM %s t WHERE %s%s)`,
		pgx.Identifier{j.pg.Schema, j.pg.Name}.Sanitize(), j.pg.KeyEquals("t."+pgx.Identifier{j.m.Key.Postgres}.Sanitize(), "l.key"), own), args...)
	if err != nil {
		return nil, fmt.Errorf("find deleted rows: %w", err)
	}
	keys, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("find deleted rows: %w", err)
	}
	gone := make(map[string]bool, len(keys))
	for _, k := range keys {
		gone[k] = true
	}
	return gone, nil
}
