package syncplan

import (
	"cmp"
	"slices"
)

// DryRun is what a sync would do, for review before running it: the totals
// and a few example decisions of each kind, sorted by key.
type DryRun struct {
	// Summary counts every decision, not only the samples.
	Summary Summary
	// The samples of each operation on each side.
	AirtableCreates, AirtableUpdates, AirtableDeletes []Decision
	PostgresCreates, PostgresUpdates, PostgresDeletes []Decision
	// Conflicts holds decisions with at least one conflict.
	Conflicts []Decision
}

// Diff decides every record and keeps up to samples examples per kind. The
// examples are the first by key, so the same input always shows the same
// ones; a decision may appear under several kinds.
func Diff(m Mapping, rs []Record, samples int) DryRun {
	ds := make([]Decision, len(rs))
	for i, r := range rs {
		ds[i] = Decide(m, r)
	}
	slices.SortStableFunc(ds, func(a, b Decision) int { return cmp.Compare(a.Key, b.Key) })
	dr := DryRun{Summary: Summarize(ds)}
	keep := func(list *[]Decision, d Decision, ok bool) {
		if ok && len(*list) < samples {
			*list = append(*list, d)
		}
	}
	for _, d := range ds {
		keep(&dr.AirtableCreates, d, d.Airtable == OpCreate)
		keep(&dr.AirtableUpdates, d, d.Airtable == OpUpdate)
		keep(&dr.AirtableDeletes, d, d.Airtable == OpDelete)
		keep(&dr.PostgresCreates, d, d.Postgres == OpCreate)
		keep(&dr.PostgresUpdates, d, d.Postgres == OpUpdate)
		keep(&dr.PostgresDeletes, d, d.Postgres == OpDelete)
		keep(&dr.Conflicts, d, d.Conflicts > 0)
	}
	return dr
}
