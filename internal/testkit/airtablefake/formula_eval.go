package airtablefake

import (
	"cmp"
	"strconv"
	"strings"
	"time"
)

// value is a formula value: nil (blank), float64, string, bool, time.Time
// or errValue. Multi-valued cells become their text, "a, b", as Airtable
// shows them to formulas.
type value any

// errValue is Airtable's #ERROR!: it spreads through whatever uses it, and
// a record whose filter ends in one is left out rather than failing the
// request.
type errValue struct{ msg string }

type evalCtx struct {
	rec *record
	now time.Time
}

func (e *litExpr) eval(*evalCtx) value { return e.v }

func (e *fieldExpr) eval(c *evalCtx) value { return fieldValue(e.f, c.rec) }

func (e *lastModExpr) eval(c *evalCtx) value {
	if len(e.fields) == 0 {
		return c.rec.modified
	}
	return c.rec.lastModified(e.fields)
}

func (e *negExpr) eval(c *evalCtx) value {
	n, ok := toNumber(e.x.eval(c))
	if !ok {
		return errValue{"#ERROR!"}
	}
	return -n
}

func (e *callExpr) eval(c *evalCtx) value {
	args := make([]value, len(e.args))
	for i, a := range e.args {
		args[i] = a.eval(c)
	}
	if !e.fn.takesErrors {
		for _, a := range args {
			if _, bad := a.(errValue); bad {
				return a
			}
		}
	}
	return e.fn.call(c, args)
}

func (e *binExpr) eval(c *evalCtx) value {
	l, r := e.l.eval(c), e.r.eval(c)
	if _, bad := l.(errValue); bad {
		return l
	}
	if _, bad := r.(errValue); bad {
		return r
	}
	switch e.op {
	case "&":
		return toText(l) + toText(r)
	case "+", "-", "*", "/":
		return arithmetic(e.op, l, r)
	}
	o, ok := compareValues(l, r)
	switch e.op {
	case "=":
		return ok && o == 0
	case "!=":
		return !ok || o != 0
	case "<":
		return ok && o < 0
	case ">":
		return ok && o > 0
	case "<=":
		return ok && o <= 0
	default: // ">="
		return ok && o >= 0
	}
}

func arithmetic(op string, l, r value) value {
	a, okA := toNumber(l)
	b, okB := toNumber(r)
	if !okA || !okB {
		return errValue{"#ERROR!"}
	}
	switch op {
	case "+":
		return a + b
	case "-":
		return a - b
	case "*":
		return a * b
	}
	if b == 0 {
		return errValue{"#DIV/0!"}
	}
	return a / b
}

// fieldValue is a cell as a formula sees it. A link cell shows the primary
// field values of the records it links to, as in Airtable.
func fieldValue(f *field, r *record) value {
	switch f.typ {
	case TypeLastModifiedTime:
		return r.modified
	case TypeCreatedTime:
		return r.created
	}
	switch v := r.values[f.id].(type) {
	case nil:
		return nil
	case string:
		if f.typ == TypeDate {
			t, _ := time.Parse(time.DateOnly, v)
			return t
		}
		return v
	case []string:
		if f.typ == TypeMultipleRecordLinks {
			names := make([]string, 0, len(v))
			for _, id := range v {
				if linked := f.linked.byID[id]; linked != nil {
					names = append(names, primaryText(f.linked, linked))
				}
			}
			v = names
		}
		return strings.Join(v, ", ")
	default:
		return v
	}
}

// primaryText is a record's primary field as text; a primary field that is
// itself a link shows record IDs rather than recursing.
func primaryText(t *table, r *record) string {
	f := t.fields[0]
	if links, ok := r.values[f.id].([]string); ok {
		return strings.Join(links, ", ")
	}
	return toText(fieldValue(f, r))
}

func truthy(v value) bool {
	switch v := v.(type) {
	case bool:
		return v
	case float64:
		return v != 0
	case string:
		return v != ""
	case time.Time:
		return true
	}
	return false // blank or error
}

func toNumber(v value) (float64, bool) {
	switch v := v.(type) {
	case nil:
		return 0, true
	case float64:
		return v, true
	case bool:
		if v {
			return 1, true
		}
		return 0, true
	case string:
		if strings.TrimSpace(v) == "" {
			return 0, true
		}
		n, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		return n, err == nil
	}
	return 0, false
}

func toText(v value) string {
	switch v := v.(type) {
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case bool:
		if v {
			return "1"
		}
		return "0"
	case time.Time:
		return formatTime(v)
	}
	return ""
}

func toTime(v value) (time.Time, bool) {
	switch v := v.(type) {
	case time.Time:
		return v, true
	case string:
		return parseDateTime(v)
	}
	return time.Time{}, false
}

// compareValues compares two values the way Airtable's comparison
// operators do: a blank is equal to ”, 0 and FALSE(), but neither equal to
// nor before or after a date; against a date the other side is read as a
// date, against a number or a boolean as a number, and otherwise both sides
// compare as text. ok is false when the values cannot be compared.
func compareValues(a, b value) (o int, ok bool) {
	if a == nil && b == nil {
		return 0, true
	}
	_, aTime := a.(time.Time)
	_, bTime := b.(time.Time)
	if aTime || bTime {
		ta, okA := toTime(a)
		tb, okB := toTime(b)
		if !okA || !okB {
			return 0, false
		}
		return ta.Compare(tb), true
	}
	if isNumeric(a) || isNumeric(b) {
		na, okA := toNumber(a)
		nb, okB := toNumber(b)
		if okA && okB {
			return cmp.Compare(na, nb), true
		}
	}
	return strings.Compare(toText(a), toText(b)), true
}

// orderValues is the sort order: blanks first, then as compareValues, with
// values it cannot compare ordered by their text.
func orderValues(a, b value) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return -1
	case b == nil:
		return 1
	}
	if o, ok := compareValues(a, b); ok {
		return o
	}
	return strings.Compare(toText(a), toText(b))
}

func isNumeric(v value) bool {
	switch v.(type) {
	case float64, bool:
		return true
	}
	return false
}
