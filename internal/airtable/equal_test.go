package airtable

import (
	"encoding/json"
	"testing"
	"time"
)

func TestEqual(t *testing.T) {
	at := time.Date(2024, 1, 2, 3, 4, 5, 678_000_000, time.UTC)
	tests := []struct {
		typ  string
		a, b any
		want bool
	}{
		{TypeSingleLineText, "a", "a", true},
		{TypeSingleLineText, "a", "A", false},
		{TypeSingleLineText, nil, "", true},
		{TypeEmail, "", nil, true},
		{TypeMultilineText, "a", nil, false},
		{TypeSingleSelect, nil, "", true},
		{TypeSingleSelect, "Active", "Inactive", false},
		{TypeNumber, 1, 1.0, true},
		{TypeNumber, int64(1), json.Number("1"), true},
		{TypeCurrency, json.Number("1.50"), 1.5, true},
		{TypeNumber, numeric("2.0"), 2, true},
		{TypeNumber, 1, 1.0001, false},
		{TypeNumber, nil, 0, false},
		{TypeNumber, nil, nil, true},
		{TypePercent, "bad", "bad", false},
		{TypeCheckbox, nil, false, true},
		{TypeCheckbox, true, nil, false},
		{TypeCheckbox, true, true, true},
		{TypeDate, time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC), "2024-02-29", true},
		{TypeDate, "2024-02-29", "2024-03-01", false},
		{TypeDate, nil, "2024-02-29", false},
		{TypeDateTime, at, "2024-01-02T03:04:05.678Z", true},
		{TypeDateTime, at.Add(999 * time.Microsecond), "2024-01-02T03:04:05.678Z", true},
		{TypeDateTime, at.Add(time.Millisecond), "2024-01-02T03:04:05.678Z", false},
		{TypeDateTime, at.In(time.FixedZone("X", 7200)), at, true},
		{TypeDateTime, nil, at, false},
		{TypeMultipleSelects, []string{"a", "b"}, []any{"b", "a"}, true},
		{TypeMultipleSelects, []string{"a"}, []any{"a", "b"}, false},
		{TypeMultipleSelects, nil, []any{}, true},
		{TypeMultipleSelects, nil, []string{"a"}, false},
		{TypeMultipleRecordLinks, []string{"recB", "recA"}, []any{"recA", "recB"}, true},
		{TypeMultipleRecordLinks, []string{"recA", "recA"}, []any{"recA"}, false},
		{"rating", 4, json.Number("4"), true},
		{"rating", 4, 5, false},
		{"multipleAttachments", []map[string]any{{"url": "u"}}, []any{map[string]any{"url": "u"}}, true},
		{"unknownType", nil, nil, true},
		{"unknownType", func() {}, func() {}, false},
	}
	for _, tt := range tests {
		if got := Equal(tt.typ, tt.a, tt.b); got != tt.want {
			t.Errorf("Equal(%s, %#v, %#v) = %v, want %v", tt.typ, tt.a, tt.b, got, tt.want)
		}
		if got := Equal(tt.typ, tt.b, tt.a); got != tt.want {
			t.Errorf("Equal(%s, %#v, %#v) = %v, want %v (swapped)", tt.typ, tt.b, tt.a, got, tt.want)
		}
	}
}
