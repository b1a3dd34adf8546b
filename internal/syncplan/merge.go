package syncplan

// merge reconciles a record present on both sides, field by field, against
// the ancestor.
func (p *plan) merge(m Mapping, r Record) {
	p.d.Synced = make(map[string]any, len(m.Fields))
	for _, f := range m.Fields {
		if f.Direction.valid() {
			p.mergeField(m, f, r)
		}
	}
}

// mergeField is the three-way merge of one field.
func (p *plan) mergeField(m Mapping, f Field, r Record) {
	anc := r.ancestor(f.Name)
	av, pv := r.Airtable.value(f.Name), r.Postgres.value(f.Name)
	atChanged, pgChanged := !f.equal(av, anc), !f.equal(pv, anc)
	switch {
	case atChanged && pgChanged && f.equal(av, pv):
		// The same edit on both sides: nothing to write, but the ancestor
		// moves so that neither is taken for a new edit next time.
		p.d.Synced[f.Name] = pick(resolve(m, f, r), av, pv)
	case atChanged && pgChanged:
		w := resolve(m, f, r)
		p.write(w, f.Name, anc, pick(w, av, pv), true, pick(other(w), av, pv))
		p.d.Synced[f.Name] = pick(w, av, pv)
	case atChanged && f.Direction.toPostgres():
		p.write(WinnerAirtable, f.Name, anc, av, false, nil)
		p.d.Synced[f.Name] = av
	case pgChanged && f.Direction.toAirtable():
		p.write(WinnerPostgres, f.Name, anc, pv, false, nil)
		p.d.Synced[f.Name] = pv
	default:
		// Nothing changed, or only the side that does not own the field.
		// The ancestor follows the owner: were it to take the other side's
		// value, the owner would look changed next time and overwrite an
		// edit nobody made.
		switch f.Direction {
		case Pull:
			p.d.Synced[f.Name] = av
		case Push:
			p.d.Synced[f.Name] = pv
		default:
			p.d.Synced[f.Name] = anc
		}
	}
}
