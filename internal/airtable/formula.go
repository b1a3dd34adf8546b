package airtable

import (
	"strings"
	"time"
)

// dateTimeLayout is how Airtable writes instants: UTC with milliseconds.
const dateTimeLayout = "2006-01-02T15:04:05.000Z"

// FieldRef references a field by name in a formula: {Name}. A closing
// brace in the name is escaped as \}, as other Airtable clients do; quotes
// need no escaping inside braces. Formulas cannot reference fields by ID,
// so a renamed field breaks the formulas that name it.
func FieldRef(name string) string {
	return "{" + strings.ReplaceAll(name, "}", `\}`) + "}"
}

// Quote makes s a formula string literal, so that user data cannot change
// the formula around it: it is single-quoted with backslashes and single
// quotes escaped.
func Quote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `'`, `\'`)
	return "'" + r.Replace(s) + "'"
}

// ModifiedAfter is a formula that keeps the records whose date-time field
// (typically a lastModifiedTime field) is after t, compared to the
// millisecond, which is the precision Airtable keeps.
func ModifiedAfter(field string, t time.Time) string {
	return "IS_AFTER(" + FieldRef(field) + ", DATETIME_PARSE(" + Quote(formatDateTime(t)) + "))"
}

// formatDateTime writes t as Airtable does, in UTC with milliseconds.
func formatDateTime(t time.Time) string {
	return t.UTC().Format(dateTimeLayout)
}
