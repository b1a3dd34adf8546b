package render

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"testing"
	"unicode/utf8"

	"github.com/groundwork-dev/groundwork/internal/document"
)

func export(t testing.TB, body string) *document.Export {
	t.Helper()
	var e document.Export
	if err := json.Unmarshal([]byte(body), &e); err != nil {
		t.Fatal(err)
	}
	return &e
}

func TestCSV(t *testing.T) {
	e := export(t, `{"format":"csv","columns":["name","note","n","ok","none"],
		"rows":[["Acme, Inc.","say \"hi\"\nbye",12345678901234567890,true,null],
		        ["=1+1","+x",-5,false,"@me"],["-3","\ttab","1e3",0.5,""]]}`)
	var buf bytes.Buffer
	var calls []int
	if err := CSV(&buf, e, func(n int) error { calls = append(calls, n); return nil }); err != nil {
		t.Fatal(err)
	}
	want := "name,note,n,ok,none\r\n" +
		"\"Acme, Inc.\",\"say \"\"hi\"\"\nbye\",12345678901234567890,true,\r\n" +
		"'=1+1,'+x,-5,false,'@me\r\n" +
		"'-3,'\ttab,1e3,0.5,\r\n"
	if buf.String() != want {
		t.Fatalf("got\n%q\nwant\n%q", buf.String(), want)
	}
	if len(calls) != 1 || calls[0] != 3 {
		t.Errorf("progress calls = %v", calls)
	}
}

func TestCSVBOMAndProgressStop(t *testing.T) {
	e := export(t, `{"format":"csv","bom":true,"columns":["a"],"rows":[["é"]]}`)
	var buf bytes.Buffer
	if err := CSV(&buf, e, nil); err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(buf.Bytes(), []byte("\xef\xbb\xbfa\r\n")) {
		t.Fatalf("no BOM: %q", buf.Bytes())
	}
	stop := errors.New("stop")
	rows := make([][]document.Cell, 2500)
	for i := range rows {
		rows[i] = []document.Cell{document.StringCell("x")}
	}
	big := &document.Export{Format: "csv", Columns: []string{"a"}, Rows: rows}
	if err := CSV(&bytes.Buffer{}, big, func(int) error { return stop }); !errors.Is(err, stop) {
		t.Fatalf("progress error not returned: %v", err)
	}
}

// FuzzCSV checks that any valid table renders to CSV that parses back to
// the same cells (formula prefixes aside) and never panics.
func FuzzCSV(f *testing.F) {
	f.Add("a", "=b", "c,d", "e\"f\ng")
	f.Add("", "@", "\r", "é–“”")
	f.Fuzz(func(t *testing.T, a, b, c, d string) {
		cells := []string{a, b, c, d}
		for _, s := range cells {
			if !utf8.ValidString(s) {
				t.Skip("cells arrive as JSON strings, always valid UTF-8")
			}
		}
		row := make([]document.Cell, len(cells))
		for i, s := range cells {
			row[i] = document.StringCell(s)
		}
		e := &document.Export{Format: "csv", Columns: []string{"1", "2", "3", "4"}, Rows: [][]document.Cell{row}}
		var buf bytes.Buffer
		if err := CSV(&buf, e, nil); err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(&buf).ReadAll()
		if err != nil {
			t.Fatalf("output does not parse: %v", err)
		}
		if len(recs) != 2 {
			t.Fatalf("%d records", len(recs))
		}
		for i, s := range cells {
			want := NeutralizeFormula(s)
			// encoding/csv's reader turns \r\n inside quotes into \n.
			got := recs[1][i]
			if got != want && got != normalizeCR(want) {
				t.Fatalf("cell %d: got %q want %q", i, got, want)
			}
		}
	})
}

func normalizeCR(s string) string {
	return string(bytes.ReplaceAll([]byte(s), []byte("\r\n"), []byte("\n")))
}

func TestNeutralizeFormulaFoldsAndSkipsSpaces(t *testing.T) {
	for in, neutralised := range map[string]bool{
		"=1+1": true, "+1": true, "-1": true, "@SUM(A1)": true, "\t=1": true, "\r=1": true,
		" =1+1": true, "  +cmd": true, "\u00a0=1": true, "\u3000-1": true,
		"＝HYPERLINK(\"x\")": true, "＋1": true, "－1": true, "＠A1": true, " ＝1": true, "﹦1": true,
		"": false, "   ": false, "plain": false, "a=b": false, "1-2": false, "x@y.example": false, " word": false,
	} {
		got := NeutralizeFormula(in)
		if want := map[bool]string{true: "'" + in, false: in}[neutralised]; got != want {
			t.Errorf("NeutralizeFormula(%q) = %q, want %q", in, got, want)
		}
	}
}
