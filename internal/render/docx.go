package render

import (
	"bytes"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gomutex/godocx/docx"
	"github.com/gomutex/godocx/wml/ctypes"

	"github.com/groundwork-dev/groundwork/internal/document"
)

// Page geometry of a DOCX, in twips (1/20 pt): A4 with 2 cm margins, the
// page the PDF renderer lays out, so both files paginate alike.
const (
	docxPageW  = 11906
	docxPageH  = 16838
	docxMargin = 1134
	docxTextW  = docxPageW - 2*docxMargin
	docxTextH  = docxPageH - 2*docxMargin
	emuPerTwip = 635
)

const (
	// docxMaxWarnings caps Result.Warnings so a pathological document
	// cannot grow it without bound.
	docxMaxWarnings = 50
	// docxProgressEvery is how many work units pass between Progress
	// calls.
	docxProgressEvery = 50
	// docxRowsPerUnit is how many table rows count as one work unit, so
	// progress keeps moving while a long table is written.
	docxRowsPerUnit = 100
)

// DOCX writes doc to w as a Word document: the document's title and
// headings use Word's built-in Title and Heading 1–3 styles (so the
// navigation pane works), tables repeat their header row on every page,
// charts are embedded as PNG images and the footer numbers pages.
//
// Progress counts work units: one per block, plus one per 100 rows of each
// table. Tables are streamed into the file rather than built in memory
// (godocx holds about 2 KB per cell, too much for a 100,000-row export),
// so a cancellation may leave a partial file in w. Result.Pages is 0: only
// a word processor knows the page count.
func DOCX(w io.Writer, doc *document.Document, o Options) (Result, error) {
	rd, err := docxNewRoot()
	if err != nil {
		return Result{}, err
	}
	d := &docxWriter{rd: rd, links: map[string]string{}, progress: docxProgress{fn: o.Progress}}
	for i := range doc.Blocks {
		d.progress.total += docxUnits(&doc.Blocks[i])
	}
	if err := d.preparePackage(doc, o.Created); err != nil {
		return Result{}, err
	}
	d.titleBlock(doc)
	for i := range doc.Blocks {
		d.block(i, &doc.Blocks[i])
		if err := d.progress.add(1); err != nil {
			return Result{}, err
		}
	}
	var buf bytes.Buffer
	if err := rd.Write(&buf); err != nil {
		return Result{}, fmt.Errorf("docx: write package: %w", err)
	}
	// godocx zips in memory with placeholders for tables; the repack
	// streams the tables in and stamps entries with Created, so the same
	// input gives the same bytes.
	if err := d.repack(w, buf.Bytes(), o.Created); err != nil {
		return Result{}, err
	}
	if err := d.progress.finish(); err != nil {
		return Result{}, err
	}
	if d.removed > 0 {
		d.warnf("removed %d control character(s) that Word documents cannot hold", d.removed)
	}
	return Result{Warnings: d.warnings}, nil
}

// docxWriter accumulates one document.
type docxWriter struct {
	rd       *docx.RootDoc
	warnings []string
	dropped  int
	progress docxProgress
	// links maps a URL to its relationship ID, so a link used many times
	// is one relationship.
	links map[string]string
	// images counts embedded pictures; each needs a unique part name and
	// drawing ID.
	images int
	hasPNG bool
	// tables are written when the package is repacked, in this order.
	tables []docxTable
	// removed counts control characters dropped from text.
	removed int
}

// docxUnits is the work a block stands for in progress reports.
func docxUnits(b *document.Block) int {
	if b.Type == document.BlockTable {
		return 1 + len(b.Rows)/docxRowsPerUnit
	}
	return 1
}

// docxProgress reports work units done to Options.Progress every
// docxProgressEvery units.
type docxProgress struct {
	fn          func(done, total int) error
	done, total int
	reported    int
}

func (p *docxProgress) add(n int) error {
	p.done += n
	if p.fn == nil || p.done-p.reported < docxProgressEvery {
		return nil
	}
	return p.report()
}

func (p *docxProgress) finish() error {
	if p.fn == nil {
		return nil
	}
	p.done = p.total
	return p.report()
}

func (p *docxProgress) report() error {
	p.reported = p.done
	if err := p.fn(p.done, p.total); err != nil {
		return fmt.Errorf("docx: %w: %w", ErrCanceled, err)
	}
	return nil
}

// warnf records a warning, up to docxMaxWarnings of them.
func (d *docxWriter) warnf(format string, args ...any) {
	if len(d.warnings) < docxMaxWarnings {
		d.warnings = append(d.warnings, fmt.Sprintf(format, args...))
		return
	}
	d.dropped++
	if d.dropped == 1 {
		d.warnings = append(d.warnings, "more warnings were left out")
	}
}

// titleBlock sets title, subtitle and author at the top of page 1, as the
// PDF does.
func (d *docxWriter) titleBlock(doc *document.Document) {
	if doc.Title != "" {
		d.styledPara("Title", doc.Title)
	}
	if doc.Subtitle != "" {
		d.styledPara("Subtitle", doc.Subtitle)
	}
	if doc.Author != "" {
		p := d.rd.AddEmptyParagraph().GetCT()
		r := d.run(doc.Author, false, true)
		r.Property.Color = ctypes.NewColor("6E6E6E")
		p.Children = append(p.Children, ctypes.ParagraphChild{Run: r})
	}
}

func (d *docxWriter) block(i int, b *document.Block) {
	switch b.Type {
	case document.BlockHeading:
		level := min(max(b.Level, 1), 3)
		d.styledPara("Heading"+strconv.Itoa(level), b.Text)
	case document.BlockParagraph:
		d.paragraph(b)
	case document.BlockList:
		d.list(b)
	case document.BlockTable, document.BlockKV:
		d.table(i, b)
	case document.BlockChart:
		d.chart(i, b)
	case document.BlockImage:
		d.image(i, b)
	case document.BlockPageBreak:
		d.rd.AddPageBreak()
	default:
		d.warnf("block %d: unknown type %q left out", i, b.Type)
	}
}

// styledPara adds a paragraph of one plain run in a paragraph style.
func (d *docxWriter) styledPara(style, text string) *docx.Paragraph {
	p := d.rd.AddEmptyParagraph()
	p.Style(style)
	d.addRun(p.GetCT(), text, false, false)
	return p
}

func (d *docxWriter) paragraph(b *document.Block) {
	p := d.rd.AddEmptyParagraph().GetCT()
	if len(b.Spans) == 0 {
		d.addRun(p, b.Text, false, false)
		return
	}
	for _, s := range b.Spans {
		if s.Link == "" {
			d.addRun(p, s.Text, s.Bold, s.Italic)
			continue
		}
		target, ok := docxLinkTarget(s.Link)
		if !ok {
			d.warnf("link %q is not an absolute http, https or mailto URL; its text is kept without the link", s.Link)
			d.addRun(p, s.Text, s.Bold, s.Italic)
			continue
		}
		r := d.run(s.Text, s.Bold, s.Italic)
		if r.Property == nil {
			r.Property = &ctypes.RunProperty{}
		}
		r.Property.Style = ctypes.NewRunStyle("Hyperlink")
		p.Children = append(p.Children, ctypes.ParagraphChild{Link: &ctypes.Hyperlink{ID: d.linkRel(target), Run: r}})
	}
}

// docxLinkTarget normalises a link for a relationship target, which must
// be a valid URI (Word reports a document with a malformed one as
// corrupt), and allows only links a reader can follow without running
// anything.
func docxLinkTarget(s string) (string, bool) {
	u, err := url.Parse(s)
	if err != nil {
		return "", false
	}
	switch u.Scheme {
	case "http", "https":
		if u.Host == "" {
			return "", false
		}
	case "mailto":
		if u.Opaque == "" {
			return "", false
		}
	default:
		return "", false
	}
	t := u.String()
	for _, c := range t {
		if !docxXMLChar(c) || c == utf8.RuneError {
			return "", false
		}
	}
	return t, true
}

// linkRel returns the ID of an external hyperlink relationship to target.
func (d *docxWriter) linkRel(target string) string {
	if id, ok := d.links[target]; ok {
		return id
	}
	id := d.addRel(docxRelHyperlink, target, true)
	d.links[target] = id
	return id
}

// addRel adds a relationship of the main document part and returns its ID.
func (d *docxWriter) addRel(typ, target string, external bool) string {
	doc := d.rd.Document
	id := "rId" + strconv.Itoa(doc.IncRelationID())
	rel := &docx.Relationship{ID: id, Type: typ, Target: target}
	if external {
		rel.TargetMode = "External"
	}
	doc.DocRels.Relationships = append(doc.DocRels.Relationships, rel)
	return id
}

func (d *docxWriter) list(b *document.Block) {
	// Each list is its own numbering instance, so a numbered list starts
	// at 1 rather than continuing the previous one. godocx maps abstract
	// 1 to its decimal and 2 to its bullet definition.
	abstract := 2
	if b.Ordered {
		abstract = 1
	}
	numID := d.rd.NewListInstance(abstract)
	for _, it := range b.Items {
		text := it.Text
		if it.IsKV {
			text = it.Key + ": " + it.Value
		}
		p := d.rd.AddEmptyParagraph()
		p.Style("ListParagraph")
		p.Numbering(numID, 0)
		d.addRun(p.GetCT(), text, false, false)
	}
}

// addRun appends a run of text to a paragraph.
func (d *docxWriter) addRun(p *ctypes.Paragraph, text string, bold, italic bool) {
	p.Children = append(p.Children, ctypes.ParagraphChild{Run: d.run(text, bold, italic)})
}

// run builds a run of text; see segments for how text is split.
func (d *docxWriter) run(text string, bold, italic bool) *ctypes.Run {
	r := &ctypes.Run{}
	if bold || italic {
		r.Property = &ctypes.RunProperty{}
		if bold {
			r.Property.Bold = &ctypes.OnOff{}
		}
		if italic {
			r.Property.Italic = &ctypes.OnOff{}
		}
	}
	d.segments(text, func(kind docxSegment, s string) {
		switch kind {
		case docxText:
			r.Children = append(r.Children, ctypes.RunChild{Text: ctypes.TextFromString(s)})
		case docxBreak:
			r.Children = append(r.Children, ctypes.RunChild{Break: &ctypes.Break{}})
		case docxTab:
			r.Children = append(r.Children, ctypes.RunChild{Tab: &ctypes.Empty{}})
		}
	})
	return r
}

// docxSegment is a piece of run content.
type docxSegment int

const (
	docxText docxSegment = iota
	docxBreak
	docxTab
)

// segments splits text into what a run holds: line breaks and tabs become
// Word breaks and tabs (a newline inside w:t is just a space to Word), and
// control characters, which XML 1.0 cannot hold, are dropped and counted.
// Invalid UTF-8 stays as the visible replacement character.
func (d *docxWriter) segments(text string, emit func(kind docxSegment, s string)) {
	plain := true
	for _, c := range text {
		if c < 0x20 || c == utf8.RuneError || !docxXMLChar(c) {
			plain = false
			break
		}
	}
	if plain {
		// The common case, without copying.
		if text != "" {
			emit(docxText, text)
		}
		return
	}
	var sb strings.Builder
	flush := func() {
		if sb.Len() > 0 {
			emit(docxText, sb.String())
			sb.Reset()
		}
	}
	for i, c := range text {
		switch {
		case c == '\n' || (c == '\r' && !strings.HasPrefix(text[i+1:], "\n")):
			flush()
			emit(docxBreak, "")
		case c == '\r':
			// The CR of a CRLF; the LF makes the break.
		case c == '\t':
			flush()
			emit(docxTab, "")
		case c == utf8.RuneError:
			sb.WriteRune(c)
		case !docxXMLChar(c):
			d.removed++
		default:
			sb.WriteRune(c)
		}
	}
	flush()
}

// docxXMLChar reports whether XML 1.0 allows c in a document.
func docxXMLChar(c rune) bool {
	return c == 0x09 || c == 0x0A || c == 0x0D ||
		(c >= 0x20 && c <= 0xD7FF) || (c >= 0xE000 && c <= 0xFFFD) || (c >= 0x10000 && c <= 0x10FFFF)
}

// docxCleanXML drops what XML 1.0 cannot hold, for text written into
// package parts by hand (document properties, alt text).
func docxCleanXML(s string) string {
	return strings.Map(func(c rune) rune {
		if !docxXMLChar(c) {
			return -1
		}
		return c
	}, strings.ToValidUTF8(s, "\uFFFD"))
}
