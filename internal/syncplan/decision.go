package syncplan

// Op is what to do to a record on one side.
type Op string

// The operations on a record.
const (
	// OpCreate creates the record with the given fields.
	OpCreate Op = "create"
	// OpUpdate writes the given fields to the existing record.
	OpUpdate Op = "update"
	// OpDelete deletes the record.
	OpDelete Op = "delete"
	// OpNone leaves the record alone.
	OpNone Op = "none"
)

// writes reports whether o changes the side; "" counts as OpNone.
func (o Op) writes() bool { return o != OpNone && o != "" }

// The sides, as Change.Winner names them.
const (
	// WinnerAirtable names Airtable as the side whose value was written.
	WinnerAirtable = "airtable"
	// WinnerPostgres names Postgres as the side whose value was written.
	WinnerPostgres = "postgres"
)

// Change is the audit entry for one field written to one side.
type Change struct {
	// Field is the Field.Name written.
	Field string
	// Old is the field's value at the last sync (the ancestor), nil when
	// the record was never synced; New is the value written.
	Old, New any
	// Winner is the side whose value was written, to the other side.
	Winner string
	// Conflict reports that both sides had changed the field, or that an
	// edit on the winning side overrode a deletion on the other.
	Conflict bool
	// Loser is the losing side's value when Conflict, nil for a deletion.
	Loser any
}

// Decision is what to do with one record.
type Decision struct {
	// Key is the Record.Key decided on.
	Key string
	// Airtable is the operation on the Airtable record; AirtableFields
	// holds the values to write: for an update only the fields that
	// changed, for a create every field that may flow to Airtable and has
	// a value (plus fields whose edit forced a re-creation).
	Airtable       Op
	AirtableFields map[string]any
	// Postgres and PostgresFields are the same for the Postgres row.
	Postgres       Op
	PostgresFields map[string]any
	// Changes has one entry per written field, sorted by field.
	Changes []Change
	// Synced is the new common ancestor to store once the writes are
	// applied, with an entry for every field; nil means remove the link.
	Synced map[string]any
	// Conflicts counts the Changes that are conflicts.
	Conflicts int
}
