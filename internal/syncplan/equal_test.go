package syncplan

import (
	"encoding/json"
	"math"
	"testing"
	"time"
)

// TestDefaultEqual checks the JSON-like normalisation of values.
func TestDefaultEqual(t *testing.T) {
	type status string
	type quantity int
	s := "x"
	eq := [][]any{
		{1, 1.0, int64(1), uint8(1), float32(1), json.Number("1"), json.Number("1.0"), json.Number("1e0"), json.Number("10E-1"), quantity(1), new(1)},
		{0.1, json.Number("0.1"), json.Number("1e-1")},
		{0, math.Copysign(0, -1), json.Number("-0")},
		{int64(9007199254740993), json.Number("9007199254740993"), uint64(9007199254740993)},
		{1e21, json.Number("1e21"), json.Number("1000000000000000000000")},
		{nil, []any(nil), map[string]any(nil), (*string)(nil), []string(nil)},
		{"x", status("x"), &s},
		{[]any{1, "a"}, []any{json.Number("1.0"), "a"}, [2]any{1.0, "a"}},
		{[]string{"a"}, []any{"a"}},
		{[]any{}, []string{}},
		{map[string]any{"a": 1}, map[string]int{"a": 1}, map[string]any{"a": json.Number("1")}},
		{time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC), time.Date(2025, 1, 1, 13, 0, 0, 0, time.FixedZone("CET", 3600))},
		{math.NaN(), math.NaN()},
		{json.Number("1e999999999"), json.Number("1e999999999")},
		{json.Number("abc"), json.Number("abc")},
		{json.Number("2 "), json.Number("2 ")},
		{map[int]any{1: "a"}, map[int]any{1: "a"}},
		{struct{ A int }{1}, struct{ A int }{1}},
	}
	for i, group := range eq {
		for _, a := range group {
			for _, b := range group {
				if !DefaultEqual(a, b) {
					t.Errorf("group %d: %#v != %#v", i, a, b)
				}
			}
			// Every group differs from the next one.
			for _, b := range eq[(i+1)%len(eq)] {
				if DefaultEqual(a, b) {
					t.Errorf("group %d: %#v == %#v", i, a, b)
				}
			}
		}
	}
	ne := [][2]any{
		{1, "1"},
		{1, true},
		{0.1, 0.2},
		{int64(9007199254740993), float64(9007199254740992)},
		{json.Number("1e999999999"), json.Number("1e999999998")},
		{json.Number("0x10"), 16},
		{json.Number("1/2"), 0.5},
		{[]any{}, nil},
		{map[string]any{}, nil},
		{"", nil},
		{0, nil},
		{[]any{1, 2}, []any{2, 1}},
		{map[string]any{"a": 1}, map[string]any{"a": 1, "b": nil}},
		{time.Date(2025, 1, 1, 12, 0, 0, 1, time.UTC), time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)},
		{math.Inf(1), math.Inf(-1)},
		{map[int]any{1: 1}, map[int]any{1: 1.0}},
	}
	for _, p := range ne {
		if DefaultEqual(p[0], p[1]) || DefaultEqual(p[1], p[0]) {
			t.Errorf("%#v == %#v", p[0], p[1])
		}
	}
}

// TestDecideNormalisesNumbers checks that a number in three notations is
// one value to Decide.
func TestDecideNormalisesNumbers(t *testing.T) {
	m := Mapping{Fields: []Field{{Name: "n", Direction: Both}}, Policy: LatestWins}
	for _, v := range []any{1, 1.0, json.Number("1"), json.Number("1.0")} {
		r := Record{
			Key:      "k",
			Airtable: present(map[string]any{"n": 1.0}, at(1)),
			Postgres: present(map[string]any{"n": v}, at(2)),
			Link:     linked(map[string]any{"n": json.Number("1")}),
		}
		assertNoWrites(t, Decide(m, r))
	}
	r := Record{
		Key:      "k",
		Airtable: present(map[string]any{"n": 1.0}, at(1)),
		Postgres: present(map[string]any{"n": json.Number("1.5")}, at(2)),
		Link:     linked(map[string]any{"n": 1}),
	}
	if d := Decide(m, r); len(d.Changes) != 1 || d.Changes[0].Winner != WinnerPostgres {
		t.Fatalf("1.5 must differ from 1, got %+v", d)
	}
}
