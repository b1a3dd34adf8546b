package airtable

import (
	"fmt"
	"time"
)

// ToAirtable converts a Postgres value, as pgx returns it, to the JSON
// value a field of fieldType takes. nil clears the field, except for a
// checkbox, which becomes false. Values implementing driver.Valuer (pgx's
// pgtype.Numeric, pgtype.Date, …) are converted through their Value.
// Types it does not know pass through unchanged.
//
//   - text types and singleSelect: string (from strings, []byte, UUIDs,
//     numbers, booleans and fmt.Stringers)
//   - number, currency, percent: int64 when integral, else float64 (from
//     Go numbers, json.Number and numeric strings; NaN and ±Inf fail)
//   - checkbox: bool
//   - date: "2006-01-02", the calendar date of a time.Time in its own
//     location, or a string already in that form
//   - dateTime: RFC 3339 in UTC with milliseconds, from a time.Time or an
//     RFC 3339 string
//   - multipleSelects, multipleRecordLinks: []string, from []string or
//     []any of strings
func ToAirtable(fieldType string, v any) (any, error) {
	if !knownType(fieldType) {
		return v, nil
	}
	p, err := plain(v)
	if err != nil {
		return nil, fmt.Errorf("convert %T for %s field: %w", v, fieldType, err)
	}
	out, err := toAirtable(fieldType, p)
	if err != nil {
		return nil, fmt.Errorf("convert %T for %s field: %w", v, fieldType, err)
	}
	return out, nil
}

func toAirtable(fieldType string, v any) (any, error) {
	switch fieldType {
	case TypeSingleLineText, TypeMultilineText, TypeEmail, TypeURL, TypePhoneNumber, TypeSingleSelect:
		return text(v)
	case TypeNumber, TypeCurrency, TypePercent:
		return number(v)
	case TypeCheckbox:
		return checkbox(v)
	case TypeDate:
		d, err := date(v)
		if d == nil || err != nil {
			return nil, err
		}
		return d.Format(time.DateOnly), nil
	case TypeDateTime:
		t, err := dateTime(v)
		if t == nil || err != nil {
			return nil, err
		}
		return formatDateTime(*t), nil
	case TypeMultipleSelects, TypeMultipleRecordLinks:
		l, err := stringList(v)
		if l == nil || err != nil {
			return nil, err
		}
		return l, nil
	}
	return v, nil
}

// FromAirtable converts a cell as Airtable returns it (nil when the cell is
// empty and so absent from Record.Fields) to a Go value for Postgres:
//
//   - text types and singleSelect: string, or nil
//   - number, currency, percent: int64 when integral, else float64, or nil
//   - checkbox: bool, false when absent
//   - date: time.Time at midnight UTC, or nil
//   - dateTime: time.Time in UTC, or nil
//   - multipleSelects, multipleRecordLinks: []string, or nil
//
// Types it does not know pass through unchanged.
func FromAirtable(fieldType string, v any) (any, error) {
	out, err := fromAirtable(fieldType, v)
	if err != nil {
		return nil, fmt.Errorf("read %T from %s field: %w", v, fieldType, err)
	}
	return out, nil
}

func fromAirtable(fieldType string, v any) (any, error) {
	switch fieldType {
	case TypeSingleLineText, TypeMultilineText, TypeEmail, TypeURL, TypePhoneNumber, TypeSingleSelect:
		if _, ok := v.(string); !ok && v != nil {
			return nil, errUnexpected
		}
		return v, nil
	case TypeNumber, TypeCurrency, TypePercent:
		return number(v)
	case TypeCheckbox:
		return checkbox(v)
	case TypeDate:
		d, err := date(v)
		if d == nil || err != nil {
			return nil, err
		}
		return *d, nil
	case TypeDateTime:
		t, err := dateTime(v)
		if t == nil || err != nil {
			return nil, err
		}
		return *t, nil
	case TypeMultipleSelects, TypeMultipleRecordLinks:
		l, err := stringList(v)
		if l == nil || err != nil {
			return nil, err
		}
		return l, nil
	}
	return v, nil
}

func knownType(fieldType string) bool {
	switch fieldType {
	case TypeSingleLineText, TypeMultilineText, TypeEmail, TypeURL, TypePhoneNumber, TypeSingleSelect,
		TypeNumber, TypeCurrency, TypePercent, TypeCheckbox, TypeDate, TypeDateTime,
		TypeMultipleSelects, TypeMultipleRecordLinks:
		return true
	}
	return false
}
