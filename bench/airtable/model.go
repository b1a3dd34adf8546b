package main

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"time"
)

// The value types of the bench's fields, as far as comparing them goes.
const (
	typeText     = "text"
	typeSelect   = "select"
	typeNumber   = "number"
	typeCheckbox = "checkbox"
)

// The field directions of the mapping.
const (
	dirBoth = "both"
	dirPull = "pull" // Airtable → Postgres only
	dirPush = "push" // Postgres → Airtable only
)

// The sides, as the audit log names them.
const (
	sideAirtable = "airtable"
	sidePostgres = "postgres"
)

// field is one mapped field pair.
type field struct {
	AT, PG, typ, dir string
}

// fields is the mapping under test: every value type the issue names and
// every direction.
var fields = []field{
	{"Name", "name", typeText, dirBoth},
	{"Plan", "plan", typeSelect, dirBoth},
	{"Seats", "seats", typeNumber, dirBoth},
	{"Active", "active", typeCheckbox, dirPull},
	{"Region", "region", typeText, dirPush},
}

// plans are the Plan field's choices.
var plans = []string{"starter", "pro", "enterprise"}

// fieldByPG finds a field by its Postgres column.
func fieldByPG(col string) (field, bool) {
	i := slices.IndexFunc(fields, func(f field) bool { return f.PG == col })
	if i < 0 {
		return field{}, false
	}
	return fields[i], true
}

// toPostgres and toAirtable say which way a field may flow.
func (f field) toPostgres() bool { return f.dir != dirPush }
func (f field) toAirtable() bool { return f.dir != dirPull }

// canon is a value in the one form the model compares: a non-empty
// string, a float64, true, or nil. It mirrors what Airtable can store: an
// empty text is no text and an unticked checkbox is an empty cell.
func canon(typ string, v any) any {
	switch x := v.(type) {
	case nil:
		return nil
	case *string:
		if x == nil {
			return nil
		}
		return canon(typ, *x)
	case *int32:
		if x == nil {
			return nil
		}
		return float64(*x)
	case string:
		if x == "" {
			return nil
		}
		if typ == typeNumber {
			if f, err := strconv.ParseFloat(x, 64); err == nil {
				return f
			}
		}
		return x
	case bool:
		if !x {
			return nil
		}
		return true
	case int:
		return float64(x)
	case int32:
		return float64(x)
	case int64:
		return float64(x)
	case float64:
		return x
	case json.Number:
		f, err := x.Float64()
		if err != nil {
			return string(x)
		}
		return f
	}
	return fmt.Sprint(v)
}

// values are one side's cells by Postgres column, in canon form.
type values map[string]any

// sideState is a record as one side holds it; nil when the side has none.
type sideState struct {
	vals values
	// mod is Airtable's last-modified time or Postgres's updated_at: only
	// latest_wins conflicts read it.
	mod time.Time
}

// modelRec is one key as both sides and the last sync see it.
type modelRec struct {
	key    string
	at, pg *sideState
	// link is the values both sides last agreed on; nil before the first
	// sync of the key.
	link values
}

// change is one audit entry the policy calls for.
type change struct {
	Key, Field, WrittenTo, Action string
	Old, New                      any
	Conflict                      bool
	Loser                         any
}

// id identifies a change with all its content, for multiset comparison.
func (c change) id() string {
	return fmt.Sprintf("%s|%s|to=%s|%s|old=%v|new=%v|conflict=%v|loser=%v",
		c.Key, c.Field, c.WrittenTo, c.Action, c.Old, c.New, c.Conflict, c.Loser)
}

// model is the bench's own reading of the sync policy (three-way merge
// against the last agreed values, directions, latest_wins), written from
// the README and the syncplan package documentation rather than by calling
// syncplan, so that the product is checked against an independent answer.
type model struct {
	recs map[string]*modelRec
}

func newModel() *model { return &model{recs: map[string]*modelRec{}} }

// rec returns the key's record, adding it.
func (m *model) rec(key string) *modelRec {
	r := m.recs[key]
	if r == nil {
		r = &modelRec{key: key}
		m.recs[key] = r
	}
	return r
}

// keys are the model's keys, sorted.
func (m *model) keys() []string {
	out := make([]string, 0, len(m.recs))
	for k := range m.recs {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// sync applies one sync under latest_wins to every record and returns the
// audit entries it calls for. Deletions are not modelled: the bench makes
// none.
func (m *model) sync() []change {
	var out []change
	for _, k := range m.keys() {
		r := m.recs[k]
		switch {
		case r.at != nil && r.pg != nil:
			out = append(out, r.merge()...)
		case r.at != nil && r.link == nil:
			out = append(out, r.create(sideAirtable)...)
		case r.pg != nil && r.link == nil:
			out = append(out, r.create(sidePostgres)...)
		}
	}
	return out
}

// merge is the field-by-field three-way merge of a record on both sides.
func (r *modelRec) merge() []change {
	var out []change
	link := values{}
	for _, f := range fields {
		var anc any
		if r.link != nil {
			anc = r.link[f.PG]
		}
		av, pv := r.at.vals[f.PG], r.pg.vals[f.PG]
		atCh, pgCh := !reflect.DeepEqual(av, anc), !reflect.DeepEqual(pv, anc)
		switch {
		case atCh && pgCh && reflect.DeepEqual(av, pv):
			link[f.PG] = av
		case atCh && pgCh:
			w := r.winner(f)
			win, lose := av, pv
			if w == sidePostgres {
				win, lose = pv, av
			}
			out = append(out, r.write(w, f, anc, win, true, lose, "update"))
			link[f.PG] = win
		case atCh && f.toPostgres():
			out = append(out, r.write(sideAirtable, f, anc, av, false, nil, "update"))
			link[f.PG] = av
		case pgCh && f.toAirtable():
			out = append(out, r.write(sidePostgres, f, anc, pv, false, nil, "update"))
			link[f.PG] = pv
		default:
			// Unchanged, or changed only by the side that may not write
			// the field: the ancestor follows the side that owns it.
			switch f.dir {
			case dirPull:
				link[f.PG] = av
			case dirPush:
				link[f.PG] = pv
			default:
				link[f.PG] = anc
			}
		}
	}
	r.link = link
	return out
}

// winner resolves a conflict: direction first, then the later side, a tie
// going to Airtable.
func (r *modelRec) winner(f field) string {
	switch f.dir {
	case dirPull:
		return sideAirtable
	case dirPush:
		return sidePostgres
	}
	if r.pg.mod.After(r.at.mod) {
		return sidePostgres
	}
	return sideAirtable
}

// write copies the winner's value to the other side and returns its audit
// entry.
func (r *modelRec) write(winner string, f field, old, v any, conflict bool, loser any, action string) change {
	to := sidePostgres
	target := r.pg
	if winner == sidePostgres {
		to, target = sideAirtable, r.at
	}
	target.vals[f.PG] = v
	return change{Key: r.key, Field: f.PG, WrittenTo: to, Action: action, Old: old, New: v, Conflict: conflict, Loser: loser}
}

// create makes a never-synced record on the side that lacks it, with the
// fields that may flow there; empty cells are not written (an unwritten
// Postgres column takes its default, which for active is false, i.e. nil).
func (r *modelRec) create(from string) []change {
	src := r.at
	allow := field.toPostgres
	if from == sidePostgres {
		src, allow = r.pg, field.toAirtable
	}
	dst := &sideState{vals: values{}}
	if from == sideAirtable {
		r.pg = dst
	} else {
		r.at = dst
	}
	var out []change
	r.link = values{}
	for _, f := range fields {
		if !allow(f) {
			dst.vals[f.PG] = nil
			r.link[f.PG] = nil
			continue
		}
		v := src.vals[f.PG]
		r.link[f.PG] = v
		dst.vals[f.PG] = v
		if v != nil {
			out = append(out, r.write(from, f, nil, v, false, nil, "create"))
		}
	}
	return out
}
