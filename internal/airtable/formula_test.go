package airtable

import (
	"testing"
	"time"
)

func TestFieldRef(t *testing.T) {
	tests := map[string]string{
		"Name":              "{Name}",
		"First Name":        "{First Name}",
		"Guest's \"Nick\"":  "{Guest's \"Nick\"}",
		"Weird } name":      `{Weird \} name}`,
		"{braced}":          `{{braced\}}`,
		"Modified (UTC) #1": "{Modified (UTC) #1}",
	}
	for name, want := range tests {
		if got := FieldRef(name); got != want {
			t.Errorf("FieldRef(%q) = %s, want %s", name, got, want)
		}
	}
}

func TestQuote(t *testing.T) {
	tests := map[string]string{
		"":                    "''",
		"plain":               "'plain'",
		"O'Brien":             `'O\'Brien'`,
		`say "hi"`:            `'say "hi"'`,
		`back\slash`:          `'back\\slash'`,
		`\'`:                  `'\\\''`,
		`x', '') & '`:         `'x\', \'\') & \''`,
		"{Name} = 'injected'": `'{Name} = \'injected\''`,
	}
	for s, want := range tests {
		if got := Quote(s); got != want {
			t.Errorf("Quote(%q) = %s, want %s", s, got, want)
		}
	}
}

func TestModifiedAfter(t *testing.T) {
	at := time.Date(2024, 3, 1, 13, 4, 5, 678_900_000, time.FixedZone("CET", 3600))
	got := ModifiedAfter("Last Modified", at)
	want := "IS_AFTER({Last Modified}, DATETIME_PARSE('2024-03-01T12:04:05.678Z'))"
	if got != want {
		t.Errorf("ModifiedAfter = %s\nwant            %s", got, want)
	}
	if got := ModifiedAfter("a}b", time.Unix(0, 0)); got != `IS_AFTER({a\}b}, DATETIME_PARSE('1970-01-01T00:00:00.000Z'))` {
		t.Errorf("ModifiedAfter with a brace = %s", got)
	}
}
