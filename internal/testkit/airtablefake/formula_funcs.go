package airtablefake

import (
	"strings"
	"time"
	"unicode/utf8"
)

// function is a formula function; max < 0 means any number of arguments.
type function struct {
	min, max int
	// takesErrors marks functions that see #ERROR! arguments instead of
	// passing them straight on.
	takesErrors bool
	call        func(c *evalCtx, args []value) value
}

var errBadArgs = errValue{"#ERROR!"}

// functions is the supported subset of Airtable's formula functions (plus
// LAST_MODIFIED_TIME, which the parser handles), chosen for what sync
// tools put in filterByFormula.
var functions = map[string]*function{
	"AND": {1, -1, false, func(_ *evalCtx, args []value) value {
		for _, a := range args {
			if !truthy(a) {
				return false
			}
		}
		return true
	}},
	"OR": {1, -1, false, func(_ *evalCtx, args []value) value {
		for _, a := range args {
			if truthy(a) {
				return true
			}
		}
		return false
	}},
	"NOT":   {1, 1, false, func(_ *evalCtx, args []value) value { return !truthy(args[0]) }},
	"IF":    {2, 3, true, ifFunc},
	"BLANK": {0, 0, false, func(*evalCtx, []value) value { return nil }},
	"TRUE":  {0, 0, false, func(*evalCtx, []value) value { return true }},
	"FALSE": {0, 0, false, func(*evalCtx, []value) value { return false }},

	"RECORD_ID":    {0, 0, false, func(c *evalCtx, _ []value) value { return c.rec.id }},
	"CREATED_TIME": {0, 0, false, func(c *evalCtx, _ []value) value { return c.rec.created }},
	"NOW":          {0, 0, false, func(c *evalCtx, _ []value) value { return c.now }},
	"TODAY": {0, 0, false, func(c *evalCtx, _ []value) value {
		return c.now.Truncate(24 * time.Hour)
	}},

	"IS_AFTER":  {2, 2, false, compareTimes(func(a, b time.Time) bool { return a.After(b) })},
	"IS_BEFORE": {2, 2, false, compareTimes(func(a, b time.Time) bool { return a.Before(b) })},
	"IS_SAME":   {2, 3, false, isSame},
	"DATETIME_PARSE": {1, 3, false, func(_ *evalCtx, args []value) value {
		if len(args) > 1 && toText(args[1]) != "" {
			return parseWithFormat(toText(args[0]), toText(args[1]))
		}
		if t, ok := toTime(args[0]); ok {
			return t
		}
		return errBadArgs
	}},
	"DATEADD": {3, 3, false, dateAdd},

	"LOWER": {1, 1, false, func(_ *evalCtx, args []value) value { return strings.ToLower(toText(args[0])) }},
	"UPPER": {1, 1, false, func(_ *evalCtx, args []value) value { return strings.ToUpper(toText(args[0])) }},
	"TRIM":  {1, 1, false, func(_ *evalCtx, args []value) value { return strings.TrimSpace(toText(args[0])) }},
	"LEN": {1, 1, false, func(_ *evalCtx, args []value) value {
		return float64(len([]rune(toText(args[0]))))
	}},
	"CONCATENATE": {1, -1, false, func(_ *evalCtx, args []value) value {
		var b strings.Builder
		for _, a := range args {
			b.WriteString(toText(a))
		}
		return b.String()
	}},
	"FIND": {2, 3, false, find},
}

func ifFunc(_ *evalCtx, args []value) value {
	if _, bad := args[0].(errValue); bad {
		return args[0]
	}
	if truthy(args[0]) {
		return args[1]
	}
	if len(args) == 3 {
		return args[2]
	}
	return nil
}

func compareTimes(pred func(a, b time.Time) bool) func(*evalCtx, []value) value {
	return func(_ *evalCtx, args []value) value {
		a, okA := toTime(args[0])
		b, okB := toTime(args[1])
		if !okA || !okB {
			return errBadArgs
		}
		return pred(a, b)
	}
}

// isSame is IS_SAME(a, b, [unit]): equal when truncated to the unit; without
// a unit, equal to the millisecond.
func isSame(_ *evalCtx, args []value) value {
	a, okA := toTime(args[0])
	b, okB := toTime(args[1])
	if !okA || !okB {
		return errBadArgs
	}
	unit := "milliseconds"
	if len(args) == 3 {
		unit = toText(args[2])
	}
	ta, okA := truncateTo(a, unit)
	tb, okB := truncateTo(b, unit)
	if !okA || !okB {
		return errBadArgs
	}
	return ta.Equal(tb)
}

// unitName maps Airtable's unit spellings to one canonical name.
func unitName(u string) string {
	u = strings.ToLower(strings.TrimSpace(u))
	switch u {
	case "ms":
		return "millisecond"
	case "s":
		return "second"
	case "m":
		return "minute"
	case "h":
		return "hour"
	case "d":
		return "day"
	case "w":
		return "week"
	case "y":
		return "year"
	}
	return strings.TrimSuffix(u, "s")
}

func truncateTo(t time.Time, unit string) (time.Time, bool) {
	t = t.UTC()
	y, mo, d := t.Date()
	switch unitName(unit) {
	case "millisecond":
		return t.Truncate(time.Millisecond), true
	case "second":
		return t.Truncate(time.Second), true
	case "minute":
		return t.Truncate(time.Minute), true
	case "hour":
		return t.Truncate(time.Hour), true
	case "day":
		return time.Date(y, mo, d, 0, 0, 0, 0, time.UTC), true
	case "week":
		return time.Date(y, mo, d-int(t.Weekday()), 0, 0, 0, 0, time.UTC), true
	case "month":
		return time.Date(y, mo, 1, 0, 0, 0, 0, time.UTC), true
	case "quarter":
		return time.Date(y, mo-(mo-1)%3, 1, 0, 0, 0, 0, time.UTC), true
	case "year":
		return time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC), true
	}
	return time.Time{}, false
}

// dateAdd is DATEADD(date, count, unit).
func dateAdd(_ *evalCtx, args []value) value {
	t, ok := toTime(args[0])
	n, okN := toNumber(args[1])
	if !ok || !okN {
		return errBadArgs
	}
	k := int(n)
	switch unitName(toText(args[2])) {
	case "millisecond":
		return t.Add(time.Duration(n * float64(time.Millisecond)))
	case "second":
		return t.Add(time.Duration(n * float64(time.Second)))
	case "minute":
		return t.Add(time.Duration(n * float64(time.Minute)))
	case "hour":
		return t.Add(time.Duration(n * float64(time.Hour)))
	case "day":
		return t.AddDate(0, 0, k)
	case "week":
		return t.AddDate(0, 0, 7*k)
	case "month":
		return t.AddDate(0, k, 0)
	case "quarter":
		return t.AddDate(0, 3*k, 0)
	case "year":
		return t.AddDate(k, 0, 0)
	}
	return errBadArgs
}

// find is FIND(needle, haystack, [start]): the 1-based position, 0 when
// absent.
func find(_ *evalCtx, args []value) value {
	needle, hay := toText(args[0]), []rune(toText(args[1]))
	start := 0
	if len(args) == 3 {
		n, ok := toNumber(args[2])
		if !ok {
			return errBadArgs
		}
		start = max(int(n)-1, 0)
	}
	if start > len(hay) {
		return 0.0
	}
	rest := string(hay[start:])
	i := strings.Index(rest, needle)
	if i < 0 {
		return 0.0
	}
	return float64(start + utf8.RuneCountInString(rest[:i]) + 1)
}

// momentTokens maps the Moment.js tokens DATETIME_PARSE formats use to Go
// layout elements, longest first.
var momentTokens = []struct{ moment, layout string }{
	{"YYYY", "2006"}, {"SSS", "000"}, {"MM", "01"}, {"DD", "02"}, {"HH", "15"},
	{"mm", "04"}, {"ss", "05"}, {"ZZ", "-0700"}, {"Z", "Z07:00"}, {"M", "1"}, {"D", "2"},
}

// parseWithFormat is DATETIME_PARSE with a format, for the numeric
// Moment.js tokens; anything it cannot read is #ERROR!.
func parseWithFormat(s, format string) value {
	var layout strings.Builder
	for i := 0; i < len(format); {
		matched := false
		for _, tok := range momentTokens {
			if strings.HasPrefix(format[i:], tok.moment) {
				layout.WriteString(tok.layout)
				i += len(tok.moment)
				matched = true
				break
			}
		}
		if !matched {
			layout.WriteByte(format[i])
			i++
		}
	}
	t, err := time.Parse(layout.String(), s)
	if err != nil {
		return errBadArgs
	}
	return t.UTC()
}
