package main

import (
	"fmt"
	"math/rand/v2"
	"slices"
)

// dataset says which keys each side starts with. Keys are numbered: Airtable
// holds 0 … atN-1, Postgres holds pgFirst … pgFirst+pgN-1, so the overlap
// is pgFirst … atN-1.
type dataset struct {
	atN, pgN, pgFirst int
}

func newDataset(records, overlap int) dataset {
	return dataset{atN: records, pgN: records, pgFirst: records - overlap}
}

// total is the number of distinct keys.
func (d dataset) total() int { return d.pgFirst + d.pgN }

func (d dataset) overlaps(i int) bool { return i >= d.pgFirst && i < d.atN }

// keyOf is the Email / email of key i.
func keyOf(i int) string { return fmt.Sprintf("c%05d@example.test", i) }

// atSeed is Airtable's initial record i (canon values by column). Some
// Seats cells are empty, which must never overwrite Postgres's value on
// the first sync; some overlapping records have a Region, a push-only
// field Airtable may not win.
func (d dataset) atSeed(i int) values {
	v := values{
		"name":   fmt.Sprintf("Customer %d", i),
		"plan":   plans[i%3],
		"seats":  float64(i%50 + 1),
		"active": nil,
		"region": nil,
	}
	if i%7 == 0 {
		v["seats"] = nil
	}
	if i%2 == 0 {
		v["active"] = true
	}
	if d.overlaps(i) && i%10 == 3 {
		v["region"] = fmt.Sprintf("AT region %d", i)
	}
	return v
}

// pgSeed is Postgres's initial row i. Overlapping rows differ from
// Airtable in some names, plans and seats, so the first sync has real
// conflicts; olderThanAirtable says its updated_at predates Airtable's
// edit, so latest_wins gives those conflicts to Airtable.
func (d dataset) pgSeed(i int) (v values, olderThanAirtable bool) {
	regions := []string{"EU", "US", "APAC"}
	v = values{
		"name":   fmt.Sprintf("Customer %d", i),
		"plan":   plans[i%3],
		"seats":  float64(i%50 + 1),
		"active": nil,
		"region": regions[i%3],
	}
	ov := d.overlaps(i)
	if ov && i%4 == 0 {
		v["name"] = fmt.Sprintf("Customer %d (pg)", i)
	}
	if ov && i%5 == 0 {
		v["plan"] = plans[(i+1)%3]
	}
	if ov && i%6 == 0 {
		v["seats"] = float64(i%50 + 101)
	}
	if i%11 == 0 {
		v["seats"] = nil
	}
	if i%3 == 0 {
		v["active"] = true
	}
	if i%13 == 0 {
		v["region"] = nil
	}
	return v, ov && i%2 == 0
}

// edit is one cell changed on one side between two syncs.
type edit struct {
	key   string
	side  string
	field field
	value any // canon
	// conflict edits come in pairs, one per side, on the same cell.
	conflict bool
	// late edits are made after the Postgres edits, so their Airtable
	// side is the later one.
	late bool
}

// planEdits picks n edits per side, conflicts of them on the same keys and
// fields on both sides (half won by each side under latest_wins), from the
// model's current state. Of each side's other edits, ten change a field
// that side may not write (blocked by direction) and five clear a cell.
func planEdits(m *model, d dataset, n, conflicts int, seed uint64) []edit {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	perm := rng.Perm(d.total())
	solo := n - conflicts
	var out []edit
	next := 0
	take := func() *modelRec {
		r := m.recs[keyOf(perm[next])]
		next++
		return r
	}
	both := []field{fields[0], fields[0], fields[0], fields[1], fields[2]} // Name, Name, Name, Plan, Seats
	for j := range conflicts {
		r := take()
		f := both[j%len(both)]
		late := j%2 == 0
		out = append(out,
			edit{key: r.key, side: sideAirtable, field: f, value: newValue(f, r.at.vals[f.PG], sideAirtable, r.key), conflict: true, late: late},
			edit{key: r.key, side: sidePostgres, field: f, value: newValue(f, r.pg.vals[f.PG], sidePostgres, r.key), conflict: true})
	}
	atFields := []field{fields[0], fields[1], fields[2], fields[3]} // all Airtable may write
	pgFields := []field{fields[0], fields[1], fields[2], fields[4]} // all Postgres may write
	for j := range solo {
		r := take()
		var f field
		var v any
		switch {
		case j < 10:
			f = fields[4] // Region: push-only, Airtable's edit stays there
		case j < 15:
			f, v = fields[0], nil // clear Name
		default:
			f = atFields[j%len(atFields)]
		}
		if j >= 15 || j < 10 {
			v = newValue(f, r.at.vals[f.PG], sideAirtable, r.key)
		}
		out = append(out, edit{key: r.key, side: sideAirtable, field: f, value: v})
	}
	for j := range solo {
		r := take()
		var f field
		var v any
		switch {
		case j < 10:
			f = fields[3] // Active: pull-only, Postgres's edit stays there
		case j < 15:
			f = fields[2] // clear Seats (or set it, when already empty)
		default:
			f = pgFields[j%len(pgFields)]
		}
		v = newValue(f, r.pg.vals[f.PG], sidePostgres, r.key)
		if j >= 10 && j < 15 && r.pg.vals[f.PG] != nil {
			v = nil
		}
		out = append(out, edit{key: r.key, side: sidePostgres, field: f, value: v})
	}
	return out
}

// newValue is a value of f different from cur, and different for each side
// so that paired conflict edits disagree.
func newValue(f field, cur any, side, key string) any {
	switch f.typ {
	case typeSelect:
		i := slices.Index(plans, fmt.Sprint(cur)) // -1 when empty
		step := 1
		if side == sidePostgres {
			step = 2
		}
		return plans[(i+step+len(plans))%len(plans)]
	case typeNumber:
		base := 0.0
		if cur != nil {
			base = cur.(float64)
		}
		if side == sidePostgres {
			return base + 200
		}
		return base + 100
	case typeCheckbox:
		if cur == nil {
			return true
		}
		return nil
	}
	return fmt.Sprintf("%s edited in %s (%s)", f.AT, side, key)
}
