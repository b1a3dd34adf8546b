package syncplan

// create copies the record from the side from, which has it, to the other
// side, with every field that may flow that way and has a value: an empty
// cell and a NULL column need no write, and leaving them out lets column
// defaults apply. Fields in edited (a re-creation that overrides a
// deletion) are written even when empty, because the edit may have been to
// clear them, and are audited as conflicts that the deleted side lost.
func (p *plan) create(m Mapping, r Record, from string, edited map[string]bool) {
	src, allow := r.Airtable, Direction.toPostgres
	if from == WinnerPostgres {
		src, allow = r.Postgres, Direction.toAirtable
	}
	if !m.hasFields(allow) {
		// The other side receives no field from this one: creating an
		// empty record there would only make noise.
		return
	}
	fields := make(map[string]any)
	if from == WinnerAirtable {
		p.d.Postgres, p.d.PostgresFields = OpCreate, fields
	} else {
		p.d.Airtable, p.d.AirtableFields = OpCreate, fields
	}
	p.d.Synced = make(map[string]any, len(m.Fields))
	for _, f := range m.Fields {
		if !f.Direction.valid() {
			continue
		}
		if !allow(f.Direction) {
			// The new record has the field empty, and the ancestor follows
			// the new record, which owns the field.
			p.d.Synced[f.Name] = nil
			continue
		}
		v := src.value(f.Name)
		p.d.Synced[f.Name] = v
		if !isEmpty(v) || edited[f.Name] {
			p.write(from, f.Name, r.ancestor(f.Name), v, edited[f.Name], nil)
		}
	}
}
