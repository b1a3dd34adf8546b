package syncplan

// Decide reconciles one record; see the package documentation for the
// rules. The mapping must be valid (Mapping.Validate). Values in the
// decision are shared with r, not copied.
func Decide(m Mapping, r Record) Decision {
	p := newPlan(r.Key)
	at, pg := r.Airtable.Present, r.Postgres.Present
	switch {
	case at && pg:
		p.merge(m, r)
	case at && !r.Link.Known:
		p.create(m, r, WinnerAirtable, nil)
	case pg && !r.Link.Known:
		p.create(m, r, WinnerPostgres, nil)
	case at:
		p.deleted(m, r, WinnerAirtable)
	case pg:
		p.deleted(m, r, WinnerPostgres)
	}
	// Otherwise the record is on neither side: nothing to write and no
	// link to keep.
	return p.decision()
}
