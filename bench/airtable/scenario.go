package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/groundwork-dev/groundwork/internal/testkit/airtablefake"
)

// bench holds what the scenario's steps share.
type bench struct {
	o         options
	c         *apiClient
	fake      *airtablefake.Server
	proxy     *classifier
	hist      *historyReader
	mappingID string
}

// sync runs one sync through the API and measures it from a clean request
// log, so its figures count its own requests only. A run that did not
// succeed is not an error but a failure, described in f.Failure; an error
// means the bench itself could not go on.
func (b *bench) sync(ctx context.Context, rep *report, name string, dryRun bool) (f syncFigures, log []airtablefake.RequestLog, err error) {
	b.fake.ResetRequests()
	b.proxy.take()
	logf("%s…", name)
	start := time.Now()
	var lastWatch time.Time
	watch := func(runID string) error {
		if time.Since(lastWatch) < time.Second {
			return nil
		}
		lastWatch = time.Now()
		return b.hist.panicked(ctx, runID)
	}
	r, took, err := b.c.sync(ctx, b.mappingID, dryRun, b.o.poll, watch)
	failure := ""
	switch {
	case errors.Is(err, errPanicked):
		// Retrying a panic only delays the failure by minutes: cancel.
		failure = err.Error()
		if r, err = b.c.cancel(ctx, r.ID, b.o.poll); err != nil {
			return f, nil, err
		}
		failure += " (the bench canceled the run: " + r.Status + ")"
	case err != nil:
		return f, nil, err
	case r.Status != "succeeded":
		failure = r.Status
		if r.Error != nil {
			failure += ": " + r.Error.Type + ": " + r.Error.Message
		}
		for _, l := range b.hist.failures(ctx, r.ID) {
			failure += "; " + l
		}
	}
	reqs := b.proxy.take()
	f = measure(name, r, took, start, b.fake.Stats(), reqs, b.o.rate, b.o.maxRatio)
	f.Failure = failure
	if f.Activities, err = b.hist.activities(ctx, r.ID, reqs, b.o.rate); err != nil {
		return f, nil, err
	}
	log = b.fake.Requests()
	f.Breaches = breaches(log, b.o.rate)
	f.OutsideSeconds = f.WallSeconds
	for _, a := range f.Activities {
		f.OutsideSeconds -= a.RunSeconds + a.QueueSeconds
	}
	rep.Syncs = append(rep.Syncs, f)
	if failure != "" {
		logf("%s: run %s did not succeed: %s", name, r.ID, failure)
	} else {
		logf("%s: %.1fs, %d requests, ratio %.2f", name, f.WallSeconds, f.Requests, f.Ratio)
	}
	return f, log, nil
}

// succeeded adds a check that a run succeeded and reports whether it did.
func succeeded(rep *report, f syncFigures, bar bool) bool {
	rep.Checks = append(rep.Checks, check{Name: f.Name + " succeeds", Bar: bar, OK: f.Failure == "",
		Detail: fmt.Sprintf("run %s: %s %s", f.RunID, f.Status, f.Failure)})
	return f.Failure == ""
}

// scenario is the sequence: dry run, initial sync, edits on both
// sides, second sync, a third that should change nothing, then a one-record
// edit on both sides and two more syncs.
func (b *bench) scenario(ctx context.Context, pool *pgxpool.Pool, d dataset, m *model, rep *report) error {
	add := func(c check) { rep.Checks = append(rep.Checks, c) }
	// The per-sync checks go last, whatever step the scenario stops at.
	defer b.perSyncChecks(rep)

	// Dry run.
	atBefore := airtableFingerprint(b.fake)
	pgBefore, err := postgresFingerprint(ctx, pool)
	if err != nil {
		return err
	}
	fd, reqs, err := b.sync(ctx, rep, "dry run", true)
	if err != nil {
		return err
	}
	if !succeeded(rep, fd, true) {
		return nil
	}
	var writes []string
	for _, q := range reqs {
		if q.Method != http.MethodGet && !strings.HasSuffix(q.Path, "/listRecords") {
			writes = append(writes, q.Method+" "+q.Path)
		}
	}
	pgAfter, err := postgresFingerprint(ctx, pool)
	if err != nil {
		return err
	}
	atSame := airtableFingerprint(b.fake) == atBefore
	add(check{Name: "dry run writes nothing to Airtable", Bar: true, OK: len(writes) == 0 && atSame,
		Detail: fmt.Sprintf("%d requests, %d of them writes; records unchanged: %v", len(reqs), len(writes), atSame), Examples: first(writes)})
	add(check{Name: "dry run writes nothing to Postgres", Bar: true, OK: pgAfter == pgBefore,
		Detail: fmt.Sprintf("rows %d → %d, md5 %s → %s", pgBefore.Rows, pgAfter.Rows, short(pgBefore.Digest), short(pgAfter.Digest))})
	add(check{Name: "dry run's diff", OK: true, Detail: fmt.Sprintf("%v", fd.Counts)})

	// Sync 1.
	f1, _, err := b.sync(ctx, rep, "sync 1", false)
	if err != nil {
		return err
	}
	if !succeeded(rep, f1, true) {
		return nil
	}
	want := map[string][]change{f1.RunID: m.sync()}
	ids, err := b.compare(ctx, pool, m, rep, "both sides after sync 1", true)
	if err != nil {
		return err
	}

	// Edits: Airtable's early ones, then every Postgres edit in one
	// transaction, then Airtable's late ones, with room between so that
	// latest_wins has clear answers.
	if err := b.edit(ctx, pool, d, m, ids, rep); err != nil {
		return err
	}

	// Sync 2.
	f2, _, err := b.sync(ctx, rep, "sync 2", false)
	if err != nil {
		return err
	}
	if !succeeded(rep, f2, true) {
		return nil
	}
	want[f2.RunID] = m.sync()
	if _, err := b.compare(ctx, pool, m, rep, "both sides after sync 2", true); err != nil {
		return err
	}
	for _, f := range []syncFigures{f1, f2} {
		add(check{Name: fmt.Sprintf("%s within %.2g× of the rate-limit floor", f.Name, b.o.maxRatio), Bar: true, OK: f.Within,
			Detail: fmt.Sprintf("%.2fs for %d requests at %d/s (floor %.2fs): %.2f×", f.WallSeconds, f.Requests, b.o.rate, f.FloorSeconds, f.Ratio)})
	}

	// Sync 3: nothing changed since sync 2 but sync 2's own writes.
	f3, _, err := b.sync(ctx, rep, "sync 3", false)
	if err != nil {
		return err
	}
	if succeeded(rep, f3, false) {
		want[f3.RunID] = b.quiet(rep, f3, m, "sync 2's own writes")
		if err := b.twoSidedEdit(ctx, pool, d, m, ids, rep, want); err != nil {
			return err
		}
	}

	// The audit log, read through the API.
	entries, err := b.c.audit(ctx, b.mappingID)
	if err != nil {
		return err
	}
	for _, f := range rep.Syncs {
		if w, ok := want[f.RunID]; ok {
			add(compareAudit("audit log of "+f.Name, f.RunID, w, entries, f.RunID == f1.RunID || f.RunID == f2.RunID))
		}
	}
	return nil
}

// twoSidedEdit is syncs 4 and 5: once everything is older than the
// cursors' overlap (1 s for Airtable, 5 s for Postgres), one record edited
// on both sides, in different fields; sync 4 exchanges the edits, and
// sync 5 then finds in Airtable only that record, whose row Postgres also
// reports as changed.
func (b *bench) twoSidedEdit(ctx context.Context, pool *pgxpool.Pool, d dataset, m *model, ids map[string]string, rep *report, want map[string][]change) error {
	time.Sleep(6 * time.Second)
	k := m.recs[keyOf(d.total()-1)]
	pgEdit := edit{key: k.key, side: sidePostgres, field: fields[0], value: newValue(fields[0], k.pg.vals["name"], sidePostgres, k.key)}
	pgAt, err := editPostgres(ctx, pool, []edit{pgEdit})
	if err != nil {
		return err
	}
	k.pg.vals["name"], k.pg.mod = pgEdit.value, pgAt
	b.editAirtable([]edit{{key: k.key, side: sideAirtable, field: fields[1], value: newValue(fields[1], k.at.vals["plan"], sideAirtable, k.key)}}, ids, m)
	f4, _, err := b.sync(ctx, rep, "sync 4", false)
	if err != nil {
		return err
	}
	if succeeded(rep, f4, false) {
		want[f4.RunID] = m.sync()
		if _, err := b.compare(ctx, pool, m, rep, "both sides after sync 4", false); err != nil {
			return err
		}
		f5, _, err := b.sync(ctx, rep, "sync 5", false)
		if err != nil {
			return err
		}
		if succeeded(rep, f5, false) {
			want[f5.RunID] = b.quiet(rep, f5, m, "sync 4's own writes")
		}
	}
	return nil
}

// quiet checks a sync that had nothing new to apply and returns the
// model's (empty) changes for it.
func (b *bench) quiet(rep *report, f syncFigures, m *model, what string) []change {
	want := m.sync()
	wrote := f.ByKind[kindCreate] + f.ByKind[kindUpdate] + f.ByKind[kindDelete]
	rep.Checks = append(rep.Checks, check{Name: f.Name + " echoes nothing back", OK: f.Applied == 0 && wrote == 0 && len(want) == 0,
		Detail: fmt.Sprintf("re-read %d Airtable records and %d Postgres rows (%s); applied %d decisions, %d Airtable writes (model: %d changes)",
			f.ScannedAirtable, f.ScannedPostgres, what, f.Applied, wrote, len(want))})
	return want
}

// compare checks both sides against the model and returns the Airtable
// record IDs by key.
func (b *bench) compare(ctx context.Context, pool *pgxpool.Pool, m *model, rep *report, name string, bar bool) (map[string]string, error) {
	at, ids := airtableState(b.fake)
	pg, err := postgresState(ctx, pool)
	if err != nil {
		return nil, err
	}
	c := compareSides(name, m, at, pg)
	c.Bar = bar
	rep.Checks = append(rep.Checks, c)
	return ids, nil
}

// edit makes the edits between sync 1 and sync 2.
func (b *bench) edit(ctx context.Context, pool *pgxpool.Pool, d dataset, m *model, ids map[string]string, rep *report) error {
	var atEarly, atLate, pgEdits []edit
	for _, e := range planEdits(m, d, b.o.edits, b.o.conflicts, b.o.seed) {
		switch {
		case e.side == sidePostgres:
			pgEdits = append(pgEdits, e)
		case e.late:
			atLate = append(atLate, e)
		default:
			atEarly = append(atEarly, e)
		}
		if e.side == sidePostgres && e.field.dir == dirPull || e.side == sideAirtable && e.field.dir == dirPush {
			rep.Edits.BlockedByDirection++
		}
		if e.side == sideAirtable && e.conflict {
			rep.Edits.ConflictKeys++
			if e.late {
				rep.Edits.AirtableLater++
			}
		}
	}
	rep.Edits.Airtable, rep.Edits.Postgres = len(atEarly)+len(atLate), len(pgEdits)
	logf("editing %d Airtable records and %d Postgres rows…", rep.Edits.Airtable, rep.Edits.Postgres)
	b.editAirtable(atEarly, ids, m)
	time.Sleep(100 * time.Millisecond)
	pgAt, err := editPostgres(ctx, pool, pgEdits)
	if err != nil {
		return err
	}
	for _, e := range pgEdits {
		r := m.recs[e.key]
		r.pg.vals[e.field.PG] = e.value
		r.pg.mod = pgAt
	}
	time.Sleep(100 * time.Millisecond)
	b.editAirtable(atLate, ids, m)
	return nil
}

// perSyncChecks adds, for every sync run, the 429 and bookkeeping checks.
func (b *bench) perSyncChecks(rep *report) {
	for _, f := range rep.Syncs {
		rep.Checks = append(rep.Checks, check{Name: f.Name + " gets no 429", Bar: true, OK: f.RateLimited == 0,
			Detail: fmt.Sprintf("%d requests, %d answered 429; at most %d in one second at the fake, %d as sent (limit %d); at most %d records a write",
				f.Requests, f.RateLimited, f.MaxPerWindowBase, f.MaxPerWindowSent, b.o.rate, f.MaxWriteBatch), Examples: f.Breaches})
		if !f.DryRun && f.Failure == "" {
			rep.Checks = append(rep.Checks, check{Name: f.Name + " reports every decision it applied", OK: f.Applied+f.Failed == f.Planned,
				Detail: fmt.Sprintf("result: %d applied + %d failed, plan: %d decisions", f.Applied, f.Failed, f.Planned)})
		}
		if f.Failed > 0 {
			rep.Checks = append(rep.Checks, check{Name: f.Name + " fails no record", Bar: true, Detail: fmt.Sprintf("%d failed", f.Failed)})
		}
	}
}

// editAirtable makes edits as a person in Airtable would, and records them
// and their modification times in the model.
func (b *bench) editAirtable(edits []edit, ids map[string]string, m *model) {
	for _, e := range edits {
		rec := b.fake.Update(baseID, tableName, ids[e.key], map[string]any{e.field.AT: e.value})
		r := m.recs[e.key]
		r.at.vals[e.field.PG] = e.value
		r.at.mod = rec.LastModified
	}
}

func first(s []string) []string { return s[:min(len(s), maxExamples)] }

func short(s string) string { return s[:min(len(s), 8)] }
