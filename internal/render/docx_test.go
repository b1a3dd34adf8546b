package render

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"image/png"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/groundwork-dev/groundwork/internal/document"
)

// docxUTF8 is text outside ASCII that must survive every step.
const docxUTF8 = "Café – naïve “quotes”"

var docxCreated = time.Date(2025, 3, 4, 5, 6, 8, 0, time.UTC)

// testImage encodes a w × h image of two colour blocks as PNG or JPEG,
// base64-encoded as a request carries it.
func testImage(t testing.TB, w, h int, format string) string {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(img, img.Bounds(), image.NewUniform(color.RGBA{0, 114, 178, 255}), image.Point{}, draw.Src)
	draw.Draw(img, image.Rect(w/2, 0, w, h), image.NewUniform(color.RGBA{230, 159, 0, 255}), image.Point{}, draw.Src)
	var buf bytes.Buffer
	var err error
	if format == "png" {
		err = png.Encode(&buf, img)
	} else {
		err = jpeg.Encode(&buf, img, nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(buf.Bytes())
}

// docxTestDoc is a validated document with every block type, a UTF-8
// string, links and a table long enough to span three pages.
func docxTestDoc(t testing.TB) *document.Document {
	t.Helper()
	rows := make([][]document.Cell, 150)
	for i := range rows {
		rows[i] = []document.Cell{
			document.StringCell(fmt.Sprintf("R-%03d", i+1)),
			cellJSON(t, fmt.Sprint(i*7)),
			document.StringCell(fmt.Sprintf("Widget %d – ünïcode", i+1)),
		}
	}
	doc := &document.Document{
		Title: "Quarterly report Q1", Subtitle: docxUTF8, Author: "Ada Lovelace",
		Subject: "Sales figures", Keywords: "sales, q1",
		Blocks: []document.Block{
			{Type: document.BlockHeading, Level: 1, Text: "Introduction"},
			{Type: document.BlockParagraph, Text: "Plain paragraph with " + docxUTF8 + " inside."},
			{Type: document.BlockParagraph, Spans: []document.Span{
				{Text: "Strong words ", Bold: true}, {Text: "leaning words ", Italic: true},
				{Text: "example link", Link: "https://example.com/report?q=1"}, {Text: " and ", Bold: true, Italic: true},
				{Text: "mail us", Link: "mailto:team@example.com"},
			}},
			{Type: document.BlockParagraph, Text: "Line one\nLine two\twith a tab"},
			{Type: document.BlockHeading, Level: 2, Text: "Lists"},
			{Type: document.BlockList, Items: []document.Item{{Text: "apples bullet"}, {Text: "pears bullet"}}},
			{Type: document.BlockList, Ordered: true, Items: []document.Item{{Text: "first step"}, {Text: "second step"}, {Text: "third step"}}},
			{Type: document.BlockHeading, Level: 3, Text: "Facts"},
			{Type: document.BlockKV, Items: []document.Item{{Key: "Owner", Value: "Finance team", IsKV: true}, {Key: "Status", Value: "Final – approved", IsKV: true}}},
			{Type: document.BlockChart, Kind: document.ChartBar, Title: "Revenue", Labels: []string{"Jan", "Feb", "Mar"},
				Series: []document.Series{{Name: "2024", Values: []float64{3, 5, 4}}, {Name: "2025", Values: []float64{4, 6, 7}}}},
			{Type: document.BlockImage, DataBase64: testImage(t, 300, 150, "png"), Caption: "Figure one caption"},
			{Type: document.BlockImage, DataBase64: testImage(t, 1600, 600, "jpeg"), Caption: "Wide photo caption"},
			{Type: document.BlockPageBreak},
			{Type: document.BlockHeading, Level: 1, Text: "Inventory"},
			{Type: document.BlockTable, Columns: []string{"Item ID", "Quantity", "Description ünïcode"}, Rows: rows},
			{Type: document.BlockParagraph, Text: "Closing paragraph."},
		},
	}
	if errs := doc.Validate("document", 20); len(errs) > 0 {
		t.Fatalf("test document invalid: %v", errs)
	}
	return doc
}

func cellJSON(t testing.TB, raw string) document.Cell {
	t.Helper()
	var c document.Cell
	if err := c.UnmarshalJSON([]byte(raw)); err != nil {
		t.Fatal(err)
	}
	return c
}

func renderDOCX(t testing.TB, doc *document.Document, o Options) ([]byte, Result) {
	t.Helper()
	var buf bytes.Buffer
	res, err := DOCX(&buf, doc, o)
	if err != nil {
		t.Fatalf("DOCX: %v", err)
	}
	return buf.Bytes(), res
}

// zipParts returns every part of a package by name.
func zipParts(t testing.TB, data []byte) (map[string][]byte, []*zip.File) {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("not a zip: %v", err)
	}
	parts := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		parts[f.Name] = b
	}
	return parts, zr.File
}

// wellFormed reads every token of an XML part.
func wellFormed(data []byte) error {
	dec := xml.NewDecoder(bytes.NewReader(data))
	for {
		_, err := dec.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func TestDOCXPackage(t *testing.T) {
	doc := docxTestDoc(t)
	data, res := renderDOCX(t, doc, Options{Created: docxCreated})
	if len(res.Warnings) > 0 {
		t.Errorf("warnings for a valid document: %v", res.Warnings)
	}
	parts, files := zipParts(t, data)
	for name, b := range parts {
		if strings.HasSuffix(name, ".xml") || strings.HasSuffix(name, ".rels") {
			if err := wellFormed(b); err != nil {
				t.Errorf("%s is not well-formed: %v", name, err)
			}
		}
	}
	for _, f := range files {
		if !f.Modified.Equal(docxCreated) {
			t.Errorf("%s: zip time %v, want %v", f.Name, f.Modified, docxCreated)
			break
		}
	}

	// Properties come from the document; nothing of the template's stays.
	core := string(parts["docProps/core.xml"])
	for _, want := range []string{
		"<dc:title>Quarterly report Q1</dc:title>", "<dc:creator>Ada Lovelace</dc:creator>",
		"<dc:subject>Sales figures</dc:subject>", "<cp:keywords>sales, q1</cp:keywords>",
		`<dcterms:created xsi:type="dcterms:W3CDTF">2025-03-04T05:06:08Z</dcterms:created>`,
		`<dcterms:modified xsi:type="dcterms:W3CDTF">2025-03-04T05:06:08Z</dcterms:modified>`,
	} {
		if !strings.Contains(core, want) {
			t.Errorf("core.xml lacks %s:\n%s", want, core)
		}
	}
	for name, b := range parts {
		for _, foreign := range []string{"2013-", "gomutex", "godocx", "Macintosh", "lastModifiedBy", "thumbnail"} {
			if bytes.Contains(b, []byte(foreign)) && !strings.HasPrefix(name, "word/media/") {
				t.Errorf("%s holds template leftover %q", name, foreign)
			}
		}
	}
	for name := range parts {
		if strings.Contains(name, "thumbnail") || strings.HasPrefix(name, "customXml/") || strings.Contains(name, "stylesWithEffects") {
			t.Errorf("template part %s kept", name)
		}
	}
	// Without an author Groundwork is the creator; without Created no
	// date is made up.
	anon, _ := renderDOCX(t, &document.Document{Title: "T", Blocks: doc.Blocks[:1]}, Options{})
	anonParts, _ := zipParts(t, anon)
	if c := string(anonParts["docProps/core.xml"]); !strings.Contains(c, "<dc:creator>Groundwork</dc:creator>") || strings.Contains(c, "dcterms:created") {
		t.Errorf("no author and no date: core.xml\n%s", c)
	}

	// Every relationship to a part points at a part that exists, and
	// every part has a content type.
	ct := string(parts["[Content_Types].xml"])
	relRe := regexp.MustCompile(`Target="([^"]+)"( TargetMode="External")?`)
	for name, base := range map[string]string{"_rels/.rels": "", "word/_rels/document.xml.rels": "word/"} {
		for _, m := range relRe.FindAllStringSubmatch(string(parts[name]), -1) {
			if m[2] != "" {
				continue
			}
			if _, ok := parts[base+m[1]]; !ok {
				t.Errorf("%s points at missing part %s", name, base+m[1])
			}
		}
	}
	for name := range parts {
		ext := name[strings.LastIndex(name, ".")+1:]
		if !strings.Contains(ct, `PartName="/`+name+`"`) && !strings.Contains(ct, `Extension="`+ext+`"`) {
			t.Errorf("part %s has no content type", name)
		}
	}
	for _, ext := range []string{"png", "jpeg", "xml", "rels"} {
		if n := strings.Count(ct, `Extension="`+ext+`"`); n != 1 {
			t.Errorf("content types declare %q %d times", ext, n)
		}
	}

	body := string(parts["word/document.xml"])
	for _, want := range []string{
		`<w:pStyle w:val="Title">`, `<w:pStyle w:val="Heading1">`, `<w:pStyle w:val="Heading2">`, `<w:pStyle w:val="Heading3">`,
		`<w:numPr>`, `<w:tblHeader`, `<w:br>`, `<w:tab>`, `<w:drawing>`, `w:type="page"`, `<w:footerReference w:type="default"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("document.xml lacks %s", want)
		}
	}
	// The header row, and only it, repeats.
	if n := strings.Count(body, "<w:tblHeader"); n != 1 {
		t.Errorf("%d rows marked as header, want 1", n)
	}
	rels := string(parts["word/_rels/document.xml.rels"])
	for _, want := range []string{
		`Target="https://example.com/report?q=1" TargetMode="External"`, `Target="mailto:team@example.com" TargetMode="External"`,
		`Target="footer1.xml"`, `Target="media/image1.png"`, `Target="media/image2.png"`, `Target="media/image3.jpeg"`,
	} {
		if !strings.Contains(rels, want) {
			t.Errorf("document.xml.rels lacks %s", want)
		}
	}
	footer := string(parts["word/footer1.xml"])
	if !strings.Contains(footer, " PAGE ") || !strings.Contains(footer, " NUMPAGES ") {
		t.Errorf("footer lacks page fields:\n%s", footer)
	}

	// Same input, same bytes.
	again, _ := renderDOCX(t, docxTestDoc(t), Options{Created: docxCreated})
	if !bytes.Equal(data, again) {
		t.Error("two renders of one document differ")
	}
}

func TestDOCXProgress(t *testing.T) {
	doc := &document.Document{Title: "Many"}
	for i := range 120 {
		doc.Blocks = append(doc.Blocks, document.Block{Type: document.BlockParagraph, Text: fmt.Sprint("p", i)})
	}
	var calls [][2]int
	_, err := DOCX(io.Discard, doc, Options{Progress: func(done, total int) error {
		calls = append(calls, [2]int{done, total})
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	if want := [][2]int{{50, 120}, {100, 120}, {120, 120}}; fmt.Sprint(calls) != fmt.Sprint(want) {
		t.Errorf("progress calls %v, want %v", calls, want)
	}

	stop := errors.New("activity canceled")
	var w bytes.Buffer
	_, err = DOCX(&w, doc, Options{Progress: func(done, total int) error { return stop }})
	if !errors.Is(err, ErrCanceled) || !errors.Is(err, stop) {
		t.Errorf("err = %v, want ErrCanceled wrapping the progress error", err)
	}
	if w.Len() != 0 {
		t.Errorf("canceled render wrote %d bytes", w.Len())
	}
}

func TestDOCXWarnings(t *testing.T) {
	doc := &document.Document{Title: "Odd", Blocks: []document.Block{
		{Type: "video"},
		{Type: document.BlockImage, DataBase64: "not validated"},
		{Type: document.BlockChart, Kind: document.ChartPie},
		{Type: document.BlockTable, Columns: []string{"a", "b"}, Rows: [][]document.Cell{{document.StringCell("only one")}}},
		{Type: document.BlockParagraph, Spans: []document.Span{{Text: "bad link", Link: "javascript:alert(1)"}}},
		{Type: document.BlockParagraph, Text: "bell\x07 and nul\x00"},
	}}
	data, res := renderDOCX(t, doc, Options{})
	joined := strings.Join(res.Warnings, "\n")
	for _, want := range []string{`"video"`, "image", "chart", "one cell per column", "javascript:", "control character"} {
		if !strings.Contains(joined, want) {
			t.Errorf("no warning mentioning %q in:\n%s", want, joined)
		}
	}
	parts, _ := zipParts(t, data)
	body := string(parts["word/document.xml"])
	if !strings.Contains(body, "bad link") || !strings.Contains(body, "bell and nul") {
		t.Error("text around dropped parts was lost")
	}
	if strings.Contains(string(parts["word/_rels/document.xml.rels"]), "javascript") {
		t.Error("javascript: link kept")
	}
}

// TestDOCXLargeTable checks a 100,000-row table is streamed: memory stays
// far below what building it in godocx structs takes (over 2 GB), and
// progress moves while rows are written and can stop them.
func TestDOCXLargeTable(t *testing.T) {
	if testing.Short() {
		t.Skip("renders 500,000 cells")
	}
	rows := make([][]document.Cell, 100_000)
	for i := range rows {
		rows[i] = []document.Cell{document.StringCell(fmt.Sprint("row ", i)), cellJSON(t, fmt.Sprint(i)),
			document.StringCell("some text"), document.StringCell("x"), document.StringCell("yy")}
	}
	doc := document.FromTable("Big", []string{"a", "b", "c", "d", "e"}, rows)
	var calls [][2]int
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	data, _ := renderDOCX(t, doc, Options{Progress: func(done, total int) error {
		calls = append(calls, [2]int{done, total})
		return nil
	}})
	runtime.ReadMemStats(&after)
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 400<<20 {
		t.Errorf("allocated %d MB for 500,000 cells", alloc>>20)
	}
	parts, _ := zipParts(t, data)
	if n := bytes.Count(parts["word/document.xml"], []byte("<w:tr>")); n != 100_001 {
		t.Errorf("%d rows, want a header and 100000 data rows", n)
	}
	if len(calls) < 20 || calls[len(calls)-1] != [2]int{1001, 1001} {
		t.Errorf("progress calls %v…, want about 20 ending at 1001 of 1001", calls[:min(len(calls), 5)])
	}
	for i := 1; i < len(calls); i++ {
		if calls[i][0] < calls[i-1][0] {
			t.Fatalf("progress went back: %v", calls)
		}
	}
	stop := errors.New("stop")
	_, err := DOCX(io.Discard, doc, Options{Progress: func(done, total int) error {
		if done > 500 {
			return stop
		}
		return nil
	}})
	if !errors.Is(err, ErrCanceled) || !errors.Is(err, stop) {
		t.Errorf("stopping mid-table: err = %v", err)
	}
}

// sofficePDFs converts DOCX files to PDF with one LibreOffice run (it
// takes seconds to start) in a fresh profile, so parallel test runs do not
// share one. It skips the test when LibreOffice or poppler is missing.
func sofficePDFs(t *testing.T, docs map[string][]byte) map[string]string {
	t.Helper()
	soffice, err := exec.LookPath("soffice")
	if err != nil {
		t.Skip("soffice (LibreOffice) not installed: cannot check DOCX files open and render")
	}
	for _, tool := range []string{"pdftotext", "pdfinfo", "pdfimages", "pdffonts"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s (poppler-utils) not installed: cannot read converted PDFs", tool)
		}
	}
	dir := t.TempDir()
	args := []string{"-env:UserInstallation=file://" + filepath.Join(dir, "profile"), "--headless", "--convert-to", "pdf", "--outdir", filepath.Join(dir, "out")}
	for name, data := range docs {
		p := filepath.Join(dir, name+".docx")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, p)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, soffice, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("soffice: %v\n%s", err, out)
	}
	pdfs := map[string]string{}
	for name := range docs {
		p := filepath.Join(dir, "out", name+".pdf")
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("LibreOffice did not convert %s.docx: %v\n%s", name, err, out)
		}
		pdfs[name] = p
	}
	return pdfs
}

func runTool(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).Output()
	if err != nil {
		t.Fatalf("%s %v: %v", name, args, err)
	}
	return string(out)
}

// pdfPages returns the text of each page, whitespace collapsed.
func pdfPages(t *testing.T, pdf string) []string {
	t.Helper()
	pages := strings.Split(runTool(t, "pdftotext", "-enc", "UTF-8", pdf, "-"), "\f")
	if len(pages) > 0 && strings.TrimSpace(pages[len(pages)-1]) == "" {
		pages = pages[:len(pages)-1]
	}
	for i, p := range pages {
		pages[i] = collapseSpace(p)
	}
	return pages
}

func collapseSpace(s string) string { return strings.Join(strings.Fields(s), " ") }

// docxTexts lists every piece of text a document shows: title block,
// headings, paragraphs, list items, kv keys and values, captions, and in
// cells the table's header and cells. A table cell may wrap, and then text
// extraction interleaves its lines with the next cells', so cell text is
// listed word by word.
func docxTexts(doc *document.Document) (texts, cellWords []string) {
	add := func(s string) {
		if s = collapseSpace(s); s != "" {
			texts = append(texts, s)
		}
	}
	addCell := func(s string) { cellWords = append(cellWords, strings.Fields(s)...) }
	add(doc.Title)
	add(doc.Subtitle)
	add(doc.Author)
	for _, b := range doc.Blocks {
		switch b.Type {
		case document.BlockHeading:
			add(b.Text)
		case document.BlockParagraph:
			if len(b.Spans) == 0 {
				add(b.Text)
				break
			}
			var sb strings.Builder
			for _, s := range b.Spans {
				sb.WriteString(s.Text)
			}
			add(sb.String())
		case document.BlockList:
			for _, it := range b.Items {
				add(it.Text)
			}
		case document.BlockKV:
			for _, it := range b.Items {
				add(it.Key)
				add(it.Value)
			}
		case document.BlockTable:
			for _, c := range b.Columns {
				addCell(c)
			}
			for _, r := range b.Rows {
				for _, c := range r {
					addCell(c.Text())
				}
			}
		case document.BlockImage:
			add(b.Caption)
		}
	}
	return texts, cellWords
}

// checkConverted asserts a converted PDF shows all of doc's text, page
// numbers in the footer and the document's title and author.
func checkConverted(t *testing.T, doc *document.Document, pdf string) []string {
	t.Helper()
	pages := pdfPages(t, pdf)
	// Without footers, so a paragraph running over a page break reads
	// as one.
	footer := regexp.MustCompile(` ?Page \d+ of \d+ ?`)
	var body []string
	for _, p := range pages {
		body = append(body, footer.ReplaceAllString(p, " "))
	}
	all := collapseSpace(strings.Join(body, " "))
	texts, cellWords := docxTexts(doc)
	words := map[string]bool{}
	for _, w := range strings.Fields(all) {
		words[w] = true
	}
	missing := 0
	for _, s := range texts {
		if !strings.Contains(all, s) {
			if missing++; missing <= 10 {
				t.Errorf("converted PDF lacks %q", s)
			}
		}
	}
	for _, w := range cellWords {
		if !words[w] {
			if missing++; missing <= 10 {
				t.Errorf("converted PDF lacks table word %q", w)
			}
		}
	}
	for i, p := range pages {
		if want := fmt.Sprintf("Page %d of %d", i+1, len(pages)); !strings.Contains(p, want) {
			t.Errorf("page %d lacks footer %q", i+1, want)
		}
	}
	info := runTool(t, "pdfinfo", pdf)
	if !strings.Contains(info, doc.Title) {
		t.Errorf("PDF title is not %q:\n%s", doc.Title, info)
	}
	return pages
}

// TestDOCXLibreOffice opens produced files in LibreOffice, the reader the
// issue names, and checks what it lays out.
func TestDOCXLibreOffice(t *testing.T) {
	if testing.Short() {
		t.Skip("LibreOffice conversion is slow")
	}
	doc := docxTestDoc(t)
	data, _ := renderDOCX(t, doc, Options{Created: docxCreated})
	sample := sampleReport()
	sampleData, res := renderDOCX(t, sample, Options{Created: docxCreated})
	if len(res.Warnings) > 0 {
		t.Errorf("sample report warnings: %v", res.Warnings)
	}
	pdfs := sofficePDFs(t, map[string][]byte{"test": data, "sample": sampleData})

	pages := checkConverted(t, doc, pdfs["test"])
	for _, b := range doc.Blocks {
		if b.Type == document.BlockTable {
			checkHeaderRepeats(t, "test", pages, `R-\d{3}`, b.Columns)
		}
	}
	// Two images and one chart are embedded and laid out.
	if imgs := strings.Count(runTool(t, "pdfimages", "-list", pdfs["test"]), "\n") - 2; imgs != 3 {
		t.Errorf("PDF holds %d images, want 3 (2 images and a chart)", imgs)
	}
	fonts := runTool(t, "pdffonts", pdfs["test"])
	if !strings.Contains(fonts, "Bold") || !strings.Contains(fonts, "Italic") {
		t.Errorf("no bold and italic fonts used:\n%s", fonts)
	}

	pages = checkConverted(t, sample, pdfs["sample"])
	pictures := 0
	for _, b := range sample.Blocks {
		switch b.Type {
		case document.BlockTable:
			checkHeaderRepeats(t, "sample", pages, `Account \d{3}`, b.Columns)
		case document.BlockImage, document.BlockChart:
			pictures++
		}
	}
	if imgs := strings.Count(runTool(t, "pdfimages", "-list", pdfs["sample"]), "\n") - 2; imgs != pictures {
		t.Errorf("sample PDF holds %d images, want %d (images and charts)", imgs, pictures)
	}
}

// checkHeaderRepeats asserts that every page showing a table row (text
// matching rowPattern) also shows the table's header, and that the table
// spans several pages.
func checkHeaderRepeats(t *testing.T, name string, pages []string, rowPattern string, header []string) {
	t.Helper()
	re := regexp.MustCompile(rowPattern)
	spans := 0
	for i, p := range pages {
		if !re.MatchString(p) {
			continue
		}
		spans++
		for _, h := range header {
			if !strings.Contains(p, h) {
				t.Errorf("%s: page %d shows table rows but not header %q", name, i+1, h)
			}
		}
	}
	if spans < 2 {
		t.Errorf("%s: table on %d page(s); the test needs it to span several", name, spans)
	}
}

// FuzzDOCX renders arbitrary, unvalidated documents: no panic, and the
// output is a zip whose parts are well-formed XML.
func FuzzDOCX(f *testing.F) {
	f.Add([]byte("hello"))
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16})
	f.Add([]byte("\x03\x05\x07\x01\x02\xff\xfe\x00\x10\x20table chart pie"))
	f.Add(bytes.Repeat([]byte{5, 3, 200, 7}, 40))
	f.Fuzz(func(t *testing.T, seed []byte) {
		doc := fuzzDocument(seed)
		var buf bytes.Buffer
		start := time.Now()
		if _, err := DOCX(&buf, doc, Options{}); err != nil {
			t.Fatalf("DOCX: %v", err)
		}
		if time.Since(start) > 3*time.Second {
			t.Fatalf("SLOW %v", time.Since(start))
		}
		parts, _ := zipParts(t, buf.Bytes())
		body, ok := parts["word/document.xml"]
		if !ok {
			t.Fatal("no word/document.xml")
		}
		for name, b := range parts {
			if strings.HasSuffix(name, ".xml") || strings.HasSuffix(name, ".rels") {
				if err := wellFormed(b); err != nil {
					t.Fatalf("%s: %v\n%.2000s", name, err, body)
				}
			}
		}
	})
}

// fuzzDocument builds a document from fuzz bytes, including what
// validation would refuse: unknown types, bad levels, invalid UTF-8,
// control characters, odd links, ragged tables and broken charts.
func fuzzDocument(seed []byte) *document.Document {
	pos := 0
	next := func() int {
		if pos >= len(seed) {
			return 0
		}
		pos++
		return int(seed[pos-1])
	}
	pool := []string{"", "plain", docxUTF8, "a\nb\r\nc\rd\te", "\x00\x01\x1f\ufffe", "\xff\xfe bad utf8", "<&>\"']]>", "🙂 emoji", "مرحبا", "  spaced  "}
	text := func() string {
		n := next()
		if n%7 == 6 && pos < len(seed) {
			// Raw bytes from the input, whatever they are.
			end := min(len(seed), pos+next()%32)
			s := string(seed[pos:end])
			pos = end
			return s
		}
		return pool[n%len(pool)]
	}
	links := []string{"", "https://example.com/x y", "mailto:a@b.c", "javascript:alert(1)", "http://", "https://exa mple.com/%zz", "ftp://x", "https://example.com/\x00"}
	doc := &document.Document{Title: text(), Subtitle: text(), Author: text(), Subject: text(), Keywords: text()}
	tinyPNG := func() []byte {
		var buf bytes.Buffer
		_ = png.Encode(&buf, image.NewGray(image.Rect(0, 0, 1+next()%5, 1+next()%5)))
		return buf.Bytes()
	}
	for range next() % 12 {
		var b document.Block
		kinds := []document.BlockType{"heading", "paragraph", "list", "table", "kv", "chart", "image", "page_break", "", "bogus"}
		b.Type = kinds[next()%len(kinds)]
		b.Level = next()%6 - 1
		b.Text = text()
		b.Ordered = next()%2 == 0
		b.Caption = text()
		b.Title = text()
		for range next() % 4 {
			b.Spans = append(b.Spans, document.Span{Text: text(), Bold: next()%2 == 0, Italic: next()%2 == 0, Link: links[next()%len(links)]})
		}
		for range next() % 4 {
			b.Items = append(b.Items, document.Item{Text: text(), Key: text(), Value: text(), IsKV: next()%2 == 0})
		}
		for range next() % 4 {
			b.Columns = append(b.Columns, text())
		}
		for range next() % 5 {
			var row []document.Cell
			for range next() % 5 {
				row = append(row, document.StringCell(text()))
			}
			b.Rows = append(b.Rows, row)
		}
		b.Kind = []document.ChartKind{"bar", "line", "pie", ""}[next()%4]
		for range next() % 4 {
			b.Labels = append(b.Labels, text())
		}
		vals := []float64{0, 1, -3, 1e308, -1e308, 5e-324, 42}
		for range next() % 3 {
			s := document.Series{Name: text()}
			for range next() % 5 {
				s.Values = append(s.Values, vals[next()%len(vals)])
			}
			b.Series = append(b.Series, s)
		}
		switch next() % 3 {
		case 0:
			b.SetImage(tinyPNG())
		case 1:
			b.SetImage([]byte(text()))
		}
		doc.Blocks = append(doc.Blocks, b)
	}
	return doc
}
