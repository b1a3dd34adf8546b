package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"go.temporal.io/sdk/activity"

	"github.com/groundwork-dev/groundwork/db"
	"github.com/groundwork-dev/groundwork/db/sqlc"
	"github.com/groundwork-dev/groundwork/internal/airtable"
	"github.com/groundwork-dev/groundwork/internal/syncplan"
	"github.com/groundwork-dev/groundwork/workflows"
)

// applyChunk is how many decisions one Postgres transaction settles.
const applyChunk = 200

// pending is a stored decision on its way to both sides.
type pending struct {
	row   sqlc.AirtablePlan
	entry planEntry
	// err is why the decision could not be applied (per record).
	err string
}

// AirtableApply applies up to Max pending decisions: Airtable's writes in
// requests of ten (creates as upserts on the key, so a retried create
// finds the record it made), then, per chunk, one Postgres transaction
// that writes the rows, the audit entries and the links and marks the
// decisions done. A record Airtable or Postgres refuses (422, a
// constraint) is reported on its own and the rest go on.
func (a *Airtable) AirtableApply(ctx context.Context, in workflows.AirtableApplyInput) (workflows.AirtableApplyOutput, error) {
	j, err := a.job(ctx, in.MappingID)
	if err != nil {
		return workflows.AirtableApplyOutput{}, err
	}
	if err := a.loadTypes(ctx, j); err != nil {
		return workflows.AirtableApplyOutput{}, err
	}
	pg, errs := CheckPostgresTable(ctx, a.Pool, j.m, a.Schemas)
	if len(errs) > 0 {
		return workflows.AirtableApplyOutput{}, fmt.Errorf("the mapping's Postgres side no longer fits: %s", errs[0].Message)
	}
	j.pg = pg
	q := sqlc.New(a.Pool)
	// A failed attempt's applied decisions are marked done but never
	// reached the workflow: its last heartbeat carries their count.
	var out workflows.AirtableApplyOutput
	if activity.HasHeartbeatDetails(ctx) {
		_ = activity.GetHeartbeatDetails(ctx, &out)
		out.Remaining = false
	}
	j.heartbeat(ctx, out)
	for out.Applied+out.Failed < in.Max {
		rows, err := q.AirtablePlanPending(ctx, sqlc.AirtablePlanPendingParams{RunID: in.RunID, MaxRows: int32(min(applyChunk, in.Max-out.Applied-out.Failed))})
		if err != nil {
			return out, fmt.Errorf("load pending decisions: %w", err)
		}
		if len(rows) == 0 {
			return out, nil
		}
		ps := make([]*pending, len(rows))
		for i, r := range rows {
			ps[i] = &pending{row: r}
			if err := json.Unmarshal(r.Decision, &ps[i].entry); err != nil {
				return out, fmt.Errorf("decode decision: %w", err)
			}
		}
		if err := a.writeAirtable(ctx, j, ps); err != nil {
			return out, err
		}
		applied, failed, err := a.writePostgres(ctx, j, in.RunID, ps)
		if err != nil {
			return out, err
		}
		out.Applied += applied
		out.Failed += failed
		j.heartbeat(ctx, out)
	}
	left, err := q.AirtablePlanPending(ctx, sqlc.AirtablePlanPendingParams{RunID: in.RunID, MaxRows: 1})
	if err != nil {
		return out, fmt.Errorf("load pending decisions: %w", err)
	}
	out.Remaining = len(left) > 0
	return out, nil
}

// writeAirtable sends the chunk's Airtable writes not yet done, ten
// records a request, and records the IDs of created records.
func (a *Airtable) writeAirtable(ctx context.Context, j *syncJob, ps []*pending) error {
	var creates, updates, deletes []*pending
	for _, p := range ps {
		if p.row.AirtableDone {
			continue
		}
		switch p.entry.Decision.Airtable {
		case syncplan.OpCreate:
			creates = append(creates, p)
		case syncplan.OpUpdate:
			if p.entry.AirtableID == "" {
				creates = append(creates, p) // never linked: upsert on the key
			} else {
				updates = append(updates, p)
			}
		case syncplan.OpDelete:
			if p.entry.AirtableID != "" {
				deletes = append(deletes, p)
			}
		}
	}
	for _, batch := range chunks(creates, airtable.MaxBatch) {
		if err := a.inBatchOrAlone(ctx, batch, func(b []*pending) error { return a.upsert(ctx, j, b) }); err != nil {
			return err
		}
	}
	for _, batch := range chunks(updates, airtable.MaxBatch) {
		if err := a.inBatchOrAlone(ctx, batch, func(b []*pending) error { return a.update(ctx, j, b) }); err != nil {
			return err
		}
	}
	for _, batch := range chunks(deletes, airtable.MaxBatch) {
		if err := a.inBatchOrAlone(ctx, batch, func(b []*pending) error {
			ids := make([]string, len(b))
			for i, p := range b {
				ids[i] = p.entry.AirtableID
			}
			_, err := j.client.Delete(ctx, j.m.Airtable.BaseID, j.m.Airtable.Table, ids)
			var ae *airtable.Error
			if errors.As(err, &ae) && (ae.Status == 404 || ae.Type == "ROW_DOES_NOT_EXIST") && len(b) == 1 {
				return nil // already gone: what the delete wanted
			}
			return err
		}); err != nil {
			return err
		}
	}
	return nil
}

// inBatchOrAlone sends a batch; when Airtable refuses it as invalid (one
// bad record fails all ten) it sends each record alone, so only the bad
// ones fail, each with Airtable's reason.
func (a *Airtable) inBatchOrAlone(ctx context.Context, batch []*pending, send func([]*pending) error) error {
	err := send(batch)
	if err == nil || !isInvalid(err) {
		return a.wrapWrite(err)
	}
	for _, p := range batch {
		err := send([]*pending{p})
		switch {
		case err == nil:
		case isInvalid(err):
			p.err = err.Error()
		default:
			return a.wrapWrite(err)
		}
	}
	return nil
}

func (a *Airtable) wrapWrite(err error) error {
	if err == nil {
		return nil
	}
	return a.airtableError("write records", err)
}

// isInvalid reports Airtable refusing a request's content (422, or 404
// for a record that is gone), which no retry can fix.
func isInvalid(err error) bool {
	var ae *airtable.Error
	return errors.As(err, &ae) && (ae.Status == 422 || ae.Status == 404)
}

func (a *Airtable) upsert(ctx context.Context, j *syncJob, b []*pending) error {
	recs := make([]map[string]any, len(b))
	for i, p := range b {
		fields, err := j.toAirtable(p.entry.Decision.AirtableFields)
		if err != nil {
			return &airtable.Error{Status: 422, Type: "CONVERSION", Message: err.Error()}
		}
		kv, err := airtable.ToAirtable(j.types[j.m.Key.Airtable], p.entry.KeyValue)
		if err != nil {
			kv = p.entry.KeyValue
		}
		fields[j.m.Key.Airtable] = kv
		recs[i] = fields
	}
	res, err := j.client.Upsert(ctx, j.m.Airtable.BaseID, j.m.Airtable.Table, []string{j.m.Key.Airtable}, recs, false)
	if err != nil {
		return err
	}
	for i, r := range res.Records {
		if i < len(b) {
			b[i].entry.AirtableID = r.ID
		}
	}
	return nil
}

func (a *Airtable) update(ctx context.Context, j *syncJob, b []*pending) error {
	recs := make([]airtable.Record, len(b))
	for i, p := range b {
		fields, err := j.toAirtable(p.entry.Decision.AirtableFields)
		if err != nil {
			return &airtable.Error{Status: 422, Type: "CONVERSION", Message: err.Error()}
		}
		recs[i] = airtable.Record{ID: p.entry.AirtableID, Fields: fields}
	}
	_, err := j.client.Update(ctx, j.m.Airtable.BaseID, j.m.Airtable.Table, recs, false)
	var ae *airtable.Error
	if errors.As(err, &ae) && len(b) == 1 && (ae.Status == 404 || ae.Type == "ROW_DOES_NOT_EXIST") {
		// Deleted in Airtable meanwhile: an edit is never dropped, so the
		// record is made again from the key.
		b[0].entry.AirtableID = ""
		return a.upsert(ctx, j, b)
	}
	return err
}

// toAirtable converts decided values (by Postgres column) into Airtable
// cells (by field name).
func (j *syncJob) toAirtable(vals map[string]any) (map[string]any, error) {
	out := make(map[string]any, len(vals)+1)
	for _, f := range j.m.Fields {
		v, ok := vals[f.Postgres]
		if !ok {
			continue
		}
		cv, err := airtable.ToAirtable(j.types[f.Airtable], v)
		if err != nil {
			return nil, fmt.Errorf("field %s: %w", f.Airtable, err)
		}
		out[f.Airtable] = cv
	}
	return out, nil
}

// writePostgres settles a chunk in one transaction: each record's row
// write in a savepoint (so one refused row fails alone), its audit
// entries, its link, and its decision marked done.
func (a *Airtable) writePostgres(ctx context.Context, j *syncJob, runID string, ps []*pending) (applied, failed int, err error) {
	err = db.InTx(ctx, a.Pool, func(tx pgx.Tx) error {
		applied, failed = 0, 0
		q := sqlc.New(tx)
		for _, p := range ps {
			if p.err == "" && !p.row.PostgresDone {
				if werr := j.writeRow(ctx, tx, p.entry); werr != nil {
					var pe interface{ SQLState() string }
					if !errors.As(werr, &pe) {
						return werr
					}
					p.err = "postgres refused the row: " + werr.Error()
				}
			}
			if p.err != "" {
				failed++
				if err := q.AirtablePlanMark(ctx, sqlc.AirtablePlanMarkParams{RunID: runID, Key: p.row.Key, Error: &p.err}); err != nil {
					return fmt.Errorf("mark failed decision: %w", err)
				}
				continue
			}
			if err := a.audit(ctx, q, j, runID, p.entry.Decision); err != nil {
				return err
			}
			if err := j.saveLink(ctx, q, p.entry); err != nil {
				return err
			}
			if err := q.AirtablePlanMark(ctx, sqlc.AirtablePlanMarkParams{RunID: runID, Key: p.row.Key, AirtableDone: true, PostgresDone: true}); err != nil {
				return fmt.Errorf("mark decision: %w", err)
			}
			applied++
		}
		return nil
	})
	return applied, failed, err
}

// writeRow applies a decision's Postgres operation inside a savepoint.
func (j *syncJob) writeRow(ctx context.Context, tx pgx.Tx, e planEntry) error {
	d := e.Decision
	if d.Postgres == syncplan.OpNone {
		return nil
	}
	sp, err := tx.Begin(ctx)
	if err != nil {
		return fmt.Errorf("savepoint: %w", err)
	}
	defer func() { _ = sp.Rollback(ctx) }()
	table := pgx.Identifier{j.pg.Schema, j.pg.Name}.Sanitize()
	keyCol := pgx.Identifier{j.m.Key.Postgres}.Sanitize()
	upd := pgx.Identifier{j.m.Postgres.UpdatedAt}.Sanitize()
	if d.Postgres == syncplan.OpDelete {
		if _, err := sp.Exec(ctx, fmt.Sprintf(`DELETE FROM %s WHERE %s::text = $1`, table, keyCol), d.Key); err != nil {
			return err
		}
		return sp.Commit(ctx)
	}
	vals := map[string]any{j.m.Key.Postgres: e.KeyValue}
	cols := []string{keyCol}
	var sets []string
	for _, f := range j.m.Fields {
		v, ok := d.PostgresFields[f.Postgres]
		if !ok {
			continue
		}
		if typ, ok := j.types[f.Airtable]; ok {
			if cv, err := airtable.FromAirtable(typ, v); err == nil {
				v = cv
			}
		}
		col := pgx.Identifier{f.Postgres}.Sanitize()
		vals[f.Postgres] = v
		cols = append(cols, col)
		sets = append(sets, fmt.Sprintf("%s = excluded.%s", col, col))
	}
	body, err := json.Marshal(vals)
	if err != nil {
		return fmt.Errorf("marshal row: %w", err)
	}
	sets = append(sets, fmt.Sprintf("%s = now()", upd))
	colList := strings.Join(cols, ", ")
	sql := fmt.Sprintf(`INSERT INTO %s (%s, %s) SELECT %s, now() FROM jsonb_populate_record(NULL::%s, $1::jsonb)
		ON CONFLICT (%s) DO UPDATE SET %s`, table, colList, upd, colList, table, keyCol, strings.Join(sets, ", "))
	if _, err := sp.Exec(ctx, sql, body); err != nil {
		return err
	}
	return sp.Commit(ctx)
}

// audit writes one entry per changed field.
func (a *Airtable) audit(ctx context.Context, q *sqlc.Queries, j *syncJob, runID string, d syncplan.Decision) error {
	for _, c := range d.Changes {
		written, op := "postgres", d.Postgres
		if c.Winner == "postgres" {
			written, op = "airtable", d.Airtable
		}
		var loser json.RawMessage
		if c.Conflict {
			loser = jsonOrNull(c.Loser)
		}
		err := q.AirtableAuditInsert(ctx, sqlc.AirtableAuditInsertParams{
			MappingID: j.id, RunID: runID, RecordKey: d.Key, Field: c.Field, Action: string(op), WrittenTo: written,
			OldValue: jsonOrNull(c.Old), NewValue: jsonOrNull(c.New), Winner: c.Winner, Conflict: c.Conflict, LosingValue: loser,
		})
		if err != nil {
			return fmt.Errorf("write audit: %w", err)
		}
	}
	return nil
}

// saveLink stores the values both sides now agree on, or forgets a record
// that is gone.
func (j *syncJob) saveLink(ctx context.Context, q *sqlc.Queries, e planEntry) error {
	if e.Decision.Synced == nil {
		if err := q.AirtableLinkDelete(ctx, sqlc.AirtableLinkDeleteParams{MappingID: j.id, Key: e.Decision.Key}); err != nil {
			return fmt.Errorf("delete link: %w", err)
		}
		return nil
	}
	synced, err := json.Marshal(e.Decision.Synced)
	if err != nil {
		return fmt.Errorf("marshal link: %w", err)
	}
	var id *string
	if e.AirtableID != "" {
		id = &e.AirtableID
	}
	if err := q.AirtableLinkPut(ctx, sqlc.AirtableLinkPutParams{MappingID: j.id, Key: e.Decision.Key, AirtableID: id, Synced: synced}); err != nil {
		return fmt.Errorf("save link: %w", err)
	}
	return nil
}

func jsonOrNull(v any) json.RawMessage {
	if v == nil {
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	return b
}

func chunks[T any](s []T, n int) [][]T {
	var out [][]T
	for len(s) > 0 {
		k := min(n, len(s))
		out = append(out, s[:k])
		s = s[k:]
	}
	return out
}
