package syncplan

import (
	"maps"
	"reflect"
	"testing"
	"time"
)

// t0 is the base time of the test records.
var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// at returns t0 plus s seconds.
func at(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }

// present returns a side that has the record with the given values.
func present(values map[string]any, modified time.Time) Side {
	return Side{Present: true, Values: values, Modified: modified}
}

// linked returns a link to a record synced with the given ancestor.
func linked(synced map[string]any) Link {
	return Link{Known: true, Synced: synced}
}

// apply performs d's writes on r the way the workflow would, and returns
// the record as the next sync would fetch it: written sides report the
// record as changed with a later modified time, which is exactly the echo
// Decide must suppress.
func apply(r Record, d Decision, now time.Time) Record {
	out := r
	out.Airtable = applySide(r.Airtable, d.Airtable, d.AirtableFields, now, true)
	out.Postgres = applySide(r.Postgres, d.Postgres, d.PostgresFields, now, false)
	out.Link = Link{Known: d.Synced != nil, Synced: d.Synced}
	return out
}

// applySide applies one side's operation; Airtable leaves empty cells out
// of its responses, so the fake does too.
func applySide(s Side, op Op, fields map[string]any, now time.Time, omitEmpty bool) Side {
	var values map[string]any
	switch op {
	case OpDelete:
		return Side{}
	case OpCreate:
		values = maps.Clone(fields)
	case OpUpdate:
		values = maps.Clone(s.Values)
		if values == nil {
			values = make(map[string]any)
		}
		maps.Copy(values, fields)
	default:
		return s
	}
	if omitEmpty {
		maps.DeleteFunc(values, func(_ string, v any) bool { return v == nil })
	}
	return Side{Present: true, Values: values, Modified: now}
}

// assertNoWrites fails unless d writes nothing.
func assertNoWrites(t *testing.T, d Decision) {
	t.Helper()
	if d.Airtable != OpNone || d.Postgres != OpNone || d.AirtableFields != nil || d.PostgresFields != nil || len(d.Changes) != 0 || d.Conflicts != 0 {
		t.Fatalf("want no writes, got %+v", d)
	}
}

// assertEqual fails unless got and want are deeply equal.
func assertEqual(t *testing.T, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s:\n got  %#v\n want %#v", what, got, want)
	}
}
