package syncplan

import (
	"errors"
	"strings"
	"testing"
)

// TestValidate checks that every kind of bad mapping is refused with a
// message naming the problem, and that all problems are reported at once.
func TestValidate(t *testing.T) {
	good := Mapping{Fields: []Field{{Name: "a", Direction: Both}, {Name: "b", Direction: Pull, Policy: PostgresWins}}, Policy: LatestWins}
	if err := good.Validate(); err != nil {
		t.Fatalf("valid mapping refused: %v", err)
	}
	for _, mode := range []Deletes{"", DeletesNone, DeletesAirtableToPostgres, DeletesPostgresToAirtable, DeletesBoth} {
		m := good
		m.Deletes = mode
		if err := m.Validate(); err != nil {
			t.Fatalf("deletes %q refused: %v", mode, err)
		}
	}
	cases := []struct {
		name string
		m    Mapping
		want string
	}{
		{"no fields", Mapping{Policy: LatestWins}, "no fields"},
		{"no policy", Mapping{Fields: good.Fields}, `unknown policy ""`},
		{"bad policy", Mapping{Fields: good.Fields, Policy: "newest"}, `unknown policy "newest"`},
		{"bad deletes", Mapping{Fields: good.Fields, Policy: LatestWins, Deletes: "all"}, `unknown deletes mode "all"`},
		{"unnamed", Mapping{Fields: []Field{{Direction: Both}}, Policy: LatestWins}, "field 0 has no name"},
		{"duplicate", Mapping{Fields: []Field{{Name: "a", Direction: Both}, {Name: "a", Direction: Pull}}, Policy: LatestWins}, `duplicate field "a"`},
		{"bad direction", Mapping{Fields: []Field{{Name: "a", Direction: "sideways"}}, Policy: LatestWins}, `field "a": unknown direction "sideways"`},
		{"no direction", Mapping{Fields: []Field{{Name: "a"}}, Policy: LatestWins}, `field "a": unknown direction ""`},
		{"bad field policy", Mapping{Fields: []Field{{Name: "a", Direction: Both, Policy: "x"}}, Policy: LatestWins}, `field "a": unknown policy "x"`},
	}
	for _, c := range cases {
		err := c.m.Validate()
		if err == nil || !errors.Is(err, ErrInvalidMapping) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want an ErrInvalidMapping mentioning %q", c.name, err, c.want)
		}
	}
	err := Mapping{Fields: []Field{{Name: "a"}, {Name: "a", Direction: Both}}}.Validate()
	if n := strings.Count(err.Error(), "\n") + 1; n != 3 {
		t.Fatalf("want 3 problems reported together, got %d: %v", n, err)
	}
}

// TestDecideIgnoresUnknownDirections checks the documented behaviour on an
// invalid mapping: a field with an unknown direction is never written.
func TestDecideIgnoresUnknownDirections(t *testing.T) {
	m := Mapping{Fields: []Field{{Name: "f", Direction: "sideways"}, {Name: "g", Direction: Both}}, Policy: LatestWins}
	for _, r := range []Record{
		{Key: "k", Airtable: present(map[string]any{"f": 1}, at(0)), Postgres: present(map[string]any{"f": 2}, at(0))},
		{Key: "k", Airtable: present(map[string]any{"f": 1}, at(0))},
		{Key: "k", Postgres: present(map[string]any{"f": 1, "g": 2}, at(0)), Link: linked(map[string]any{"g": 2})},
	} {
		d := Decide(m, r)
		if _, ok := d.Synced["f"]; ok || d.AirtableFields["f"] != nil || d.PostgresFields["f"] != nil || len(d.Changes) != 0 {
			t.Fatalf("got %+v", d)
		}
	}
}
