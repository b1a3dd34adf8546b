package db

import (
	"fmt"
	"strings"
)

// The sync matches records by their key as text (the form both sides can
// hold), but a key column compared as text (`id::text = $1`) is an
// expression no index covers, so every lookup by key scanned the whole
// table. Keys are compared in the column's own type instead. A text that
// is not the column's own spelling of a value ("007", "1e3", an upper-case
// UUID, a word) matched no row as text, and must match none now, rather
// than fail the statement on a cast or find a row under another spelling:
// the text is cast only when it is the canonical output of the type, and
// is NULL (which equals nothing) otherwise.

// intRange is the canonical spelling and range of an integer type.
type intRange struct {
	digits   int
	min, max string
}

var intTypes = map[string]intRange{
	"smallint": {5, "-32768", "32767"},
	"integer":  {10, "-2147483648", "2147483647"},
	"bigint":   {19, "-9223372036854775808", "9223372036854775807"},
}

// uuidPattern is how uuid's output spells every value.
const uuidPattern = `^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`

// KeyAsColumnType is the SQL expression that turns text, an SQL expression
// of type text holding a key, into the key column's type, and ok says
// whether the column's type is one it knows: integers, uuid, text and
// varchar. The expression is NULL for a text that is not the type's own
// spelling of a value, and never fails. Nested CASEs keep the order of the
// checks: Postgres does not promise to evaluate AND's operands in order,
// and folds a CASE branch only once its condition is known to hold.
func (t PostgresTable) KeyAsColumnType(text string) (expr string, ok bool) {
	typ := t.Types[t.Key]
	if r, isInt := intTypes[typ]; isInt {
		// Fewer digits than the type's widest value always fit; only
		// the widest are checked against the range, through numeric,
		// which costs: a check of every link (rows gone from Postgres)
		// took twice as long when each went through numeric.
		return fmt.Sprintf(`CASE WHEN (%[1]s) ~ '^(0|-?[1-9][0-9]{0,%[2]d})$' THEN (%[1]s)::%[5]s
			WHEN (%[1]s) ~ '^-?[1-9][0-9]{%[3]d}$' THEN
				CASE WHEN (%[1]s)::numeric BETWEEN %[4]s AND %[6]s THEN (%[1]s)::%[5]s END END`,
			text, r.digits-2, r.digits-1, r.min, typ, r.max), true
	}
	switch typ {
	case "uuid":
		return fmt.Sprintf(`CASE WHEN (%[1]s) ~ '%[2]s' THEN (%[1]s)::uuid END`, text, uuidPattern), true
	case "text", "character varying":
		// varchar compares as text through a relabeling its index
		// (text_ops) still covers.
		return "(" + text + ")", true
	}
	return "", false
}

// KeyEquals is the condition that the key column col (an SQL expression,
// identifiers already quoted) holds the key in text (an SQL expression of
// type text), in the column's own type so that its index is used. For a
// column type KeyAsColumnType does not know it compares as text, as
// before: correct, but with no index.
func (t PostgresTable) KeyEquals(col, text string) string {
	if expr, ok := t.KeyAsColumnType(text); ok {
		return col + " = " + expr
	}
	return col + "::text = " + text
}

// KeyInArray is the condition that the key column col holds one of the
// keys in array (an SQL expression of type text[]), in the column's own
// type so that its index is used; keys that are not the type's spelling of
// a value are dropped, as they match no row.
func (t PostgresTable) KeyInArray(col, array string) string {
	if expr, ok := t.KeyAsColumnType("k"); ok {
		return fmt.Sprintf("%s = ANY (ARRAY(SELECT %s FROM unnest(%s) AS u(k)))", col, strings.TrimSpace(expr), array)
	}
	return fmt.Sprintf("%s::text = ANY (%s)", col, array)
}
