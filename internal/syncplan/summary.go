package syncplan

// Summary counts what a batch of decisions will do.
type Summary struct {
	// The operations on each side, by kind.
	AirtableCreates, AirtableUpdates, AirtableDeletes int
	PostgresCreates, PostgresUpdates, PostgresDeletes int
	// Conflicts counts conflicting fields, not records.
	Conflicts int
	// Unchanged counts records with nothing to write on either side.
	Unchanged int
}

// Summarize counts the operations and conflicts in ds.
func Summarize(ds []Decision) Summary {
	var s Summary
	for _, d := range ds {
		count(d.Airtable, &s.AirtableCreates, &s.AirtableUpdates, &s.AirtableDeletes)
		count(d.Postgres, &s.PostgresCreates, &s.PostgresUpdates, &s.PostgresDeletes)
		s.Conflicts += d.Conflicts
		if !d.Airtable.writes() && !d.Postgres.writes() {
			s.Unchanged++
		}
	}
	return s
}

// count increments the counter for op.
func count(op Op, creates, updates, deletes *int) {
	switch op {
	case OpCreate:
		*creates++
	case OpUpdate:
		*updates++
	case OpDelete:
		*deletes++
	}
}
