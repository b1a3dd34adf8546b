package main

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
)

// maxExamples bounds the mismatches a check lists.
const maxExamples = 5

// check is one correctness verdict.
type check struct {
	Name     string   `json:"name"`
	OK       bool     `json:"ok"`
	Detail   string   `json:"detail"`
	Examples []string `json:"examples,omitempty"`
	// Bar says the check is one of the bars (exit 1 on failure);
	// the others are reported only.
	Bar bool `json:"bar"`
}

// compareSides checks every key of both sides against the model.
func compareSides(name string, m *model, at, pg map[string]values) check {
	c := check{Name: name, Bar: true}
	cells, bad := 0, 0
	note := func(format string, args ...any) {
		bad++
		if len(c.Examples) < maxExamples {
			c.Examples = append(c.Examples, fmt.Sprintf(format, args...))
		}
	}
	for _, k := range m.keys() {
		r := m.recs[k]
		for _, s := range []struct {
			name  string
			want  *sideState
			state map[string]values
		}{{sideAirtable, r.at, at}, {sidePostgres, r.pg, pg}} {
			got, ok := s.state[k]
			switch {
			case s.want == nil && ok:
				note("%s %s: exists, want none", s.name, k)
				continue
			case s.want == nil:
				continue
			case !ok:
				note("%s %s: missing", s.name, k)
				continue
			}
			for _, f := range fields {
				cells++
				if w, g := s.want.vals[f.PG], got[f.PG]; !reflect.DeepEqual(w, g) {
					note("%s %s.%s = %v, want %v", s.name, k, f.PG, g, w)
				}
			}
		}
	}
	for _, s := range []struct {
		name  string
		state map[string]values
	}{{sideAirtable, at}, {sidePostgres, pg}} {
		for k := range s.state {
			if _, ok := m.recs[k]; !ok {
				note("%s %s: unexpected record", s.name, k)
			}
		}
	}
	c.OK = bad == 0
	c.Detail = fmt.Sprintf("%d keys, %d cells compared on %d Airtable records and %d Postgres rows: %d wrong",
		len(m.recs), cells, len(at), len(pg), bad)
	return c
}

// compareAudit checks a run's audit entries against the changes the model
// calls for, as multisets: one entry per changed field, nothing more.
func compareAudit(name, runID string, want []change, entries []auditEntry, bar bool) check {
	c := check{Name: name, Bar: bar}
	var got []change
	for _, e := range entries {
		if e.RunID != runID {
			continue
		}
		f, _ := fieldByPG(e.Field)
		got = append(got, change{
			Key: e.Key, Field: e.Field, WrittenTo: e.WrittenTo, Action: e.Action,
			Old: rawCanon(f.typ, e.OldValue), New: rawCanon(f.typ, e.NewValue), Conflict: e.Conflict, Loser: rawCanon(f.typ, e.LosingValue),
		})
	}
	count := map[string]int{}
	for _, w := range want {
		count[w.id()]++
	}
	for _, g := range got {
		count[g.id()]--
	}
	var missing, extra []string
	for id, n := range count {
		for ; n > 0; n-- {
			missing = append(missing, id)
		}
		for ; n < 0; n++ {
			extra = append(extra, id)
		}
	}
	slices.Sort(missing)
	slices.Sort(extra)
	for _, id := range missing[:min(len(missing), maxExamples)] {
		c.Examples = append(c.Examples, "missing: "+id)
	}
	for _, id := range extra[:min(len(extra), maxExamples)] {
		c.Examples = append(c.Examples, "unexpected: "+id)
	}
	conflicts := 0
	for _, w := range want {
		if w.Conflict {
			conflicts++
		}
	}
	c.OK = len(missing) == 0 && len(extra) == 0
	c.Detail = fmt.Sprintf("%d entries, %d expected (%d conflicts with the losing value); %d missing, %d unexpected",
		len(got), len(want), conflicts, len(missing), len(extra))
	return c
}

// rawCanon decodes an audit value in canon form.
func rawCanon(typ string, raw json.RawMessage) any {
	if len(raw) == 0 {
		return nil
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return string(raw)
	}
	return canon(typ, v)
}
