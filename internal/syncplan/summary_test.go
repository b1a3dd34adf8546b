package syncplan

import (
	"fmt"
	"testing"
)

// summaryRecords returns one record of every kind, keyed so that sorting
// matters: a conflict (two fields), an Airtable create, a Postgres update,
// a Postgres delete, an unchanged record, and an Airtable update.
func summaryRecords() (Mapping, []Record) {
	m := Mapping{Fields: []Field{{Name: "f", Direction: Both}, {Name: "g", Direction: Both}}, Policy: AirtableWins, Deletes: DeletesBoth}
	anc := map[string]any{"f": 1, "g": 1}
	same := map[string]any{"f": 1, "g": 1}
	return m, []Record{
		{Key: "e-conflict", Airtable: present(map[string]any{"f": 2, "g": 2}, at(0)), Postgres: present(map[string]any{"f": 3, "g": 3}, at(0)), Link: linked(anc)},
		{Key: "d-create", Postgres: present(same, at(0))},
		{Key: "c-pg-update", Airtable: present(map[string]any{"f": 2, "g": 1}, at(0)), Postgres: present(same, at(0)), Link: linked(anc)},
		{Key: "b-delete", Airtable: present(same, at(0)), Link: linked(anc)},
		{Key: "a-unchanged", Airtable: present(same, at(0)), Postgres: present(same, at(0)), Link: linked(anc)},
		{Key: "f-at-update", Airtable: present(same, at(0)), Postgres: present(map[string]any{"f": 1, "g": 5}, at(0)), Link: linked(anc)},
	}
}

// TestSummarize checks the counts over a batch of every kind.
func TestSummarize(t *testing.T) {
	m, rs := summaryRecords()
	var ds []Decision
	for _, r := range rs {
		ds = append(ds, Decide(m, r))
	}
	ds = append(ds, Decision{Key: "zero value"}) // "" ops count as none
	got := Summarize(ds)
	want := Summary{AirtableCreates: 1, AirtableUpdates: 1, AirtableDeletes: 1, PostgresUpdates: 2, Conflicts: 2, Unchanged: 2}
	assertEqual(t, "summary", got, want)
	assertEqual(t, "empty", Summarize(nil), Summary{})
}

// TestDiff checks the dry run's summary and its samples: sorted by key,
// capped per kind, and independent of the input order.
func TestDiff(t *testing.T) {
	m, rs := summaryRecords()
	for i := range 5 {
		rs = append(rs, Record{Key: fmt.Sprintf("g-create-%d", 4-i), Airtable: present(map[string]any{"f": i}, at(0))})
	}
	dr := Diff(m, rs, 2)
	assertEqual(t, "summary", dr.Summary, Summary{
		AirtableCreates: 1, AirtableUpdates: 1, AirtableDeletes: 1,
		PostgresCreates: 5, PostgresUpdates: 2, Conflicts: 2, Unchanged: 1,
	})
	keys := func(ds []Decision) []string {
		var out []string
		for _, d := range ds {
			out = append(out, d.Key)
		}
		return out
	}
	assertEqual(t, "Airtable creates", keys(dr.AirtableCreates), []string{"d-create"})
	assertEqual(t, "Airtable updates", keys(dr.AirtableUpdates), []string{"f-at-update"})
	assertEqual(t, "Airtable deletes", keys(dr.AirtableDeletes), []string{"b-delete"})
	assertEqual(t, "Postgres creates", keys(dr.PostgresCreates), []string{"g-create-0", "g-create-1"})
	assertEqual(t, "Postgres updates", keys(dr.PostgresUpdates), []string{"c-pg-update", "e-conflict"})
	assertEqual(t, "Postgres deletes", keys(dr.PostgresDeletes), []string(nil))
	assertEqual(t, "conflicts", keys(dr.Conflicts), []string{"e-conflict"})

	reversed := make([]Record, len(rs))
	for i, r := range rs {
		reversed[len(rs)-1-i] = r
	}
	assertEqual(t, "dry run of reversed input", Diff(m, reversed, 2), dr)

	none := Diff(m, rs, 0)
	if none.Summary != dr.Summary || none.AirtableCreates != nil || none.Conflicts != nil {
		t.Fatalf("samples=0 must keep the summary only, got %+v", none)
	}
}
