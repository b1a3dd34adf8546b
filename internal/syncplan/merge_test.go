package syncplan

import (
	"fmt"
	"testing"
	"time"
)

// outcome is the expected decision on a one-field record.
type outcome struct {
	to       string // the side written to, "" for none
	value    any    // the value written
	conflict bool
	loser    any
	synced   any
}

// TestMergeMatrix enumerates every combination of which side changed the
// field (and whether to equal values) × direction × policy, for a linked
// record and for one never synced (whose ancestor is empty).
func TestMergeMatrix(t *testing.T) {
	const A, P = WinnerAirtable, WinnerPostgres
	toPG := func(v any, conflict bool, loser any) outcome {
		return outcome{to: P, value: v, conflict: conflict, loser: loser, synced: v}
	}
	toAT := func(v any, conflict bool, loser any) outcome {
		return outcome{to: A, value: v, conflict: conflict, loser: loser, synced: v}
	}
	policies := []struct {
		name         string
		policy       Policy
		atMod, pgMod time.Time
		winner       string // who wins a both-field conflict
	}{
		// The fixed policies are given timestamps that disagree with them.
		{"airtable_wins", AirtableWins, at(0), at(5), A},
		{"postgres_wins", PostgresWins, at(5), at(0), P},
		{"latest/airtable later", LatestWins, at(5), at(0), A},
		{"latest/postgres later", LatestWins, at(0), at(5), P},
		{"latest/tie", LatestWins, at(3), at(3), A},
		{"latest/both unknown", LatestWins, time.Time{}, time.Time{}, A},
		{"latest/airtable unknown", LatestWins, time.Time{}, at(0), P},
	}
	for _, known := range []bool{true, false} {
		// Never synced, the ancestor is empty: "old" is an absent value.
		var old any = "old"
		if !known {
			old = nil
		}
		states := []struct {
			name   string
			av, pv any
			want   func(dir Direction, winner string) outcome
		}{
			{"neither changed", old, old, func(Direction, string) outcome { return outcome{synced: old} }},
			{"airtable changed", "a", old, func(dir Direction, _ string) outcome {
				if dir == Push {
					return outcome{synced: old} // Postgres owns it: not pulled
				}
				return toPG("a", false, nil)
			}},
			{"postgres changed", old, "p", func(dir Direction, _ string) outcome {
				if dir == Pull {
					return outcome{synced: old} // Airtable owns it: not pushed
				}
				return toAT("p", false, nil)
			}},
			{"both changed, equal", "s", "s", func(Direction, string) outcome { return outcome{synced: "s"} }},
			{"both changed, different", "a", "p", func(dir Direction, winner string) outcome {
				if dir == Pull || dir == Both && winner == A {
					return toPG("a", true, "p")
				}
				return toAT("p", true, "a")
			}},
		}
		for _, st := range states {
			for _, dir := range []Direction{Pull, Push, Both} {
				for _, pol := range policies {
					name := fmt.Sprintf("known=%v/%s/%s/%s", known, st.name, dir, pol.name)
					t.Run(name, func(t *testing.T) {
						m := Mapping{Fields: []Field{{Name: "f", Direction: dir}}, Policy: pol.policy}
						r := Record{
							Key:      "k",
							Airtable: present(valuesOf(st.av), pol.atMod),
							Postgres: present(valuesOf(st.pv), pol.pgMod),
						}
						if known {
							r.Link = linked(map[string]any{"f": "old"})
						}
						checkOutcome(t, Decide(m, r), st.want(dir, pol.winner), old)
					})
				}
			}
		}
	}
}

// valuesOf returns the values of a record whose field f is v, leaving f
// out when v is nil the way Airtable leaves out empty cells.
func valuesOf(v any) map[string]any {
	if v == nil {
		return map[string]any{}
	}
	return map[string]any{"f": v}
}

// checkOutcome compares a one-field decision with the expected outcome.
func checkOutcome(t *testing.T, d Decision, want outcome, old any) {
	t.Helper()
	assertEqual(t, "Synced", d.Synced, map[string]any{"f": want.synced})
	if want.to == "" {
		assertNoWrites(t, d)
		return
	}
	written, writtenOp, other, otherOp := d.PostgresFields, d.Postgres, d.AirtableFields, d.Airtable
	winner := WinnerAirtable
	if want.to == WinnerAirtable {
		written, writtenOp, other, otherOp = d.AirtableFields, d.Airtable, d.PostgresFields, d.Postgres
		winner = WinnerPostgres
	}
	if writtenOp != OpUpdate || otherOp != OpNone || other != nil {
		t.Fatalf("want an update of %s only, got %+v", want.to, d)
	}
	assertEqual(t, "written fields", written, map[string]any{"f": want.value})
	assertEqual(t, "changes", d.Changes, []Change{{Field: "f", Old: old, New: want.value, Winner: winner, Conflict: want.conflict, Loser: want.loser}})
	conflicts := 0
	if want.conflict {
		conflicts = 1
	}
	if d.Conflicts != conflicts {
		t.Fatalf("Conflicts = %d, want %d", d.Conflicts, conflicts)
	}
}
