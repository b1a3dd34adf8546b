package airtablefake

import (
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// planValues validates a record's "fields" object, keyed by field name or
// ID, into stored values by field ID (nil clears a cell).
func (s *Server) planValues(t *table, fields map[string]any, typecast bool) (map[string]any, *apiError) {
	names := slices.Sorted(maps.Keys(fields)) // so that the first error is reproducible
	out := make(map[string]any, len(fields))
	for _, name := range names {
		f := t.field(name)
		if f == nil {
			return nil, unprocessable(errUnknownField, "Unknown field name: %q", name)
		}
		v, err := convert(f, fields[name], typecast)
		if err != nil {
			return nil, err
		}
		out[f.id] = v
	}
	return out, nil
}

// convert checks a JSON cell value against its field and returns the stored
// form, nil for an empty cell. With typecast, Airtable converts strings (and
// here also numbers and booleans) to the field's type on a best-effort basis
// and adds unknown select options; without it the value must have the right
// JSON type already.
func convert(f *field, raw any, typecast bool) (any, *apiError) {
	if f.computed() {
		return nil, unprocessable(errInvalidValue, "Field %q cannot accept a value because the field is computed", f.name)
	}
	if raw == nil {
		return nil, nil
	}
	bad := unprocessable(errInvalidValue, "Field %q cannot accept the provided value", f.name)
	switch f.typ {
	case TypeSingleLineText, TypeMultilineText, TypeEmail, TypeURL:
		s, ok := text(raw, typecast)
		if !ok {
			return nil, bad
		}
		return nonEmpty(s), nil
	case TypeNumber:
		n, ok := number(raw, typecast)
		if !ok {
			return nil, bad
		}
		if n == nil {
			return nil, nil
		}
		p := math.Pow10(f.precision)
		return math.Round(*n*p) / p, nil
	case TypeCheckbox:
		b, ok := checkbox(raw, typecast)
		if !ok {
			return nil, bad
		}
		if !b {
			return nil, nil
		}
		return true, nil
	case TypeDate:
		s, ok := raw.(string)
		d, okd := parseDate(s)
		if !ok || !okd {
			return nil, bad
		}
		return d, nil
	case TypeDateTime:
		s, ok := raw.(string)
		t, okt := parseDateTime(s)
		if !ok || !okt {
			return nil, bad
		}
		return t, nil
	case TypeSingleSelect:
		s, ok := text(raw, typecast)
		if !ok {
			return nil, bad
		}
		if s == "" {
			return nil, nil
		}
		return s, checkChoices(f, []string{s}, typecast)
	case TypeMultipleSelects:
		list, ok := stringList(raw, typecast)
		if !ok {
			return nil, bad
		}
		if len(list) == 0 {
			return nil, nil
		}
		return list, checkChoices(f, list, typecast)
	case TypeMultipleRecordLinks:
		return links(f, raw, typecast)
	}
	return nil, bad
}

func nonEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func text(raw any, typecast bool) (string, bool) {
	switch v := raw.(type) {
	case string:
		return v, true
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), typecast
	case bool:
		return strconv.FormatBool(v), typecast
	}
	return "", false
}

// number returns nil for an empty string that typecast turns into nothing.
func number(raw any, typecast bool) (*float64, bool) {
	switch v := raw.(type) {
	case float64:
		return &v, true
	case string:
		if !typecast {
			return nil, false
		}
		s := strings.ReplaceAll(strings.TrimSpace(v), ",", "")
		if s == "" {
			return nil, true
		}
		n, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsInf(n, 0) || math.IsNaN(n) {
			return nil, false
		}
		return &n, true
	}
	return nil, false
}

func checkbox(raw any, typecast bool) (bool, bool) {
	switch v := raw.(type) {
	case bool:
		return v, true
	case string:
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "true", "checked", "yes", "1":
			return true, typecast
		case "false", "unchecked", "no", "0", "":
			return false, typecast
		}
	case float64:
		return v != 0, typecast
	}
	return false, false
}

// stringList reads a multipleSelects value; typecast also splits a
// comma-separated string. Repeats are dropped, as a cell holds each option
// once.
func stringList(raw any, typecast bool) ([]string, bool) {
	var items []string
	switch v := raw.(type) {
	case []any:
		for _, item := range v {
			s, ok := text(item, typecast)
			if !ok {
				return nil, false
			}
			items = append(items, s)
		}
	case string:
		if !typecast {
			return nil, false
		}
		for _, s := range strings.Split(v, ",") {
			items = append(items, strings.TrimSpace(s))
		}
	default:
		return nil, false
	}
	var out []string
	for _, s := range items {
		if s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out, true
}

func checkChoices(f *field, names []string, typecast bool) *apiError {
	for _, n := range names {
		if !typecast && !f.hasChoice(n) {
			// Airtable's message really does double the quotes.
			return unprocessable(errInvalidChoice, "Insufficient permissions to create new select option \"\"%s\"\"", n)
		}
	}
	return nil
}

// links checks that every linked record exists. Airtable's typecast would
// also look records up by their primary field value; the fake does not.
func links(f *field, raw any, typecast bool) (any, *apiError) {
	if s, ok := raw.(string); ok && typecast {
		raw = []any{s}
	}
	list, ok := raw.([]any)
	if !ok {
		return nil, unprocessable(errInvalidValue, "Field %q cannot accept the provided value", f.name)
	}
	var ids []string
	for _, item := range list {
		id, ok := item.(string)
		if !ok {
			return nil, unprocessable(errInvalidValue, "Field %q cannot accept the provided value", f.name)
		}
		if f.linked.byID[id] == nil {
			return nil, unprocessable(errRowDoesNotExist, "Record ID %s does not exist", id)
		}
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	return ids, nil
}

// parseDate reads a date cell, "2024-01-31"; a full timestamp is accepted
// and cut to its UTC day.
func parseDate(s string) (string, bool) {
	if _, err := time.Parse(time.DateOnly, s); err == nil {
		return s, true
	}
	t, ok := parseDateTime(s)
	if !ok {
		return "", false
	}
	return t.Format(time.DateOnly), true
}

// dateTimeLayouts are the ISO 8601 forms accepted for a dateTime; a time
// without a zone is taken as UTC, the fake's only time zone.
var dateTimeLayouts = []string{
	time.RFC3339, // also takes fractional seconds when parsing
	"2006-01-02T15:04Z07:00",
	"2006-01-02T15:04:05",
	"2006-01-02T15:04",
	"2006-01-02 15:04:05",
	"2006-01-02 15:04",
	time.DateOnly,
}

// parseDateTime reads an ISO 8601 time, to Airtable's millisecond precision.
func parseDateTime(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	for _, layout := range dateTimeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC().Truncate(time.Millisecond), true
		}
	}
	return time.Time{}, false
}

// formatTime is Airtable's format for times: UTC with milliseconds.
func formatTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// sameValue compares stored values.
func sameValue(a, b any) bool {
	switch a := a.(type) {
	case []string:
		b, ok := b.([]string)
		return ok && slices.Equal(a, b)
	case time.Time:
		b, ok := b.(time.Time)
		return ok && a.Equal(b)
	}
	return a == b
}
