package document

import (
	"encoding/json"
	"strings"
	"testing"
)

func decode(t *testing.T, body string) *Export {
	t.Helper()
	var e Export
	if err := json.Unmarshal([]byte(body), &e); err != nil {
		t.Fatal(err)
	}
	return &e
}

func TestValidate(t *testing.T) {
	ok := decode(t, `{"format":"csv","columns":["a","b"],"rows":[["x",1],[null,true]]}`)
	if errs := ok.Validate(); len(errs) != 0 {
		t.Fatalf("valid export: %v", errs)
	}
	cases := map[string]string{
		`{"columns":["a"],"rows":[["x"]]}`:                      "format",
		`{"format":"xlsx","columns":["a"],"rows":[["x"]]}`:      "format",
		`{"format":"csv","columns":[],"rows":[["x"]]}`:          "columns",
		`{"format":"csv","columns":[" "],"rows":[["x"]]}`:       "columns[0]",
		`{"format":"csv","columns":["a"],"rows":[]}`:            "rows",
		`{"format":"csv","columns":["a"],"rows":[["x","y"]]}`:   "rows[0]",
		`{"format":"csv","columns":["a"],"rows":[["x"],[[1]]]}`: "rows[1][0]",
		`{"format":"csv","columns":["a"],"rows":[[{"k":"v"}]]}`: "rows[0][0]",
	}
	for body, field := range cases {
		errs := decode(t, body).Validate()
		if len(errs) == 0 || errs[0].Field != field {
			t.Errorf("%s: errors %v, want field %q", body, errs, field)
		}
	}
	// Errors are capped so a huge bad table gets a bounded answer.
	rows := strings.Repeat(`["x","y"],`, 100)
	many := decode(t, `{"format":"csv","columns":["a"],"rows":[`+rows[:len(rows)-1]+`]}`)
	if n := len(many.Validate()); n != 20 {
		t.Errorf("%d errors, want the cap of 20", n)
	}
}

func TestCellText(t *testing.T) {
	e := decode(t, `{"rows":[["s",12345678901234567890,-1.5e3,true,null,"\u00e9"]]}`)
	want := []string{"s", "12345678901234567890", "-1.5e3", "true", "", "é"}
	for i, c := range e.Rows[0] {
		if c.Text() != want[i] {
			t.Errorf("cell %d: %q, want %q", i, c.Text(), want[i])
		}
	}
	if !e.Rows[0][0].IsString() || e.Rows[0][1].IsString() {
		t.Error("IsString wrong")
	}
}

func TestSanitizeFilename(t *testing.T) {
	cases := map[string]string{
		"report":                "report.csv",
		"report.CSV":            "report.CSV",
		"../../etc/passwd":      "passwd.csv",
		`C:\Users\x\evil"name`:  "evil_name.csv",
		"a\r\nContent-Type: x":  "a__Content-Type_ x.csv",
		"":                      "export.csv",
		"...":                   "export.csv",
		"Café – naïve “quotes”": "Café – naïve “quotes”.csv",
	}
	for in, want := range cases {
		got, err := SanitizeFilename(in, FormatCSV)
		if err != nil || got != want {
			t.Errorf("SanitizeFilename(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := SanitizeFilename("\xff", FormatCSV); err == nil {
		t.Error("invalid UTF-8 accepted")
	}
}
