package syncplan

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
)

// bytesource reads small choices from fuzz input, then zeros when it runs
// out, so that every input decodes to some scenario.
type bytesource struct{ b []byte }

// pick returns a choice in [0, n).
func (s *bytesource) pick(n int) int {
	if len(s.b) == 0 {
		return 0
	}
	c := int(s.b[0]) % n
	s.b = s.b[1:]
	return c
}

// domain holds the values scenarios draw from: several notations of the
// same numbers, empties of several kinds, and lists.
var domain = []any{nil, "a", "b", 1, 1.0, json.Number("1"), 2.5, json.Number("2.50"), []any{"x"}, []string{"x"}, []any(nil), ""}

// scenario decodes a mapping and a record from fuzz input.
func scenario(data []byte) (Mapping, Record) {
	s := &bytesource{b: data}
	dirs := []Direction{Pull, Push, Both}
	policies := []Policy{"", AirtableWins, PostgresWins, LatestWins}
	m := Mapping{
		Policy:  policies[1+s.pick(3)],
		Deletes: []Deletes{DeletesNone, DeletesAirtableToPostgres, DeletesPostgresToAirtable, DeletesBoth}[s.pick(4)],
	}
	for i := range 1 + s.pick(4) {
		m.Fields = append(m.Fields, Field{Name: fmt.Sprintf("f%d", i), Direction: dirs[s.pick(3)], Policy: policies[s.pick(4)]})
	}
	r := Record{Key: "k", Link: Link{Known: s.pick(3) != 0}}
	if r.Link.Known {
		r.Link.Synced = values(s, m, nil)
	}
	side := func() Side {
		if s.pick(4) == 0 {
			return Side{}
		}
		return Side{Present: true, Values: values(s, m, r.Link.Synced), Modified: at(s.pick(3))}
	}
	r.Airtable, r.Postgres = side(), side()
	return m, r
}

// values draws a value for each field, often keeping the ancestor's so
// that unchanged fields are common, and sometimes leaving a field out.
func values(s *bytesource, m Mapping, ancestor map[string]any) map[string]any {
	out := make(map[string]any)
	for _, f := range m.Fields {
		switch c := s.pick(len(domain) + 3); {
		case c < len(domain):
			out[f.Name] = domain[c]
		case c == len(domain):
			// absent
		default:
			if v, ok := ancestor[f.Name]; ok {
				out[f.Name] = v
			}
		}
	}
	return out
}

// checkProperties asserts what must hold for every decision: a well-formed
// result, writes only in the fields' directions, no edit lost unaudited,
// convergence once applied, idempotence and independence from field order.
func checkProperties(t *testing.T, m Mapping, r Record) {
	t.Helper()
	d := Decide(m, r)
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("%s\nmapping %+v\nrecord %+v\ndecision %+v", fmt.Sprintf(format, args...), m, r, d)
	}
	dir := make(map[string]Field)
	for _, f := range m.Fields {
		dir[f.Name] = f
	}

	// Well-formed: operations agree with their field maps, every write has
	// exactly one audit entry, entries are sorted, conflicts are counted.
	checkOp := func(side string, op Op, fields map[string]any, allow func(Direction) bool) {
		switch op {
		case OpNone, OpDelete:
			if fields != nil {
				fail("%s %s with fields", side, op)
			}
		case OpUpdate:
			if len(fields) == 0 {
				fail("%s update without fields", side)
			}
		case OpCreate:
			if fields == nil {
				fail("%s create without a field map", side)
			}
		default:
			fail("%s: unknown op %q", side, op)
		}
		for name := range fields {
			if !allow(dir[name].Direction) {
				fail("%s written to %s against its direction", name, side)
			}
		}
	}
	checkOp("Airtable", d.Airtable, d.AirtableFields, Direction.toAirtable)
	checkOp("Postgres", d.Postgres, d.PostgresFields, Direction.toPostgres)
	if d.Airtable == OpDelete && d.Postgres != OpNone || d.Postgres == OpDelete && d.Airtable != OpNone {
		fail("a delete with a write on the other side")
	}
	conflicts := 0
	for i, c := range d.Changes {
		if i > 0 && d.Changes[i-1].Field >= c.Field {
			fail("changes not sorted by field")
		}
		target := d.PostgresFields
		if c.Winner == WinnerPostgres {
			target = d.AirtableFields
		}
		if v, ok := target[c.Field]; !ok || !reflect.DeepEqual(v, c.New) {
			fail("change %+v is not a write", c)
		}
		if c.Conflict {
			conflicts++
		} else if c.Loser != nil {
			fail("loser without conflict in %+v", c)
		}
	}
	if len(d.Changes) != len(d.AirtableFields)+len(d.PostgresFields) || d.Conflicts != conflicts {
		fail("changes and writes or conflicts disagree")
	}

	// No edit silently lost: a side's change to a field it may win ends up
	// in the new ancestor, or is audited as a lost conflict.
	for _, f := range m.Fields {
		for _, s := range []struct {
			side  Side
			name  string
			allow bool
		}{{r.Airtable, WinnerAirtable, f.Direction.toPostgres()}, {r.Postgres, WinnerPostgres, f.Direction.toAirtable()}} {
			v := s.side.Values[f.Name]
			if !s.side.Present || !s.allow || f.equal(v, r.ancestor(f.Name)) {
				continue
			}
			if d.Synced != nil && f.equal(d.Synced[f.Name], v) {
				continue
			}
			if !slices.ContainsFunc(d.Changes, func(c Change) bool {
				return c.Field == f.Name && c.Conflict && c.Winner != s.name && f.equal(c.Loser, v)
			}) {
				fail("%s's edit of %s to %#v lost without an audited conflict", s.name, f.Name, v)
			}
		}
	}

	// Convergence: once applied, both sides agree with the new ancestor on
	// every field they share, and each side on the fields it owns.
	next := apply(r, d, at(100))
	if d.Synced == nil && next.Airtable.Present && next.Postgres.Present {
		fail("the link of a record on both sides was dropped")
	}
	if d.Synced != nil && next.Airtable.Present && next.Postgres.Present {
		for _, f := range m.Fields {
			want := d.Synced[f.Name]
			if f.Direction != Push && !f.equal(next.Airtable.Values[f.Name], want) ||
				f.Direction != Pull && !f.equal(next.Postgres.Values[f.Name], want) {
				fail("%s did not converge: Airtable %#v, Postgres %#v, ancestor %#v", f.Name, next.Airtable.Values[f.Name], next.Postgres.Values[f.Name], want)
			}
		}
	}

	// Idempotence: the next sync, which sees our writes echoed back as
	// newer changes, has nothing to do and keeps the same ancestor.
	again := Decide(m, next)
	if again.Airtable != OpNone || again.Postgres != OpNone || len(again.Changes) != 0 {
		fail("not idempotent, next decision %+v", again)
	}
	if (again.Synced == nil) != (d.Synced == nil) || len(again.Synced) != len(d.Synced) {
		fail("ancestor changed on the next sync: %+v", again.Synced)
	}
	for k, v := range d.Synced {
		if w, ok := again.Synced[k]; !ok || !DefaultEqual(v, w) {
			fail("ancestor of %s changed on the next sync: %#v", k, again.Synced)
		}
	}

	// Determinism: the mapping's field order does not matter.
	rev := m
	rev.Fields = slices.Clone(m.Fields)
	slices.Reverse(rev.Fields)
	if d2 := Decide(rev, r); !reflect.DeepEqual(d, d2) {
		fail("field order changed the decision: %+v", d2)
	}
}

// TestProperties checks the properties on many pseudo-random scenarios; the
// seed is fixed so that a failure reproduces.
func TestProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	n := 50000
	if testing.Short() {
		n = 2000
	}
	for range n {
		data := make([]byte, 48)
		for j := range data {
			data[j] = byte(rng.UintN(256))
		}
		m, r := scenario(data)
		checkProperties(t, m, r)
	}
}

// FuzzDecide checks the properties on fuzzer-chosen scenarios.
func FuzzDecide(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{2, 3, 3, 2, 0, 1, 1, 2, 2, 1, 3, 4, 5, 1, 0, 1, 2, 9, 9, 1, 0})
	f.Add([]byte{0, 1, 3, 2, 3, 2, 1, 1, 14, 0, 1, 2, 13, 1, 0, 5, 6, 7, 1, 1})
	f.Fuzz(func(t *testing.T, data []byte) {
		m, r := scenario(data)
		checkProperties(t, m, r)
	})
}
