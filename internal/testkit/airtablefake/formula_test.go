package airtablefake

import (
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"
)

// filter lists the names of the People that a formula selects.
func filter(t *testing.T, s *Server, formula string) []string {
	t.Helper()
	r := call(t, s, http.MethodGet, people+"?filterByFormula="+url.QueryEscape(formula), nil)
	wantOK(t, r)
	return names(r.records())
}

func TestFormulaSubset(t *testing.T) {
	clock := newClock() // 2024-03-01T12:00:00Z
	opts := unlimited
	opts.Now = clock.Now
	s := newFake(t, opts)
	acme := s.Insert(testBase, "Companies", map[string]any{"Name": "Acme"})
	ada := s.Insert(testBase, "People", map[string]any{
		"Name": "Ada", "Email": "ada@example.com", "Age": 36, "Active": true, "Born": "1815-12-10",
		"Seen": "2024-02-01T08:30:00Z", "Status": "Done", "Tags": []string{"a", "b"}, "Company": []string{acme.ID},
	})
	s.Insert(testBase, "People", map[string]any{
		"Name": "Bob", "Age": 20, "Seen": "2024-01-15T00:00:00Z", "Status": "Todo", "Tags": []string{"c"},
	})
	s.Insert(testBase, "People", map[string]any{"Name": "Cy"})

	tests := []struct {
		formula string
		want    []string
	}{
		{"{Name} = 'Ada'", []string{"Ada"}},
		{`{Name} = "Bob"`, []string{"Bob"}},
		{"{Name} != 'Ada'", []string{"Bob", "Cy"}},
		{"{Age} > 20", []string{"Ada"}},
		{"{Age} >= 20", []string{"Ada", "Bob"}},
		{"{Age} < 30", []string{"Bob", "Cy"}}, // a blank counts as 0
		{"{Age} <= 20.5", []string{"Bob", "Cy"}},
		{"{Age} = 36", []string{"Ada"}},
		{"{Age} * 2 - 2 = 70", []string{"Ada"}},
		{"-{Age} < -30", []string{"Ada"}},
		{"{Email} = ''", []string{"Bob", "Cy"}},
		{"{Email} = BLANK()", []string{"Bob", "Cy"}},
		{"NOT({Email} = '')", []string{"Ada"}},
		{"{Active}", []string{"Ada"}},
		{"{Active} = TRUE()", []string{"Ada"}},
		{"NOT({Active})", []string{"Bob", "Cy"}},
		{"AND({Age} > 10, {Status} = 'Todo')", []string{"Bob"}},
		{"OR({Status} = 'Done', {Name} = 'Cy')", []string{"Ada", "Cy"}},
		{"{Tags} = 'a, b'", []string{"Ada"}},
		{"FIND('b', {Tags}) > 0", []string{"Ada"}},
		{"{Company} = 'Acme'", []string{"Ada"}},
		{"LOWER({Name}) & '!' = 'bob!'", []string{"Bob"}},
		{"LEN(TRIM(UPPER({Name}))) = 2", []string{"Cy"}},
		{"IF({Age} > 30, 1, 0)", []string{"Ada"}},
		{"RECORD_ID() = '" + ada.ID + "'", []string{"Ada"}},
		{"OR(RECORD_ID() = '" + ada.ID + "', RECORD_ID() = 'recNope')", []string{"Ada"}},
		{"IS_AFTER({Seen}, '2024-01-20T00:00:00.000Z')", []string{"Ada"}},
		{"IS_BEFORE({Seen}, DATETIME_PARSE('2024-01-20'))", []string{"Bob"}},
		{"IS_SAME({Seen}, '2024-02-01', 'day')", []string{"Ada"}},
		{"IS_SAME({Seen}, '2024-02-01T08:30:00.000Z')", []string{"Ada"}},
		{"{Seen} > '2024-01-20'", []string{"Ada"}},
		{"{Born} < DATETIME_PARSE('01/01/1900', 'DD/MM/YYYY')", []string{"Ada"}}, // blanks are not before a date
		{"{Born} != '1815-12-10'", []string{"Bob", "Cy"}},
		{"and(TRUE, not(FALSE()))", []string{"Ada", "Bob", "Cy"}}, // function names ignore case
		{"IS_AFTER({Seen}, DATEADD(NOW(), -30, 'days'))", []string{"Ada"}},
		{"IS_AFTER(CREATED_TIME(), '2024-01-01')", []string{"Ada", "Bob", "Cy"}},
		{"IS_AFTER({Seen}, 'garbage')", []string{}},              // #ERROR! leaves records out
		{"NOT(IS_AFTER({Seen}, '2024-01-20'))", []string{"Bob"}}, // Cy's blank Seen is an error
		{"{Age} / 0", []string{}},
		{"", []string{"Ada", "Bob", "Cy"}},
	}
	for _, tc := range tests {
		t.Run(tc.formula, func(t *testing.T) {
			if got := filter(t, s, tc.formula); !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestInvalidFormulas(t *testing.T) {
	s := newFake(t, unlimited)
	s.Insert(testBase, "People", map[string]any{"Name": "Ada"})
	for _, formula := range []string{
		"AND(", "{Nope} = 1", "{age} > 10", "NO_SUCH_FUNCTION(1)", "1 +", "'unclosed", "NOT(1, 2)",
		"{Name} = 'a' 'b'", "LAST_MODIFIED_TIME('x')", "{Name", "1 ? 2", "DATEADD(NOW())", "()",
	} {
		t.Run(formula, func(t *testing.T) {
			r := call(t, s, http.MethodGet, people+"?filterByFormula="+url.QueryEscape(formula), nil)
			wantError(t, r, 422, errInvalidFormula)
		})
	}
}

// TestIncrementalSyncByModifiedTime is the pattern a sync client uses: remember
// the newest modification time seen, later ask for what changed after it.
func TestIncrementalSyncByModifiedTime(t *testing.T) {
	clock := newClock()
	opts := unlimited
	opts.Now = clock.Now
	s := newFake(t, opts)
	s.Insert(testBase, "People", map[string]any{"Name": "a", "Age": 1})
	b := s.Insert(testBase, "People", map[string]any{"Name": "b", "Age": 2})
	c := s.Insert(testBase, "People", map[string]any{"Name": "c", "Age": 3})
	cursor := formatTime(c.LastModified)

	for _, formula := range []string{
		"IS_AFTER(LAST_MODIFIED_TIME(), DATETIME_PARSE('" + cursor + "'))",
		"IS_AFTER({Last Modified}, '" + cursor + "')",
		"LAST_MODIFIED_TIME() > '" + cursor + "'",
	} {
		if got := filter(t, s, formula); len(got) != 0 {
			t.Fatalf("%s: %v changed before any edit", formula, got)
		}
	}

	// A human edit in the same millisecond as the inserts still sorts after them.
	s.Update(testBase, "People", b.ID, map[string]any{"Age": 20})
	for _, formula := range []string{
		"IS_AFTER(LAST_MODIFIED_TIME(), DATETIME_PARSE('" + cursor + "'))",
		"IS_AFTER({Last Modified}, '" + cursor + "')",
		"LAST_MODIFIED_TIME() > '" + cursor + "'",
	} {
		if got := filter(t, s, formula); !slices.Equal(got, []string{"b"}) {
			t.Fatalf("%s: got %v, want [b]", formula, got)
		}
	}

	// LAST_MODIFIED_TIME with fields only sees changes to those fields.
	clock.Advance(time.Hour)
	s.Update(testBase, "People", c.ID, map[string]any{"Name": "c2"})
	after := formatTime(clock.Now().Add(-time.Minute))
	if got := filter(t, s, "IS_AFTER(LAST_MODIFIED_TIME({Age}), '"+after+"')"); len(got) != 0 {
		t.Fatalf("an edit of Name counted as a change of Age: %v", got)
	}
	if got := filter(t, s, "IS_AFTER(LAST_MODIFIED_TIME({Name}, {Age}), '"+after+"')"); !slices.Equal(got, []string{"c2"}) {
		t.Fatalf("edit of Name: got %v, want [c2]", got)
	}
}
