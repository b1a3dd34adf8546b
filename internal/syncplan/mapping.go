package syncplan

// Direction says which way a field's values may flow.
type Direction string

// The directions a field may flow.
const (
	// Pull writes a field to Postgres only: Airtable owns it.
	Pull Direction = "pull"
	// Push writes a field to Airtable only: Postgres owns it.
	Push Direction = "push"
	// Both writes a field either way, resolving conflicts by policy.
	Both Direction = "both"
)

// valid reports whether d is one of the known directions.
func (d Direction) valid() bool { return d == Pull || d == Push || d == Both }

// toPostgres reports whether Airtable's value may be written to Postgres,
// that is, whether Airtable may win the field.
func (d Direction) toPostgres() bool { return d == Pull || d == Both }

// toAirtable reports whether Postgres's value may be written to Airtable,
// that is, whether Postgres may win the field.
func (d Direction) toAirtable() bool { return d == Push || d == Both }

// Policy resolves a conflict on a field that flows both ways.
type Policy string

// The conflict policies.
const (
	// AirtableWins resolves every conflict in favour of Airtable.
	AirtableWins Policy = "airtable_wins"
	// PostgresWins resolves every conflict in favour of Postgres.
	PostgresWins Policy = "postgres_wins"
	// LatestWins resolves a conflict in favour of the side modified last.
	LatestWins Policy = "latest_wins"
)

// valid reports whether p is one of the known policies.
func (p Policy) valid() bool { return p == AirtableWins || p == PostgresWins || p == LatestWins }

// Deletes says which deletions are propagated to the other side.
type Deletes string

// The delete propagation modes; the zero value means DeletesNone.
const (
	// DeletesNone propagates no deletion.
	DeletesNone Deletes = "none"
	// DeletesAirtableToPostgres deletes the row when the Airtable record is deleted.
	DeletesAirtableToPostgres Deletes = "airtable_to_postgres"
	// DeletesPostgresToAirtable deletes the Airtable record when the row is deleted.
	DeletesPostgresToAirtable Deletes = "postgres_to_airtable"
	// DeletesBoth propagates deletions both ways.
	DeletesBoth Deletes = "both"
)

// valid reports whether d is one of the known modes; "" is DeletesNone,
// because not deleting is the safe default.
func (d Deletes) valid() bool {
	switch d {
	case "", DeletesNone, DeletesAirtableToPostgres, DeletesPostgresToAirtable, DeletesBoth:
		return true
	}
	return false
}

// fromAirtable reports whether an Airtable deletion deletes the Postgres row.
func (d Deletes) fromAirtable() bool { return d == DeletesAirtableToPostgres || d == DeletesBoth }

// fromPostgres reports whether a Postgres deletion deletes the Airtable record.
func (d Deletes) fromPostgres() bool { return d == DeletesPostgresToAirtable || d == DeletesBoth }

// Field is one synced field.
type Field struct {
	// Name identifies the field in Side.Values, Link.Synced and the audit
	// log; the Postgres column name is a good choice because it is stable
	// when someone renames the Airtable field.
	Name string
	// Direction is the way the field's values may flow.
	Direction Direction
	// Policy overrides Mapping.Policy for this field; "" uses the mapping's.
	// Only "both" fields consult it: the others have one possible winner.
	Policy Policy
	// Equal compares two values of the field, nil meaning empty; nil uses
	// reflect.DeepEqual after normalising values the way JSON would (see
	// DefaultEqual). Set it for values with a looser notion of equality,
	// such as case-insensitive e-mail addresses.
	Equal func(a, b any) bool
}

// equal compares two values of f with its Equal or the default.
func (f Field) equal(a, b any) bool {
	if f.Equal != nil {
		return f.Equal(a, b)
	}
	return DefaultEqual(a, b)
}

// Mapping describes how one Postgres table syncs with one Airtable table.
type Mapping struct {
	// Fields are the synced fields; others are left alone on both sides.
	Fields []Field
	// Policy resolves conflicts on fields that set none of their own.
	Policy Policy
	// Deletes says which deletions propagate; "" propagates none.
	Deletes Deletes
}

// policy returns the policy that resolves conflicts on f.
func (m Mapping) policy(f Field) Policy {
	if f.Policy != "" {
		return f.Policy
	}
	return m.Policy
}

// hasFields reports whether any field may be written in the direction allow
// selects; a table that receives no field gets no records created in it.
func (m Mapping) hasFields(allow func(Direction) bool) bool {
	for _, f := range m.Fields {
		if allow(f.Direction) {
			return true
		}
	}
	return false
}
