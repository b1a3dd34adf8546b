package airtablefake

import "time"

// Field types, named as Airtable names them in its metadata API.
const (
	// TypeSingleLineText holds a string.
	TypeSingleLineText = "singleLineText"
	// TypeMultilineText holds a string that may contain newlines.
	TypeMultilineText = "multilineText"
	// TypeEmail holds a string; Airtable does not check that it is an address.
	TypeEmail = "email"
	// TypeURL holds a string; Airtable does not check that it is a URL.
	TypeURL = "url"
	// TypeNumber holds a number rounded to the field's Precision.
	TypeNumber = "number"
	// TypeCheckbox holds true, or nothing: Airtable never returns false.
	TypeCheckbox = "checkbox"
	// TypeDate holds a day as "2024-01-31".
	TypeDate = "date"
	// TypeDateTime holds an instant, returned as "2024-01-31T12:00:00.000Z".
	TypeDateTime = "dateTime"
	// TypeSingleSelect holds one of the field's choices.
	TypeSingleSelect = "singleSelect"
	// TypeMultipleSelects holds a list of the field's choices.
	TypeMultipleSelects = "multipleSelects"
	// TypeMultipleRecordLinks holds IDs of records in the LinkedTable.
	TypeMultipleRecordLinks = "multipleRecordLinks"
	// TypeLastModifiedTime is computed: when any other field of the record
	// last changed (the record's creation until then). Writing it is a 422.
	TypeLastModifiedTime = "lastModifiedTime"
	// TypeCreatedTime is computed: when the record was created.
	TypeCreatedTime = "createdTime"
)

// TableSpec describes a table to create; the first field is the primary one.
type TableSpec struct {
	// Name is the table's name, unique within its base.
	Name string
	// Fields are the table's fields, in order.
	Fields []FieldSpec
}

// FieldSpec describes one field of a TableSpec.
type FieldSpec struct {
	// Name is the field's name, unique within its table.
	Name string
	// Type is one of the Type constants.
	Type string
	// Choices are the options of a singleSelect or multipleSelects field.
	Choices []string
	// LinkedTable is the name or ID of the table, in the same base, that a
	// multipleRecordLinks field links to; it may be the table itself.
	LinkedTable string
	// Precision is the number of decimal places of a number field, 0 to 8.
	Precision int
}

// Record is a snapshot of one record, as the API would return it.
type Record struct {
	// ID is the record's "rec…" ID.
	ID string
	// CreatedTime is when the record was created.
	CreatedTime time.Time
	// LastModified is what LAST_MODIFIED_TIME() returns: the last change to
	// any field, or the creation.
	LastModified time.Time
	// Fields holds the non-empty cells by field name, in their JSON form
	// (string, float64, true, []string), computed fields included.
	Fields map[string]any
}
