package airtablefake

import (
	"testing"
	"time"
)

// TestFormulaFunctions evaluates formulas on one record directly, for the
// corners of the functions that filtering through HTTP would only show as
// "matched or not".
func TestFormulaFunctions(t *testing.T) {
	created := time.Date(2024, 1, 31, 10, 30, 0, 0, time.UTC)
	rec := &record{id: "recX", created: created, modified: created.Add(time.Hour)}
	tbl := &table{fields: []*field{{id: "fldA", name: "A", typ: TypeSingleLineText}}}
	ctx := &evalCtx{rec: rec, now: time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)}
	tests := []struct {
		formula string
		want    value
	}{
		{"DATEADD('2024-01-31', 1, 'month')", time.Date(2024, 3, 2, 0, 0, 0, 0, time.UTC)}, // Go's normalisation, not Airtable's clamping
		{"DATEADD('2024-01-31T00:00:00Z', 90, 'minutes')", time.Date(2024, 1, 31, 1, 30, 0, 0, time.UTC)},
		{"DATEADD('2024-01-31', -2, 'w')", time.Date(2024, 1, 17, 0, 0, 0, 0, time.UTC)},
		{"DATEADD('2024-01-31', 1, 'years')", time.Date(2025, 1, 31, 0, 0, 0, 0, time.UTC)},
		{"DATEADD('2024-01-31', 1, 'fortnight')", errBadArgs},
		{"IS_SAME('2024-01-31T10:00:00Z', '2024-01-31T23:59:59Z', 'day')", true},
		{"IS_SAME('2024-01-31T10:00:00Z', '2024-02-01T00:00:00Z', 'day')", false},
		{"IS_SAME('2024-01-31', '2024-03-31', 'quarter')", true},
		{"IS_SAME('2024-01-29', '2024-02-03', 'week')", true},
		{"IS_SAME('2024-01-31', '2024-12-01', 'year')", true},
		{"IS_SAME('2024-01-31T10:00:00Z', '2024-01-31T10:59:00Z', 'hour')", true},
		{"IS_SAME('2024-01-31T10:00:00Z', '2024-01-31T10:00:59Z', 'minute')", true},
		{"IS_SAME('2024-01-31', '2024-01-31', 'eon')", errBadArgs},
		{"DATETIME_PARSE('31.01.2024 10:30', 'DD.MM.YYYY HH:mm')", created},
		{"DATETIME_PARSE('nonsense')", errBadArgs},
		{"LAST_MODIFIED_TIME()", created.Add(time.Hour)},
		{"LAST_MODIFIED_TIME({A})", created}, // never changed: the creation
		{"TODAY()", ctx.now},
		{"FIND('é', 'café au lait')", 4.0},
		{"FIND('a', 'banana', 3)", 4.0},
		{"FIND('z', 'banana')", 0.0},
		{"CONCATENATE('a', 1, TRUE())", "a11"},
		{"'it\\'s' & \"\"", "it's"},
		{"1 + '2'", 3.0},
		{"1 + 'two'", errBadArgs},
		{"IF(1 / 0, 'y', 'n')", errValue{"#DIV/0!"}},
		{"IF(FALSE(), 'y')", nil},
		{"NOT(1 / 0)", errValue{"#DIV/0!"}},
		{"(1 + 2) * 3 = 9", true},
		{"1 <> 2", true},
		{".5 * 4", 2.0},
	}
	for _, tc := range tests {
		t.Run(tc.formula, func(t *testing.T) {
			e, err := parseFormula(tc.formula, tbl)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			got := e.eval(ctx)
			if gt, ok := got.(time.Time); ok {
				if wt, ok := tc.want.(time.Time); !ok || !gt.Equal(wt) {
					t.Fatalf("got %v, want %v", got, tc.want)
				}
				return
			}
			if got != tc.want {
				t.Fatalf("got %#v, want %#v", got, tc.want)
			}
		})
	}
}

func TestSortPutsBlanksFirst(t *testing.T) {
	vals := []value{nil, 1.0, "a", time.Unix(0, 0)}
	for _, v := range vals[1:] {
		if orderValues(nil, v) != -1 || orderValues(v, nil) != 1 {
			t.Fatalf("blank does not sort before %v", v)
		}
	}
	if orderValues(2.0, 10.0) != -1 || orderValues("10", "2") != -1 || orderValues(true, 0.0) != 1 {
		t.Fatal("numbers compare as numbers and text as text")
	}
}
