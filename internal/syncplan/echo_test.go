package syncplan

import (
	"testing"
)

// TestEchoSuppression checks that our own writes, which the written side
// reports back as changed and newer, are not synced back, in both
// directions, and that an echo does not mask a real edit on the other side
// even though the echo carries the newer timestamp.
func TestEchoSuppression(t *testing.T) {
	m := Mapping{Fields: []Field{{Name: "f", Direction: Both}, {Name: "n", Direction: Both}}, Policy: LatestWins}
	for _, from := range []string{WinnerAirtable, WinnerPostgres} {
		t.Run("edit on "+from, func(t *testing.T) {
			ancestor := map[string]any{"f": "old", "n": 1}
			r := Record{
				Key:      "k",
				Airtable: present(map[string]any{"f": "old", "n": 1}, at(0)),
				Postgres: present(map[string]any{"f": "old", "n": 1}, at(0)),
				Link:     linked(ancestor),
			}
			edited := &r.Airtable
			if from == WinnerPostgres {
				edited = &r.Postgres
			}
			edited.Values = map[string]any{"f": "new", "n": 1}
			edited.Modified = at(1)

			d := Decide(m, r)
			if len(d.Changes) != 1 || d.Changes[0].Winner != from || d.Conflicts != 0 {
				t.Fatalf("want one change won by %s, got %+v", from, d)
			}
			// The write bumps the other side's modified time past the edit.
			next := apply(r, d, at(10))
			assertNoWrites(t, Decide(m, next))

			// A real edit of another field on the edited side still syncs,
			// without a conflict, although the echo is newer.
			next = apply(r, d, at(10))
			side := &next.Airtable
			if from == WinnerPostgres {
				side = &next.Postgres
			}
			side.Values = map[string]any{"f": "new", "n": 2}
			side.Modified = at(5)
			d = Decide(m, next)
			if len(d.Changes) != 1 || d.Changes[0].Field != "n" || d.Changes[0].Winner != from || d.Conflicts != 0 {
				t.Fatalf("a real edit behind an echo must win without conflict, got %+v", d)
			}
		})
	}
}

// TestEchoSuppressionAcrossRepresentations checks that a value coming back
// in another number representation (we write an int, Airtable's JSON
// returns a float, Postgres's numeric a json.Number) is still an echo.
func TestEchoSuppressionAcrossRepresentations(t *testing.T) {
	m := Mapping{Fields: []Field{{Name: "n", Direction: Both}}, Policy: LatestWins}
	r := Record{
		Key:      "k",
		Airtable: present(map[string]any{"n": 2.0}, at(9)),
		Postgres: present(map[string]any{"n": int64(2)}, at(1)),
		Link:     linked(map[string]any{"n": jsonNumber("2")}),
	}
	assertNoWrites(t, Decide(m, r))
}

// TestCycleSettles runs a record through edit, sync, echo and re-sync on
// both sides and checks the sync settles after one round each time.
func TestCycleSettles(t *testing.T) {
	m := Mapping{Fields: []Field{
		{Name: "name", Direction: Both},
		{Name: "stage", Direction: Pull},
		{Name: "score", Direction: Push},
	}, Policy: AirtableWins}
	r := Record{Key: "k", Postgres: present(map[string]any{"name": "Ada", "score": 3, "stage": "lead"}, at(0))}
	now := 10
	step := func(what string) {
		t.Helper()
		now++
		d := Decide(m, r)
		r = apply(r, d, at(now))
		if d2 := Decide(m, r); d2.Airtable != OpNone || d2.Postgres != OpNone || len(d2.Changes) != 0 {
			t.Fatalf("%s: the sync did not settle: %+v", what, d2)
		}
	}
	step("create in Airtable")
	if v := r.Airtable.Values["stage"]; v != nil {
		t.Fatalf("a pull field must not be pushed on create, Airtable has %v", v)
	}
	r.Airtable.Values["stage"] = "won"
	r.Airtable.Values["name"] = "Ada L."
	step("edit in Airtable")
	assertEqual(t, "Postgres after pull", r.Postgres.Values, map[string]any{"name": "Ada L.", "score": 3, "stage": "won"})
	r.Postgres.Values["score"] = 4
	r.Postgres.Values["stage"] = "lost" // Airtable owns it: stays local
	step("edit in Postgres")
	assertEqual(t, "Airtable after push", r.Airtable.Values, map[string]any{"name": "Ada L.", "score": 4, "stage": "won"})
	assertEqual(t, "ancestor", r.Link.Synced, map[string]any{"name": "Ada L.", "score": 4, "stage": "won"})
}
