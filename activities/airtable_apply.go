package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
	"go.temporal.io/sdk/activity"
	"golang.org/x/sync/errgroup"

	"github.com/groundwork-dev/groundwork"
	"github.com/groundwork-dev/groundwork/db"
	"github.com/groundwork-dev/groundwork/db/sqlc"
	"github.com/groundwork-dev/groundwork/internal/airtable"
	"github.com/groundwork-dev/groundwork/internal/syncplan"
)

// senders is how many chunks an apply sends to Airtable at once. Two hide
// one request's round trips (the slot, Airtable) behind the other's wait
// when they are a sizable share of the interval between requests; at
// Airtable's real 5/s they are about 5 % of it, and a second sender would
// always hold the slot after the first, so a late request could never move
// its slot and would lose it instead.
func (a *Airtable) senders() int {
	if a.PerBase != nil && a.PerBase.PerSecond > 10 {
		return 2
	}
	return 1
}

// applyChunk is how many decisions are loaded at a time; a Postgres
// transaction settles what is ready, from one chunk to just under two.
const applyChunk = 200

// pending is a stored decision on its way to both sides.
type pending struct {
	row   sqlc.AirtablePlan
	entry planEntry
	// err is why the decision could not be applied (per record).
	err string
}

// AirtableApply applies up to Max pending decisions with an Airtable write
// and up to Max without: Airtable's writes in requests of ten (creates as
// upserts on the key, so a retried create finds the record it made), then
// Postgres transactions of a few hundred decisions that write the rows, the
// audit entries and the links and mark the decisions done. A record
// Airtable or Postgres refuses (422, a constraint) is reported on its own
// and the rest go on.
//
// The rate limit sets the pace, so nothing else may hold up Airtable's
// requests: the two kinds are loaded separately, two chunks are at Airtable
// at once, and Postgres settles whatever is ready meanwhile.
func (a *Airtable) AirtableApply(ctx context.Context, in groundwork.AirtableApplyInput) (groundwork.AirtableApplyOutput, error) {
	// The schemas the plan read serve every pass, but for one after a
	// failed or partly refused pass, which reads them again: a field or
	// column may have changed under the run.
	j, err := a.openJob(ctx, in.RunID, in.MappingID, !activity.HasHeartbeatDetails(ctx))
	if err != nil {
		return groundwork.AirtableApplyOutput{}, err
	}
	q := sqlc.New(a.Pool)
	// A failed attempt's applied decisions are marked done but never
	// reached the workflow: its last heartbeat carries their count.
	var out groundwork.AirtableApplyOutput
	if activity.HasHeartbeatDetails(ctx) {
		_ = activity.GetHeartbeatDetails(ctx, &out)
		out.Remaining = false
	}
	j.heartbeat(ctx, out)

	// Decisions with an Airtable write and those without are loaded
	// separately, so Postgres works through the second kind while the
	// first waits for its turns at Airtable.
	g, gctx := errgroup.WithContext(ctx)
	toAirtable := make(chan []*pending, 2)
	written := make(chan []*pending, 4)
	direct := make(chan []*pending, 2)
	g.Go(func() error { return a.loadPending(gctx, in, true, toAirtable) })
	g.Go(func() error { return a.loadPending(gctx, in, false, direct) })
	var senders sync.WaitGroup
	for range a.senders() {
		senders.Add(1)
		g.Go(func() error {
			defer senders.Done()
			for ps := range toAirtable {
				if err := a.writeAirtable(gctx, j, ps); err != nil {
					return err
				}
				if err := sendChunk(gctx, written, ps); err != nil {
					return err
				}
			}
			return nil
		})
	}
	go func() { senders.Wait(); close(written) }()
	// Postgres settles what reached it even when a sender failed (a 429):
	// those chunks are written to Airtable, and settling them spares the
	// retry their requests. Its feeds close once the others stop.
	g.Go(func() error {
		feed := &postgresFeed{written: written, direct: direct}
		for {
			ps, ok := feed.next(ctx)
			if !ok {
				return ctx.Err()
			}
			applied, failed, err := a.writePostgres(ctx, j, in.RunID, ps)
			if err != nil {
				return err
			}
			out.Applied += applied
			out.Failed += failed
			j.heartbeat(ctx, out)
		}
	})
	if err := g.Wait(); err != nil {
		a.schemas.drop(in.RunID)
		return out, err
	}
	if out.Failed > 0 {
		a.schemas.drop(in.RunID)
	}
	left, err := q.AirtablePlanPending(ctx, sqlc.AirtablePlanPendingParams{RunID: in.RunID, MaxRows: 1})
	if err != nil {
		return out, fmt.Errorf("load pending decisions: %w", err)
	}
	out.Remaining = len(left) > 0
	return out, nil
}

// loadPending sends up to in.Max pending decisions of one kind (with an
// Airtable write to do, or without), by key, in chunks, then closes to.
func (a *Airtable) loadPending(ctx context.Context, in groundwork.AirtableApplyInput, forAirtable bool, to chan<- []*pending) error {
	defer close(to)
	q := sqlc.New(a.Pool)
	after := ""
	for loaded := 0; loaded < in.Max; {
		rows, err := q.AirtablePlanPending(ctx, sqlc.AirtablePlanPendingParams{
			RunID: in.RunID, After: after, ForAirtable: &forAirtable, MaxRows: int32(min(applyChunk, in.Max-loaded)),
		})
		if err != nil {
			return fmt.Errorf("load pending decisions: %w", err)
		}
		if len(rows) == 0 {
			return nil
		}
		ps := make([]*pending, len(rows))
		for i, r := range rows {
			ps[i] = &pending{row: r}
			if err := json.Unmarshal(r.Decision, &ps[i].entry); err != nil {
				return fmt.Errorf("decode decision: %w", err)
			}
		}
		after = rows[len(rows)-1].Key
		loaded += len(rows)
		if err := sendChunk(ctx, to, ps); err != nil {
			return err
		}
	}
	return nil
}

func sendChunk(ctx context.Context, to chan<- []*pending, ps []*pending) error {
	select {
	case to <- ps:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// postgresFeed merges the two feeds of decisions ready for Postgres.
type postgresFeed struct {
	// written have been sent to Airtable: settling them first keeps the
	// work a retry would redo small.
	written <-chan []*pending
	// direct have nothing to write to Airtable.
	direct <-chan []*pending
}

// next waits for decisions and adds whatever else is waiting, while there
// are fewer than applyChunk. It reports false once both feeds are closed and drained, or
// ctx is done.
func (f *postgresFeed) next(ctx context.Context) ([]*pending, bool) {
	var ps []*pending
	recv := func(ch *<-chan []*pending, b []*pending, ok bool) {
		if !ok {
			*ch = nil // closed: a nil channel is never ready
		}
		ps = append(ps, b...)
	}
	for len(ps) == 0 {
		if f.written == nil && f.direct == nil {
			return nil, false
		}
		select {
		case b, ok := <-f.written:
			recv(&f.written, b, ok)
			continue
		default:
		}
		select {
		case b, ok := <-f.written:
			recv(&f.written, b, ok)
		case b, ok := <-f.direct:
			recv(&f.direct, b, ok)
		case <-ctx.Done():
			return nil, false
		}
	}
	for len(ps) < applyChunk {
		select {
		case b, ok := <-f.written:
			recv(&f.written, b, ok)
			continue
		default:
		}
		select {
		case b, ok := <-f.direct:
			recv(&f.direct, b, ok)
		default:
			return ps, true
		}
	}
	return ps, true
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
	for batch := range slices.Chunk(creates, airtable.MaxBatch) {
		if err := a.inBatchOrAlone(ctx, batch, func(b []*pending) error { return a.upsert(ctx, j, b) }); err != nil {
			return err
		}
	}
	for batch := range slices.Chunk(updates, airtable.MaxBatch) {
		if err := a.inBatchOrAlone(ctx, batch, func(b []*pending) error { return a.update(ctx, j, b) }); err != nil {
			return err
		}
	}
	for batch := range slices.Chunk(deletes, airtable.MaxBatch) {
		if err := a.inBatchOrAlone(ctx, batch, func(b []*pending) error {
			ids := make([]string, len(b))
			for i, p := range b {
				ids[i] = p.entry.AirtableID
			}
			_, err := j.client.Delete(ctx, j.m.Airtable.BaseID, j.m.Airtable.Table, ids)
			if isGone(err) && len(b) == 1 {
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

// isGone reports Airtable answering that a record does not exist.
func isGone(err error) bool {
	var ae *airtable.Error
	return errors.As(err, &ae) && (ae.Status == 404 || ae.Type == "ROW_DOES_NOT_EXIST")
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
	if isGone(err) && len(b) == 1 {
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

// writePostgres settles decisions in one transaction: the row writes, the
// audit entries, the links and the done marks, in a handful of round
// trips. When Postgres refuses a row (a constraint), the transaction is
// rolled back and done again with each row in a savepoint, so only the
// refused records fail.
func (a *Airtable) writePostgres(ctx context.Context, j *syncJob, runID string, ps []*pending) (applied, failed int, err error) {
	err = db.InTx(ctx, a.Pool, func(tx pgx.Tx) error { return j.settle(ctx, tx, runID, ps, false) })
	if isSQLError(err) {
		err = db.InTx(ctx, a.Pool, func(tx pgx.Tx) error { return j.settle(ctx, tx, runID, ps, true) })
	}
	if err != nil {
		return 0, 0, err
	}
	for _, p := range ps {
		if p.err != "" {
			failed++
		} else {
			applied++
		}
	}
	return applied, failed, nil
}

func isSQLError(err error) bool {
	var pe interface{ SQLState() string }
	return errors.As(err, &pe)
}

// settle writes decisions in tx. Rows go in one batch, or, carefully, one
// at a time in savepoints, recording the refused ones' errors.
func (j *syncJob) settle(ctx context.Context, tx pgx.Tx, runID string, ps []*pending, carefully bool) error {
	rows := &pgx.Batch{}
	for _, p := range ps {
		if p.err != "" || p.row.PostgresDone || p.entry.Decision.Postgres == syncplan.OpNone {
			continue
		}
		sql, args, err := j.rowStatement(p.entry)
		if err != nil {
			return err
		}
		if !carefully {
			rows.Queue(sql, args...)
			continue
		}
		if err := inSavepoint(ctx, tx, sql, args); err != nil {
			if !isSQLError(err) {
				return err
			}
			p.err = "postgres refused the row: " + err.Error()
		}
	}
	if rows.Len() > 0 {
		if err := tx.SendBatch(ctx, rows).Close(); err != nil {
			return fmt.Errorf("write rows: %w", err)
		}
	}
	q := sqlc.New(tx)
	var (
		audit []sqlc.AirtableAuditInsertParams
		links []sqlc.AirtableLinkPutParams
		gone  []string
		done  []string
	)
	for _, p := range ps {
		if p.err != "" {
			if err := q.AirtablePlanMark(ctx, sqlc.AirtablePlanMarkParams{RunID: runID, Key: p.row.Key, Error: &p.err}); err != nil {
				return fmt.Errorf("mark failed decision: %w", err)
			}
			continue
		}
		audit = append(audit, j.auditRows(runID, p.entry.Decision)...)
		if p.entry.Decision.Synced == nil {
			gone = append(gone, p.entry.Decision.Key)
		} else {
			l, err := j.link(p.entry)
			if err != nil {
				return err
			}
			links = append(links, l)
		}
		done = append(done, p.row.Key)
	}
	if len(audit) > 0 {
		if _, err := q.AirtableAuditInsert(ctx, audit); err != nil {
			return fmt.Errorf("write audit: %w", err)
		}
	}
	if len(links) > 0 {
		if err := closeBatch(q.AirtableLinkPut(ctx, links)); err != nil {
			return fmt.Errorf("save links: %w", err)
		}
	}
	if len(gone) > 0 {
		if err := q.AirtableLinksDelete(ctx, sqlc.AirtableLinksDeleteParams{MappingID: j.id, Keys: gone}); err != nil {
			return fmt.Errorf("delete links: %w", err)
		}
	}
	if len(done) > 0 {
		if err := q.AirtablePlanMarkDone(ctx, sqlc.AirtablePlanMarkDoneParams{RunID: runID, Keys: done}); err != nil {
			return fmt.Errorf("mark decisions: %w", err)
		}
	}
	return nil
}

// closeBatch waits for a batch of statements sqlc queued and returns the
// first error.
func closeBatch(b interface {
	Exec(func(int, error))
	Close() error
}) error {
	var first error
	b.Exec(func(_ int, err error) {
		if err != nil && first == nil {
			first = err
		}
	})
	if err := b.Close(); err != nil && first == nil {
		first = err
	}
	return first
}

// inSavepoint runs one statement in a savepoint, so that its failure
// leaves the transaction usable.
func inSavepoint(ctx context.Context, tx pgx.Tx, sql string, args []any) error {
	sp, err := tx.Begin(ctx)
	if err != nil {
		return fmt.Errorf("savepoint: %w", err)
	}
	defer func() { _ = sp.Rollback(ctx) }()
	if _, err := sp.Exec(ctx, sql, args...); err != nil {
		return err
	}
	return sp.Commit(ctx)
}

// rowStatement is the statement that applies a decision's Postgres
// operation: a delete by key, or an upsert of the decided columns that
// stamps updated_at.
func (j *syncJob) rowStatement(e planEntry) (string, []any, error) {
	d := e.Decision
	table := pgx.Identifier{j.pg.Schema, j.pg.Name}.Sanitize()
	keyCol := pgx.Identifier{j.m.Key.Postgres}.Sanitize()
	upd := pgx.Identifier{j.m.Postgres.UpdatedAt}.Sanitize()
	ws := j.pg.WorkspaceColumn
	if d.Postgres == syncplan.OpDelete {
		// In the key column's own type, so the delete finds its row by
		// the index rather than by scanning the table.
		match := j.pg.KeyEquals(keyCol, "$1::text")
		if ws != "" {
			return fmt.Sprintf(`DELETE FROM %s WHERE %s AND %s = $2`, table, match, pgx.Identifier{ws}.Sanitize()),
				[]any{d.Key, j.pg.Workspace}, nil
		}
		return fmt.Sprintf(`DELETE FROM %s WHERE %s`, table, match), []any{d.Key}, nil
	}
	vals := map[string]any{j.m.Key.Postgres: e.KeyValue}
	cols := []string{keyCol}
	var sets []string
	if ws != "" {
		// A row the sync creates is the workspace's; a key another
		// workspace's row holds fails the statement (a text that is no
		// integer, evaluated only on that conflict) rather than update it.
		wsCol := pgx.Identifier{ws}.Sanitize()
		vals[ws] = j.pg.Workspace
		cols = append(cols, wsCol)
		sets = append(sets, fmt.Sprintf(`%s = CASE WHEN t.%s = excluded.%s THEN excluded.%s
			ELSE ('the key is taken by a row this mapping cannot write' || left(excluded.%s, 0))::int::text END`,
			wsCol, wsCol, wsCol, wsCol, wsCol))
	}
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
		return "", nil, fmt.Errorf("marshal row: %w", err)
	}
	sets = append(sets, fmt.Sprintf("%s = now()", upd))
	colList := strings.Join(cols, ", ")
	sql := fmt.Sprintf(`INSERT INTO %s AS t (%s, %s) SELECT %s, now() FROM jsonb_populate_record(NULL::%s, $1::jsonb)
		ON CONFLICT (%s) DO UPDATE SET %s`, table, colList, upd, colList, table, keyCol, strings.Join(sets, ", "))
	return sql, []any{body}, nil
}

// auditRows are a decision's audit entries, one per changed field.
func (j *syncJob) auditRows(runID string, d syncplan.Decision) []sqlc.AirtableAuditInsertParams {
	out := make([]sqlc.AirtableAuditInsertParams, 0, len(d.Changes))
	for _, c := range d.Changes {
		written, op := "postgres", d.Postgres
		if c.Winner == "postgres" {
			written, op = "airtable", d.Airtable
		}
		var loser json.RawMessage
		if c.Conflict {
			loser = jsonOrNull(c.Loser)
		}
		out = append(out, sqlc.AirtableAuditInsertParams{
			MappingID: j.id, RunID: runID, RecordKey: d.Key, Field: c.Field, Action: string(op), WrittenTo: written,
			OldValue: jsonOrNull(c.Old), NewValue: jsonOrNull(c.New), Winner: c.Winner, Conflict: c.Conflict, LosingValue: loser,
		})
	}
	return out
}

// link is the record's link: the values both sides now agree on.
func (j *syncJob) link(e planEntry) (sqlc.AirtableLinkPutParams, error) {
	synced, err := json.Marshal(e.Decision.Synced)
	if err != nil {
		return sqlc.AirtableLinkPutParams{}, fmt.Errorf("marshal link: %w", err)
	}
	var id *string
	if e.AirtableID != "" {
		id = &e.AirtableID
	}
	return sqlc.AirtableLinkPutParams{MappingID: j.id, Key: e.Decision.Key, AirtableID: id, Synced: synced}, nil
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
