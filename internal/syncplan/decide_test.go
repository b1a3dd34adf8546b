package syncplan

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// jsonNumber returns s as a json.Number.
func jsonNumber(s string) json.Number { return json.Number(s) }

// TestPerFieldPolicy checks that a field's policy overrides the mapping's
// and that policies only apply to fields that flow both ways.
func TestPerFieldPolicy(t *testing.T) {
	m := Mapping{Fields: []Field{
		{Name: "mapping", Direction: Both},
		{Name: "override", Direction: Both, Policy: PostgresWins},
		{Name: "pulled", Direction: Pull, Policy: PostgresWins},
	}, Policy: AirtableWins}
	anc := map[string]any{"mapping": 0, "override": 0, "pulled": 0}
	r := Record{
		Key:      "k",
		Airtable: present(map[string]any{"mapping": "a", "override": "a", "pulled": "a"}, at(0)),
		Postgres: present(map[string]any{"mapping": "p", "override": "p", "pulled": "p"}, at(0)),
		Link:     linked(anc),
	}
	d := Decide(m, r)
	assertEqual(t, "changes", d.Changes, []Change{
		{Field: "mapping", Old: 0, New: "a", Winner: WinnerAirtable, Conflict: true, Loser: "p"},
		{Field: "override", Old: 0, New: "p", Winner: WinnerPostgres, Conflict: true, Loser: "a"},
		{Field: "pulled", Old: 0, New: "a", Winner: WinnerAirtable, Conflict: true, Loser: "p"},
	})
	assertEqual(t, "Airtable writes", d.AirtableFields, map[string]any{"override": "p"})
	assertEqual(t, "Postgres writes", d.PostgresFields, map[string]any{"mapping": "a", "pulled": "a"})
	if d.Conflicts != 3 || d.Airtable != OpUpdate || d.Postgres != OpUpdate {
		t.Fatalf("got %+v", d)
	}
}

// TestCreates checks that an unlinked record on one side is created on the
// other with only the fields that flow that way, and that the ancestor
// records the new record's empty fields as empty.
func TestCreates(t *testing.T) {
	m := Mapping{Fields: []Field{
		{Name: "name", Direction: Both},
		{Name: "stage", Direction: Pull},
		{Name: "score", Direction: Push},
		{Name: "note", Direction: Both},
	}, Policy: LatestWins}
	values := map[string]any{"name": "Ada", "stage": "lead", "score": 3} // note is empty

	t.Run("postgres to airtable", func(t *testing.T) {
		d := Decide(m, Record{Key: "k", Postgres: present(values, at(0))})
		if d.Airtable != OpCreate || d.Postgres != OpNone || d.PostgresFields != nil {
			t.Fatalf("got %+v", d)
		}
		assertEqual(t, "fields", d.AirtableFields, map[string]any{"name": "Ada", "score": 3})
		assertEqual(t, "synced", d.Synced, map[string]any{"name": "Ada", "score": 3, "note": nil, "stage": nil})
		assertEqual(t, "changes", d.Changes, []Change{
			{Field: "name", New: "Ada", Winner: WinnerPostgres},
			{Field: "score", New: 3, Winner: WinnerPostgres},
		})
	})
	t.Run("airtable to postgres", func(t *testing.T) {
		d := Decide(m, Record{Key: "k", Airtable: present(values, at(0))})
		if d.Postgres != OpCreate || d.Airtable != OpNone || d.AirtableFields != nil {
			t.Fatalf("got %+v", d)
		}
		assertEqual(t, "fields", d.PostgresFields, map[string]any{"name": "Ada", "stage": "lead"})
		assertEqual(t, "synced", d.Synced, map[string]any{"name": "Ada", "stage": "lead", "note": nil, "score": nil})
	})
	t.Run("empty record still created", func(t *testing.T) {
		d := Decide(m, Record{Key: "k", Airtable: present(nil, at(0))})
		if d.Postgres != OpCreate || d.PostgresFields == nil || len(d.PostgresFields) != 0 || len(d.Changes) != 0 {
			t.Fatalf("got %+v", d)
		}
	})
	t.Run("no field flows that way", func(t *testing.T) {
		pullOnly := Mapping{Fields: []Field{{Name: "stage", Direction: Pull}}, Policy: LatestWins}
		d := Decide(pullOnly, Record{Key: "k", Postgres: present(values, at(0))})
		assertNoWrites(t, d)
		if d.Synced != nil {
			t.Fatalf("no link to store, got %v", d.Synced)
		}
	})
	t.Run("nowhere", func(t *testing.T) {
		d := Decide(m, Record{Key: "k"})
		assertNoWrites(t, d)
		if d.Synced != nil {
			t.Fatalf("got %v", d.Synced)
		}
	})
	t.Run("resumed create", func(t *testing.T) {
		// A crashed run created the Airtable record but stored no ancestor;
		// the caller matched it by key, so it is merged, not created again.
		r := Record{
			Key:      "k",
			Airtable: present(map[string]any{"name": "Ada", "score": 3.0}, at(5)),
			Postgres: present(values, at(0)),
		}
		d := Decide(m, r)
		assertNoWrites(t, d)
		assertEqual(t, "synced", d.Synced, map[string]any{"name": "Ada", "stage": nil, "score": 3, "note": nil})
	})
}

// TestEmptyValues checks that an absent value is nil: clearing a cell in
// Airtable clears the column, an empty cell never overwrites data on a
// first sync, and a present side with no values at all is all empty.
func TestEmptyValues(t *testing.T) {
	m := Mapping{Fields: []Field{{Name: "f", Direction: Both}, {Name: "g", Direction: Both}}, Policy: AirtableWins}
	t.Run("cleared in airtable", func(t *testing.T) {
		r := Record{
			Key:      "k",
			Airtable: present(map[string]any{"g": "y"}, at(0)),
			Postgres: present(map[string]any{"f": "x", "g": "y"}, at(0)),
			Link:     linked(map[string]any{"f": "x", "g": "y"}),
		}
		d := Decide(m, r)
		assertEqual(t, "Postgres writes", d.PostgresFields, map[string]any{"f": nil})
		assertEqual(t, "synced", d.Synced, map[string]any{"f": nil, "g": "y"})
	})
	t.Run("first sync fills blanks", func(t *testing.T) {
		r := Record{
			Key:      "k",
			Airtable: present(map[string]any{"g": "y"}, at(0)),
			Postgres: present(map[string]any{"f": "x", "g": nil}, at(0)),
		}
		d := Decide(m, r)
		assertEqual(t, "Airtable writes", d.AirtableFields, map[string]any{"f": "x"})
		assertEqual(t, "Postgres writes", d.PostgresFields, map[string]any{"g": "y"})
		if d.Conflicts != 0 {
			t.Fatalf("filling blanks is not a conflict: %+v", d)
		}
	})
	t.Run("nil values map", func(t *testing.T) {
		r := Record{
			Key:      "k",
			Airtable: Side{Present: true},
			Postgres: present(map[string]any{"f": "x"}, at(0)),
			Link:     linked(nil),
		}
		d := Decide(m, r)
		assertEqual(t, "Airtable writes", d.AirtableFields, map[string]any{"f": "x"})
	})
	t.Run("typed nil is empty", func(t *testing.T) {
		r := Record{
			Key:      "k",
			Airtable: present(map[string]any{"f": []any(nil)}, at(0)),
			Postgres: present(map[string]any{"f": (*string)(nil)}, at(0)),
			Link:     linked(map[string]any{}),
		}
		assertNoWrites(t, Decide(m, r))
	})
}

// TestCustomEqual checks that a field's Equal replaces the default.
func TestCustomEqual(t *testing.T) {
	fold := func(a, b any) bool {
		as, _ := a.(string)
		bs, _ := b.(string)
		return strings.EqualFold(as, bs)
	}
	m := Mapping{Fields: []Field{{Name: "email", Direction: Both, Equal: fold}}, Policy: LatestWins}
	r := Record{
		Key:      "k",
		Airtable: present(map[string]any{"email": "Ada@Example.com"}, at(5)),
		Postgres: present(map[string]any{"email": "ada@example.com"}, at(0)),
		Link:     linked(map[string]any{"email": "ADA@example.com"}),
	}
	assertNoWrites(t, Decide(m, r))
}

// TestDeterministic checks that changes come sorted by field and that the
// mapping's field order does not leak into the decision.
func TestDeterministic(t *testing.T) {
	fields := []Field{{Name: "z", Direction: Both}, {Name: "a", Direction: Push}, {Name: "m", Direction: Pull}}
	r := Record{
		Key:      "k",
		Airtable: present(map[string]any{"z": 1, "a": 1, "m": 2}, at(0)),
		Postgres: present(map[string]any{"z": 2, "a": 2, "m": 1}, at(1)),
		Link:     linked(map[string]any{"z": 1, "a": 1, "m": 1}),
	}
	d := Decide(Mapping{Fields: fields, Policy: LatestWins}, r)
	var order []string
	for _, c := range d.Changes {
		order = append(order, c.Field)
	}
	assertEqual(t, "change order", order, []string{"a", "m", "z"})
	reversed := []Field{fields[2], fields[1], fields[0]}
	if d2 := Decide(Mapping{Fields: reversed, Policy: LatestWins}, r); !reflect.DeepEqual(d, d2) {
		t.Fatalf("field order changed the decision:\n%+v\n%+v", d, d2)
	}
}
