package syncplan

import "time"

// Side is a record as one side currently has it.
type Side struct {
	// Present reports whether the record exists on this side; false after
	// a deletion. The caller loads both sides of every record either side
	// reported, so false never means merely "not in this batch".
	Present bool
	// Values holds the field values by Field.Name, converted to a common
	// representation; a missing entry (an empty Airtable cell is left out
	// of API responses) is nil.
	Values map[string]any
	// Modified is Airtable's last-modified time or Postgres's updated_at;
	// only the latest_wins policy reads it.
	Modified time.Time
}

// value returns the value of the named field, nil when absent.
func (s Side) value(name string) any { return s.Values[name] }

// Link is what the last sync stored about a record.
type Link struct {
	// Known reports whether the record was synced before.
	Known bool
	// Synced holds the field values as of the last sync: the common
	// ancestor of both sides. Only read when Known.
	Synced map[string]any
}

// Record is one record as both sides and the last sync see it.
type Record struct {
	// Key matches the record across sides, e.g. the Postgres primary key.
	Key string
	// Airtable and Postgres are the record as each side has it now.
	Airtable, Postgres Side
	// Link is what the last sync stored about the record.
	Link Link
}

// ancestor returns the field's value at the last sync, nil when the record
// was never synced.
func (r Record) ancestor(name string) any {
	if !r.Link.Known {
		return nil
	}
	return r.Link.Synced[name]
}
