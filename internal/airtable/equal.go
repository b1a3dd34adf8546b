package airtable

import (
	"encoding/json"
	"reflect"
	"slices"
	"time"
)

// Equal reports whether a and b are the same value of a field of
// fieldType once both are normalised, so that a sync comparing a Postgres
// row with an Airtable record sees no change where Airtable could not
// store one. Either side may be in Postgres or Airtable form. In
// particular:
//
//   - text types and singleSelect: nil equals ""
//   - numbers: compared as float64, so 1 equals 1.0 and json.Number("1");
//     nil does not equal 0
//   - checkbox: nil equals false
//   - date: compared by calendar day
//   - dateTime: compared to the millisecond, Airtable's precision
//   - multipleSelects and multipleRecordLinks: compared ignoring order,
//     and nil equals an empty list. Airtable keeps the order, but it is
//     not meaningful to the sync, and ignoring it avoids rewriting cells
//     whose order Airtable or a user shuffled.
//   - other types: compared by their JSON encoding, read back
//
// A value that cannot be converted is unequal to everything, so that the
// sync tries to write it and reports the conversion error.
func Equal(fieldType string, a, b any) bool {
	ca, err := canonical(fieldType, a)
	if err != nil {
		return false
	}
	cb, err := canonical(fieldType, b)
	if err != nil {
		return false
	}
	return reflect.DeepEqual(ca, cb)
}

// canonical is the form of v that Equal compares.
func canonical(fieldType string, v any) (any, error) {
	if !knownType(fieldType) {
		return jsonForm(v)
	}
	v, err := plain(v)
	if err != nil {
		return nil, err
	}
	switch fieldType {
	case TypeSingleLineText, TypeMultilineText, TypeEmail, TypeURL, TypePhoneNumber, TypeSingleSelect:
		s, err := text(v)
		if s == nil || err != nil {
			return "", err
		}
		return s, nil
	case TypeNumber, TypeCurrency, TypePercent:
		n, err := number(v)
		switch x := n.(type) {
		case int64:
			return float64(x), err
		case float64:
			return x, err
		}
		return nil, err
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
		return t.UnixMilli(), nil
	case TypeMultipleSelects, TypeMultipleRecordLinks:
		l, err := stringList(v)
		if err != nil {
			return nil, err
		}
		return slices.Sorted(slices.Values(l)), nil
	}
	return v, nil
}

// jsonForm is v as it reads back from JSON, with numbers as float64, so
// that Go values and decoded ones compare alike.
func jsonForm(v any) (any, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var out any
	if err := json.Unmarshal(data, &out); err != nil {
		return nil, err
	}
	return out, nil
}
