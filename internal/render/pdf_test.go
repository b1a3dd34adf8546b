package render

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/groundwork-dev/groundwork/internal/document"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata from the current output")

var pdfCreated = time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)

func renderPDFDoc(t testing.TB, doc *document.Document, o Options) ([]byte, Result) {
	t.Helper()
	var buf bytes.Buffer
	res, err := PDF(&buf, doc, o)
	if err != nil {
		t.Fatalf("PDF: %v", err)
	}
	return buf.Bytes(), res
}

// pdfTool returns the path of a poppler/qpdf binary, skipping the test
// when it is not installed.
func pdfTool(t testing.TB, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s is not installed (apt-get install qpdf poppler-utils); skipping the PDF content checks", name)
	}
	return path
}

// qpdfCheck fails the test unless qpdf --check finds the file valid.
func qpdfCheck(t testing.TB, data []byte) {
	t.Helper()
	qpdf := pdfTool(t, "qpdf")
	path := filepath.Join(t.TempDir(), "check.pdf")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(qpdf, "--check", path).CombinedOutput()
	if err != nil || bytes.Contains(out, []byte("WARNING")) {
		t.Fatalf("qpdf --check: %v\n%s", err, out)
	}
}

// pdfText extracts the text with pdftotext -layout; pages are separated
// by form feeds.
func pdfText(t testing.TB, data []byte) string {
	t.Helper()
	cmd := exec.Command(pdfTool(t, "pdftotext"), "-layout", "-enc", "UTF-8", "-", "-")
	cmd.Stdin = bytes.NewReader(data)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil || stderr.Len() > 0 {
		t.Fatalf("pdftotext: %v\n%s", err, stderr.String())
	}
	return string(out)
}

var pageFooter = regexp.MustCompile(`^Page \d+ of \d+$`)

// pdfBody is the extracted text without the running header and footer,
// whitespace collapsed, so a paragraph that crosses a page reads as one.
func pdfBody(text, title string) string {
	var words []string
	for _, line := range strings.Split(text, "\n") {
		s := strings.TrimSpace(strings.ReplaceAll(line, "\f", ""))
		if s == title || pageFooter.MatchString(s) {
			continue
		}
		words = append(words, strings.Fields(s)...)
	}
	return strings.Join(words, " ")
}

func norm(s string) string { return strings.Join(strings.Fields(s), " ") }

func TestPDFSampleReport(t *testing.T) {
	doc := sampleReport()
	data, res := renderPDFDoc(t, doc, Options{Created: pdfCreated})
	if !bytes.HasPrefix(data, []byte("%PDF-")) || !bytes.HasSuffix(data, []byte("%%EOF\n")) {
		t.Fatalf("not a PDF: %q…%q", data[:min(20, len(data))], data[max(0, len(data)-20):])
	}
	if res.Pages < 15 || res.Pages > 30 {
		t.Errorf("Pages = %d, want about 20", res.Pages)
	}
	// Deterministic: same input, same bytes.
	again, _ := renderPDFDoc(t, doc, Options{Created: pdfCreated})
	if !bytes.Equal(data, again) {
		t.Error("two renders of the same document differ")
	}
	qpdfCheck(t, data)
	text := pdfText(t, data)
	pages := strings.Split(strings.TrimSuffix(text, "\f"), "\f")
	if len(pages) != res.Pages {
		t.Errorf("pdftotext sees %d pages, Result.Pages = %d", len(pages), res.Pages)
	}
	for i, pg := range pages {
		want := fmt.Sprintf("Page %d of %d", i+1, res.Pages)
		if !strings.Contains(pg, want) {
			t.Errorf("page %d has no footer %q", i+1, want)
		}
		if !strings.Contains(pg, sampleTitle) {
			t.Errorf("page %d has no header with the title", i+1)
		}
	}
	body := pdfBody(text, sampleTitle)
	want := func(what, s string) {
		t.Helper()
		if s = norm(s); s != "" && !strings.Contains(body, s) {
			t.Errorf("%s %q missing from the extracted text", what, s)
		}
	}
	want("subtitle", doc.Subtitle)
	want("author", doc.Author)
	for i, b := range doc.Blocks {
		what := fmt.Sprintf("block %d (%s)", i, b.Type)
		switch b.Type {
		case document.BlockHeading:
			want(what, b.Text)
		case document.BlockParagraph:
			text := b.Text
			if len(b.Spans) > 0 {
				text = ""
				for _, s := range b.Spans {
					text += s.Text
				}
			}
			want(what, text)
		case document.BlockList:
			for _, it := range b.Items {
				want(what+" item", it.Text)
			}
		case document.BlockKV:
			for _, it := range b.Items {
				want(what+" key", it.Key)
				want(what+" value", it.Value)
			}
		case document.BlockTable:
			for _, c := range b.Columns {
				want(what+" column", c)
			}
			for _, row := range b.Rows {
				for _, c := range row {
					want(what+" cell", c.Text())
				}
			}
		case document.BlockChart:
			want(what+" title", b.Title)
			for _, l := range b.Labels {
				want(what+" label", l)
			}
		case document.BlockImage:
			want(what+" caption", b.Caption)
		}
	}
	want("UTF-8", sampleUTF8)

	// Fallback fonts: drawn and extractable when installed, else warned.
	for _, fb := range []struct {
		face faceID
		text string
	}{{faceCJK, sampleCJK}, {faceSymbols, sampleEmoji}, {faceSymbols, sampleSymbol}} {
		if loadFallback(fb.face) != nil {
			want("fallback glyphs", fb.text)
		} else if !strings.Contains(strings.Join(res.Warnings, "\n"), fmt.Sprintf("U+%04X", []rune(fb.text)[0])) {
			t.Errorf("%s: no fallback font and no warning: %q", fb.text, res.Warnings)
		}
	}
	if loadFallback(faceCJK) != nil && loadFallback(faceSymbols) != nil && len(res.Warnings) > 0 {
		t.Errorf("unexpected warnings: %q", res.Warnings)
	}

	// The 400-row table spans several pages; each repeats the header row.
	first, last := -1, -1
	for i, pg := range pages {
		if strings.Contains(pg, "Account 001 ") {
			first = i
		}
		if strings.Contains(pg, "Account 400 ") {
			last = i
		}
	}
	if first < 0 || last-first < 3 {
		t.Fatalf("table spans pages %d..%d, want several", first+1, last+1)
	}
	headerRows := 0
	for _, pg := range pages[first : last+1] {
		for _, line := range strings.Split(pg, "\n") {
			if f := strings.Fields(line); len(f) == 7 && strings.Join(f, " ") == "# Account Country Segment ARR (EUR) Active" {
				headerRows++
			}
		}
	}
	if span := last - first + 1; headerRows < span {
		t.Errorf("table spans %d pages but its header row appears %d times", span, headerRows)
	}

	// Document properties and the link annotation.
	for _, s := range []string{
		"/Title " + pdfTextString(doc.Title), "/Author " + pdfTextString(doc.Author),
		"/Subject " + pdfTextString(doc.Subject), "/Keywords " + pdfTextString(doc.Keywords),
		"/Creator <FEFF00470072006F0075006E00640077006F0072006B>", "/CreationDate(D:20250304050607+00'00')",
		"/URI (" + sampleLinkURL + ")",
	} {
		if !bytes.Contains(data, []byte(s)) {
			t.Errorf("PDF lacks %s", s)
		}
	}
	if pdfinfo, err := exec.LookPath("pdfinfo"); err == nil {
		cmd := exec.Command(pdfinfo, "-enc", "UTF-8", "-")
		cmd.Stdin = bytes.NewReader(data)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("pdfinfo: %v", err)
		}
		for _, s := range []string{"Title:           " + doc.Title, "Author:          " + doc.Author,
			"Keywords:        " + doc.Keywords, "Creator:         Groundwork", "Page size:       595 x 842 pts (A4)"} {
			if !strings.Contains(string(out), s) {
				t.Errorf("pdfinfo lacks %q:\n%s", s, out)
			}
		}
	}
}

// TestPDFWithoutFallbackFonts renders as if the fallback fonts were not
// installed: characters are replaced visibly and reported.
func TestPDFWithoutFallbackFonts(t *testing.T) {
	fonts, err := defaultFonts()
	if err != nil {
		t.Fatal(err)
	}
	noFallback := &fontSet{goFaces: fonts.goFaces}
	doc := &document.Document{Title: "Fallback", Blocks: []document.Block{
		{Type: document.BlockParagraph, Text: "Office " + sampleCJK + " opened " + sampleEmoji + " — " + sampleUTF8},
	}}
	var buf bytes.Buffer
	res, err := renderPDF(&buf, doc, Options{}, noFallback)
	if err != nil {
		t.Fatal(err)
	}
	warn := strings.Join(res.Warnings, "\n")
	for _, r := range sampleCJK + sampleEmoji {
		if !strings.Contains(warn, fmt.Sprintf("U+%04X", r)) {
			t.Errorf("warning does not name U+%04X: %q", r, warn)
		}
	}
	qpdfCheck(t, buf.Bytes())
	body := norm(pdfText(t, buf.Bytes()))
	if want := "Office □□ opened □ — " + sampleUTF8; !strings.Contains(body, want) {
		t.Errorf("text %q does not contain %q", body, want)
	}
}

// pdfSmallDoc is a fixed one-of-each document for the golden test.
func pdfSmallDoc() *document.Document {
	return &document.Document{
		Title: "Quarterly summary", Subtitle: "Small fixed document", Author: "Groundwork",
		Blocks: []document.Block{
			{Type: document.BlockHeading, Level: 1, Text: "Overview"},
			{Type: document.BlockParagraph, Spans: []document.Span{
				{Text: "Revenue grew "}, {Text: "12%", Bold: true}, {Text: " in the "},
				{Text: "third quarter", Italic: true}, {Text: "; see "},
				{Text: "the appendix", Link: "https://example.com/appendix"}, {Text: "."},
			}},
			{Type: document.BlockParagraph, Text: "Café – naïve “quotes”.\nA second line after a line break."},
			{Type: document.BlockHeading, Level: 2, Text: "Highlights"},
			{Type: document.BlockList, Ordered: true, Items: []document.Item{{Text: "First"}, {Text: "Second"}, {Text: "Third"}}},
			{Type: document.BlockList, Items: []document.Item{{Text: "Bullet one"}, {Text: "Bullet two"}}},
			{Type: document.BlockKV, Items: []document.Item{
				{Key: "Owner", Value: "Ana", IsKV: true}, {Key: "Status", Value: "On track", IsKV: true},
			}},
			{Type: document.BlockHeading, Level: 3, Text: "Accounts"},
			{Type: document.BlockTable, Columns: []string{"Name", "Country", "ARR"}, Rows: [][]document.Cell{
				{document.StringCell("Acme"), document.StringCell("France"), sampleCell("1200")},
				{document.StringCell("Globex"), document.StringCell("España"), sampleCell("98000")},
			}},
			{Type: document.BlockPageBreak},
			{Type: document.BlockParagraph, Text: "Second page."},
		},
	}
}

func TestPDFGolden(t *testing.T) {
	data, res := renderPDFDoc(t, pdfSmallDoc(), Options{Created: pdfCreated})
	if res.Pages != 2 || len(res.Warnings) > 0 {
		t.Errorf("Result = %+v, want 2 pages and no warnings", res)
	}
	qpdfCheck(t, data)
	got := pdfText(t, data)
	golden := filepath.Join("testdata", "pdf_small.golden.txt")
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -run TestPDFGolden -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("extracted text differs from %s (rerun with -update if intended):\n--- got\n%s\n--- want\n%s", golden, got, want)
	}
}

func TestPDFProgress(t *testing.T) {
	var calls [][2]int
	_, res := renderPDFDoc(t, pdfSmallDoc(), Options{Progress: func(done, total int) error {
		calls = append(calls, [2]int{done, total})
		return nil
	}})
	want := [][2]int{{0, 0}, {1, 0}, {2, 2}}
	if fmt.Sprint(calls) != fmt.Sprint(want) || res.Pages != 2 {
		t.Errorf("progress calls = %v, want %v", calls, want)
	}
}

func TestPDFProgressStops(t *testing.T) {
	stop := fmt.Errorf("activity canceled: %w", ErrCanceled)
	calls := 0
	var buf bytes.Buffer
	_, err := PDF(&buf, sampleReport(), Options{Progress: func(done, total int) error {
		calls++
		if done == 3 {
			return stop
		}
		return nil
	}})
	if err != stop || !errors.Is(err, ErrCanceled) {
		t.Fatalf("err = %v, want the progress error as is", err)
	}
	if calls != 4 {
		t.Errorf("progress called %d times after asking to stop at the 4th", calls)
	}
	if buf.Len() != 0 {
		t.Errorf("a canceled render wrote %d bytes", buf.Len())
	}
}

// TestPDFHardCases covers layout edge cases: words and cells wider than a
// line, a row taller than a page, wide and headerless tables, broken
// images, bad chart data, levels and types out of range.
func TestPDFHardCases(t *testing.T) {
	long := strings.Repeat("Supercalifragilistic", 40)
	var tall strings.Builder
	for i := 0; tall.Len() < 12000; i++ {
		fmt.Fprintf(&tall, "line%04d ", i)
	}
	// wide needs a smaller font to keep whole words in its 12 columns;
	// huge has too many columns even for that and breaks words.
	wide := document.Block{Type: document.BlockTable}
	huge := document.Block{Type: document.BlockTable}
	var wideRow, hugeRow []document.Cell
	for i := 0; i < 50; i++ {
		if i < 12 {
			wide.Columns = append(wide.Columns, fmt.Sprintf("Column number %d", i))
			wideRow = append(wideRow, document.StringCell(fmt.Sprintf("value-%d", i)))
		}
		huge.Columns = append(huge.Columns, fmt.Sprintf("Column number %d with a long header", i))
		hugeRow = append(hugeRow, document.StringCell(fmt.Sprintf("v%d", i)))
	}
	wide.Rows = [][]document.Cell{wideRow, wideRow}
	huge.Rows = [][]document.Cell{hugeRow, hugeRow}
	var items []document.Item
	for i := 0; i < 300; i++ {
		items = append(items, document.Item{Text: fmt.Sprintf("item %d", i)})
	}
	doc := &document.Document{
		Title: strings.Repeat("A very long title ", 30),
		Blocks: []document.Block{
			{Type: document.BlockHeading, Level: 9, Text: "Level out of range"},
			{Type: document.BlockParagraph, Text: "Before " + long + " after.\tTabbed\x00\u200b text."},
			{Type: document.BlockTable, Columns: []string{"Key", "Text"}, Rows: [][]document.Cell{
				{document.StringCell("tall"), document.StringCell(tall.String())},
				{document.StringCell("next"), document.StringCell("after the tall row")},
			}},
			wide, huge,
			{Type: document.BlockTable, Rows: [][]document.Cell{{document.StringCell("no header")}, {}}},
			{Type: document.BlockList, Ordered: true, Items: items},
			{Type: document.BlockImage, DataBase64: "bm90IGFuIGltYWdl", Caption: "Broken"},
			{Type: document.BlockChart, Kind: "radar", Title: "Mismatched", Labels: []string{"a", "b"},
				Series: []document.Series{{Name: "s", Values: []float64{1e308, -1e308, 5}}}},
			{Type: document.BlockChart, Kind: document.ChartLine, Title: "Subnormal", Labels: []string{"a", "b"},
				Series: []document.Series{{Name: "s", Values: []float64{5e-324, 0}}}},
			{Type: document.BlockChart, Kind: document.ChartPie, Title: "Empty"},
			{Type: "mystery"},
			{Type: document.BlockPageBreak}, {Type: document.BlockPageBreak},
			{Type: document.BlockParagraph, Spans: []document.Span{{Text: "bad link", Link: "javascript:alert(1)"}}},
		},
	}
	data, res := renderPDFDoc(t, doc, Options{})
	warn := strings.Join(res.Warnings, "\n")
	for _, w := range []string{"image block 7", `chart "Empty"`, `"mystery"`} {
		if !strings.Contains(warn, w) {
			t.Errorf("warnings %q lack %q", res.Warnings, w)
		}
	}
	if bytes.Contains(data, []byte("javascript")) {
		t.Error("a javascript: link was written")
	}
	qpdfCheck(t, data)
	text := pdfText(t, data)
	squeezed := strings.Join(strings.Fields(text), "")
	for _, s := range []string{long, "line0000", "line1300", "after the tall row", "value-11", "no header", "item 299", "Tabbed text", "bad link"} {
		if !strings.Contains(squeezed, strings.ReplaceAll(s, " ", "")) {
			t.Errorf("%.40q missing from the text", s)
		}
	}
}

// TestPDFConcurrent renders in parallel: fonts are shared by the process,
// per-document state is not (run with -race).
func TestPDFConcurrent(t *testing.T) {
	doc := pdfSmallDoc()
	want, _ := renderPDFDoc(t, doc, Options{Created: pdfCreated})
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf bytes.Buffer
			if _, err := PDF(&buf, doc, Options{Created: pdfCreated}); err != nil {
				t.Error(err)
				return
			}
			if !bytes.Equal(buf.Bytes(), want) {
				t.Error("a concurrent render differs")
			}
		}()
	}
	wg.Wait()
}

func BenchmarkPDF20Pages(b *testing.B) {
	doc := sampleReport()
	if _, err := defaultFonts(); err != nil {
		b.Fatal(err)
	}
	loadFallback(faceCJK)
	loadFallback(faceSymbols)
	var pages int
	var size int
	b.ReportAllocs()
	for b.Loop() {
		var buf bytes.Buffer
		res, err := PDF(&buf, doc, Options{Created: pdfCreated})
		if err != nil {
			b.Fatal(err)
		}
		pages, size = res.Pages, buf.Len()
	}
	b.ReportMetric(float64(pages), "pages")
	b.ReportMetric(float64(size), "bytes")
}
