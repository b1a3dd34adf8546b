package airtable

import (
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"testing"
	"time"
)

// numeric stands in for pgtype.Numeric, whose driver value is its text.
type numeric string

func (n numeric) Value() (driver.Value, error) { return string(n), nil }

// failingValuer stands in for a driver value that cannot be read.
type failingValuer struct{}

func (failingValuer) Value() (driver.Value, error) { return nil, errors.New("broken") }

type stringer struct{}

func (stringer) String() string { return "stringer" }

func TestToAirtable(t *testing.T) {
	day := time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)
	lateLocal := time.Date(2024, 2, 29, 23, 30, 0, 0, time.FixedZone("PST", -8*3600))
	str := "pointed"
	var nilStr *string
	tests := []struct {
		typ  string
		in   any
		want any
	}{
		{TypeSingleLineText, "a", "a"},
		{TypeSingleLineText, nil, nil},
		{TypeMultilineText, []byte("x\ny"), "x\ny"},
		{TypeEmail, sql.NullString{String: "a@x", Valid: true}, "a@x"},
		{TypeURL, sql.NullString{}, nil},
		{TypePhoneNumber, &str, "pointed"},
		{TypePhoneNumber, nilStr, nil},
		{TypeSingleLineText, [16]byte{0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0, 1, 2, 3, 4, 5, 6, 7, 8}, "12345678-9abc-def0-0102-030405060708"},
		{TypeSingleLineText, int32(42), "42"},
		{TypeSingleLineText, 2.5, "2.5"},
		{TypeSingleLineText, true, "true"},
		{TypeSingleLineText, stringer{}, "stringer"},
		{TypeSingleSelect, "Active", "Active"},
		{TypeNumber, 3, int64(3)},
		{TypeNumber, int16(-3), int64(-3)},
		{TypeNumber, uint64(math.MaxUint64), float64(math.MaxUint64)},
		{TypeNumber, 3.0, int64(3)},
		{TypeNumber, 3.25, 3.25},
		{TypeCurrency, float32(0.1), 0.1},
		{TypePercent, json.Number("0.5"), 0.5},
		{TypeNumber, json.Number("12345678901234567"), int64(12345678901234567)},
		{TypeNumber, numeric("12.50"), 12.5},
		{TypeNumber, numeric("7"), int64(7)},
		{TypeNumber, nil, nil},
		{TypeCheckbox, true, true},
		{TypeCheckbox, false, false},
		{TypeCheckbox, nil, false},
		{TypeCheckbox, sql.NullBool{}, false},
		{TypeDate, day, "2024-02-29"},
		{TypeDate, lateLocal, "2024-02-29"},
		{TypeDate, "2024-02-29", "2024-02-29"},
		{TypeDate, nil, nil},
		{TypeDateTime, lateLocal, "2024-03-01T07:30:00.000Z"},
		{TypeDateTime, time.Date(2024, 1, 2, 3, 4, 5, 678_999_999, time.UTC), "2024-01-02T03:04:05.678Z"},
		{TypeDateTime, "2024-01-02T03:04:05+01:00", "2024-01-02T02:04:05.000Z"},
		{TypeDateTime, sql.NullTime{Time: day, Valid: true}, "2024-02-29T00:00:00.000Z"},
		{TypeDateTime, sql.NullTime{}, nil},
		{TypeMultipleSelects, []string{"b", "a"}, []string{"b", "a"}},
		{TypeMultipleSelects, []any{"a"}, []string{"a"}},
		{TypeMultipleSelects, []any{}, []string{}},
		{TypeMultipleRecordLinks, []string{"recA"}, []string{"recA"}},
		{TypeMultipleRecordLinks, nil, nil},
		{"rating", 4, 4},
		{"multipleAttachments", []map[string]any{{"url": "https://x"}}, []map[string]any{{"url": "https://x"}}},
	}
	for _, tt := range tests {
		got, err := ToAirtable(tt.typ, tt.in)
		if err != nil {
			t.Errorf("ToAirtable(%s, %#v): %v", tt.typ, tt.in, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ToAirtable(%s, %#v) = %#v, want %#v", tt.typ, tt.in, got, tt.want)
		}
	}
}

func TestToAirtableRejects(t *testing.T) {
	tests := []struct {
		typ string
		in  any
	}{
		{TypeSingleLineText, map[string]any{}},
		{TypeNumber, "twelve"},
		{TypeNumber, math.NaN()},
		{TypeNumber, math.Inf(1)},
		{TypeNumber, numeric("NaN")},
		{TypeNumber, true},
		{TypeCheckbox, "yes"},
		{TypeCheckbox, 1},
		{TypeDate, "29/02/2024"},
		{TypeDate, 20240229},
		{TypeDateTime, "2024-02-29"},
		{TypeMultipleSelects, "a"},
		{TypeMultipleSelects, []any{"a", 1}},
		{TypeSingleLineText, failingValuer{}},
	}
	for _, tt := range tests {
		if got, err := ToAirtable(tt.typ, tt.in); err == nil {
			t.Errorf("ToAirtable(%s, %#v) = %#v, want an error", tt.typ, tt.in, got)
		}
	}
}

func TestFromAirtable(t *testing.T) {
	tests := []struct {
		typ  string
		in   any
		want any
	}{
		{TypeSingleLineText, "a", "a"},
		{TypeMultilineText, nil, nil},
		{TypeSingleSelect, "Active", "Active"},
		{TypeNumber, json.Number("3"), int64(3)},
		{TypeNumber, json.Number("3.5"), 3.5},
		{TypeCurrency, json.Number("1e3"), int64(1000)},
		{TypePercent, 0.25, 0.25},
		{TypeNumber, nil, nil},
		{TypeCheckbox, true, true},
		{TypeCheckbox, nil, false}, // Airtable leaves unchecked boxes out
		{TypeDate, "2024-02-29", time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)},
		{TypeDate, nil, nil},
		{TypeDateTime, "2024-01-02T03:04:05.678Z", time.Date(2024, 1, 2, 3, 4, 5, 678e6, time.UTC)},
		{TypeDateTime, nil, nil},
		{TypeMultipleSelects, []any{"a", "b"}, []string{"a", "b"}},
		{TypeMultipleSelects, nil, nil},
		{TypeMultipleRecordLinks, []any{"recA"}, []string{"recA"}},
		{"rating", json.Number("4"), json.Number("4")},
	}
	for _, tt := range tests {
		got, err := FromAirtable(tt.typ, tt.in)
		if err != nil {
			t.Errorf("FromAirtable(%s, %#v): %v", tt.typ, tt.in, err)
			continue
		}
		if tm, ok := got.(time.Time); ok {
			if want, _ := tt.want.(time.Time); !tm.Equal(want) || tm.Location() != time.UTC {
				t.Errorf("FromAirtable(%s, %#v) = %v, want %v in UTC", tt.typ, tt.in, tm, want)
			}
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("FromAirtable(%s, %#v) = %#v, want %#v", tt.typ, tt.in, got, tt.want)
		}
	}
	for _, bad := range []struct {
		typ string
		in  any
	}{{TypeSingleLineText, 3.0}, {TypeCheckbox, "true"}, {TypeDate, "yesterday"}, {TypeMultipleRecordLinks, "recA"}} {
		if got, err := FromAirtable(bad.typ, bad.in); err == nil {
			t.Errorf("FromAirtable(%s, %#v) = %#v, want an error", bad.typ, bad.in, got)
		}
	}
}

// TestRoundTrip checks that what ToAirtable sends, FromAirtable reads back
// as a value Equal to the original.
func TestRoundTrip(t *testing.T) {
	values := map[string][]any{
		TypeSingleLineText:      {"x", nil},
		TypeNumber:              {42, 4.25, nil},
		TypeCheckbox:            {true, false},
		TypeDate:                {time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)},
		TypeDateTime:            {time.Date(2024, 2, 29, 1, 2, 3, 4e6, time.UTC)},
		TypeMultipleSelects:     {[]string{"a", "b"}},
		TypeMultipleRecordLinks: {[]string{"recA"}},
	}
	for typ, vs := range values {
		for _, v := range vs {
			wire, err := ToAirtable(typ, v)
			if err != nil {
				t.Fatal(err)
			}
			data, err := json.Marshal(wire)
			if err != nil {
				t.Fatal(err)
			}
			var decoded any
			if err := json.Unmarshal(data, &decoded); err != nil {
				t.Fatal(err)
			}
			back, err := FromAirtable(typ, decoded)
			if err != nil {
				t.Fatalf("%s %v: %v", typ, v, err)
			}
			if !Equal(typ, v, back) {
				t.Errorf("%s: %#v came back as %#v", typ, v, back)
			}
		}
	}
}
