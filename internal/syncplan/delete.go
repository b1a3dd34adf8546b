package syncplan

import "maps"

// deleted handles a linked record that only the survivor side still has.
//
// An edit on the survivor since the last sync always beats the deletion,
// whatever Deletes says, so that no edit is silently lost: the record is
// re-created on the other side. Without an edit the deletion is propagated
// if Deletes allows it. If it does not, the survivor is left alone and the
// link is kept as a tombstone: dropping it would make the survivor look
// like a record never synced, to be created anew the next time it is
// listed, whereas a kept ancestor makes every later visit a no-op until a
// real edit re-creates the record.
func (p *plan) deleted(m Mapping, r Record, survivor string) {
	src, allow, propagate, op := r.Airtable, Direction.toPostgres, m.Deletes.fromPostgres(), &p.d.Airtable
	if survivor == WinnerPostgres {
		src, allow, propagate, op = r.Postgres, Direction.toAirtable, m.Deletes.fromAirtable(), &p.d.Postgres
	}
	// Only fields the survivor may win count as edits: a change to a field
	// the deleted side owns would never have been synced anyway.
	edited := make(map[string]bool)
	for _, f := range m.Fields {
		if allow(f.Direction) && !f.equal(src.value(f.Name), r.ancestor(f.Name)) {
			edited[f.Name] = true
		}
	}
	switch {
	case len(edited) > 0:
		p.create(m, r, survivor, edited)
	case propagate:
		*op = OpDelete
	default:
		p.d.Synced = maps.Clone(r.Link.Synced)
		if p.d.Synced == nil {
			p.d.Synced = make(map[string]any)
		}
	}
}
