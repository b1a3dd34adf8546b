package airtablefake

import (
	"maps"
	"slices"
	"time"
)

// record is a stored record. Empty cells are absent from values, the way
// Airtable omits them from responses.
type record struct {
	id                string
	created, modified time.Time
	values            map[string]any       // by field ID
	touched           map[string]time.Time // when each field last changed, by field ID
}

// stamp returns the time of a change: the Now clock to the millisecond,
// Airtable's precision, but always at least a millisecond after the previous
// change, so that every change has its own modification time and an
// incremental sync by modification time never sees two changes as one.
func (s *Server) stamp() time.Time {
	t := s.opts.Now().UTC().Truncate(time.Millisecond)
	if !t.After(s.lastStamp) {
		t = s.lastStamp.Add(time.Millisecond)
	}
	s.lastStamp = t
	return t
}

// change is a validated write to one record. A batch is validated into
// changes before any is applied, so that one bad record fails the whole
// request and changes nothing, as in Airtable.
type change struct {
	rec     *record        // nil creates a record
	values  map[string]any // by field ID; nil clears the cell
	replace bool           // PUT: clear the cells values does not mention
	result  *record
}

// apply carries out a change. A write that leaves every cell as it was is
// no change and keeps the modification time, as in Airtable.
func (s *Server) apply(t *table, c *change) *record {
	s.addChoices(t, c.values)
	if c.rec == nil {
		now := s.stamp()
		r := &record{id: s.newID("rec"), created: now, modified: now, values: map[string]any{}, touched: map[string]time.Time{}}
		for id, v := range c.values {
			if v != nil {
				r.values[id], r.touched[id] = v, now
			}
		}
		t.records = append(t.records, r)
		t.byID[r.id] = r
		c.result = r
		return r
	}
	next := map[string]any{}
	if !c.replace {
		next = maps.Clone(c.rec.values)
	}
	for id, v := range c.values {
		if v == nil {
			delete(next, id)
		} else {
			next[id] = v
		}
	}
	s.replaceValues(c.rec, next)
	c.result = c.rec
	return c.rec
}

// replaceValues stores new cell values and stamps the fields that changed.
func (s *Server) replaceValues(r *record, next map[string]any) {
	var changed []string
	for id, v := range next {
		if !sameValue(r.values[id], v) {
			changed = append(changed, id)
		}
	}
	for id := range r.values {
		if _, ok := next[id]; !ok {
			changed = append(changed, id)
		}
	}
	if len(changed) == 0 {
		return
	}
	now := s.stamp()
	r.values, r.modified = next, now
	for _, id := range changed {
		r.touched[id] = now
	}
}

// addChoices adds the select options a typecast write introduced.
func (s *Server) addChoices(t *table, values map[string]any) {
	for _, f := range t.fields { // in field order, so choice IDs are reproducible
		var names []string
		switch v := values[f.id].(type) {
		case string:
			names = []string{v}
		case []string:
			names = v
		}
		for _, n := range names {
			if f.isSelect() && !f.hasChoice(n) {
				f.choices = append(f.choices, choice{s.newID("sel"), n})
			}
		}
	}
}

// remove deletes a record and, as Airtable does, takes it out of every link
// cell that pointed at it, which is a change to those records.
func (s *Server) remove(t *table, r *record) {
	delete(t.byID, r.id)
	t.records = slices.DeleteFunc(t.records, func(x *record) bool { return x == r })
	for _, other := range t.base.tables {
		for _, f := range other.fields {
			if f.linked != t {
				continue
			}
			for _, o := range other.records {
				links, _ := o.values[f.id].([]string)
				if !slices.Contains(links, r.id) {
					continue
				}
				next := maps.Clone(o.values)
				if kept := slices.DeleteFunc(slices.Clone(links), func(id string) bool { return id == r.id }); len(kept) > 0 {
					next[f.id] = kept
				} else {
					delete(next, f.id)
				}
				s.replaceValues(o, next)
			}
		}
	}
}

// lastModified is LAST_MODIFIED_TIME() with field arguments: the latest
// change to any of those fields, or the creation if none ever changed.
func (r *record) lastModified(fields []*field) time.Time {
	t := r.created
	for _, f := range fields {
		if at, ok := r.touched[f.id]; ok && at.After(t) {
			t = at
		}
	}
	return t
}
