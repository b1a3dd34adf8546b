package render

import (
	"bufio"
	"bytes"
	"fmt"
	"image/color"
	"io"
	"math"
	"strings"
	"unicode/utf16"

	"github.com/signintech/gopdf"

	"github.com/groundwork-dev/groundwork/internal/document"
)

// Page geometry and type scale, in points. A4 portrait with 2 cm side
// margins; the header and footer sit in the top and bottom margins.
const (
	pdfPageW          = 595.28
	pdfPageH          = 841.89
	pdfMarginX        = 56.0
	pdfContentW       = pdfPageW - 2*pdfMarginX
	pdfContentTop     = 72.0
	pdfContentBottom  = pdfPageH - 64
	pdfHeaderBaseline = 40.0
	pdfHeaderRuleY    = 48.0
	pdfFooterRuleY    = pdfPageH - 50
	pdfFooterBaseline = pdfPageH - 34
	pdfChromeSize     = 8.0

	pdfBodySize    = 10.5
	pdfBodyLeading = 1.45
)

// Colours of the page chrome and text.
var (
	pdfInk        = color.RGBA{33, 33, 33, 255}
	pdfMuted      = color.RGBA{110, 110, 110, 255}
	pdfHeadingCol = color.RGBA{20, 45, 80, 255}
	pdfAccent     = color.RGBA{0, 114, 178, 255}
	pdfLinkCol    = color.RGBA{0, 88, 176, 255}
	pdfRuleCol    = color.RGBA{205, 205, 205, 255}
	pdfWhite      = color.RGBA{255, 255, 255, 255}
)

// PDF writes doc to w as an A4 PDF: a title block on page 1, the blocks
// in order with automatic page breaks, the title in the header and
// "Page X of Y" in the footer of every page. Text is set in the embedded Go
// fonts, falling back to system CJK and symbol fonts per character; a
// character no font has is drawn as □ and reported in Result.Warnings. The
// output depends only on doc and o, so the same input gives the same bytes.
func PDF(w io.Writer, doc *document.Document, o Options) (Result, error) {
	fonts, err := defaultFonts()
	if err != nil {
		return Result{}, fmt.Errorf("pdf: load fonts: %w", err)
	}
	return renderPDF(w, doc, o, fonts)
}

// renderPDF is PDF with the font set as a parameter, so tests can render
// without the fallback fonts.
func renderPDF(w io.Writer, doc *document.Document, o Options, fonts *fontSet) (Result, error) {
	p := &pdfDoc{
		gp:    &gopdf.GoPdf{},
		m:     newTextMetrics(fonts),
		doc:   doc,
		opts:  o,
		title: cleanText(doc.Title, false),
	}
	p.gp.Start(gopdf.Config{PageSize: *gopdf.PageSizeA4, Unit: gopdf.UnitPT})
	p.layout()
	if p.err != nil {
		return Result{}, p.err
	}
	p.drawFooters()
	if p.err != nil {
		return Result{}, p.err
	}
	// Title, author, subject and keywords are added to the trailer by
	// pdfInfoWriter: gopdf's PdfInfo has no keywords and encodes characters
	// beyond U+FFFF wrongly.
	p.gp.SetInfo(gopdf.PdfInfo{
		Creator:      "Groundwork",
		Producer:     "Groundwork (gopdf)",
		CreationDate: o.Created,
	})
	if err := p.write(w); err != nil {
		return Result{}, err
	}
	res := Result{Pages: p.pages, Warnings: p.warnings}
	if msg := p.m.missingWarning(); msg != "" {
		res.Warnings = append(res.Warnings, msg)
	}
	if o.Progress != nil {
		if err := o.Progress(p.pages, p.pages); err != nil {
			return res, err
		}
	}
	return res, nil
}

// write serialises the document. It streams, except when a character
// beyond U+FFFF was used: then the file is buffered to repair gopdf's
// ToUnicode maps, which needs the whole file.
func (p *pdfDoc) write(w io.Writer) error {
	var buf bytes.Buffer
	out := w
	if p.m.astral {
		out = &buf
	}
	bw := bufio.NewWriterSize(out, 64<<10)
	iw := &pdfInfoWriter{w: bw, entries: pdfInfoEntries(p.doc)}
	if _, err := p.gp.WriteTo(iw); err != nil {
		return fmt.Errorf("pdf: write: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("pdf: write: %w", err)
	}
	if !iw.done {
		return fmt.Errorf("pdf: write: the document information dictionary was not found in gopdf's trailer")
	}
	if !p.m.astral {
		return nil
	}
	fixed, err := fixAstralToUnicode(buf.Bytes())
	if err != nil {
		return fmt.Errorf("pdf: repair text map: %w", err)
	}
	if _, err := w.Write(fixed); err != nil {
		return fmt.Errorf("pdf: write: %w", err)
	}
	return nil
}

// pdfDoc is the state of one PDF being laid out. Drawing errors are sticky
// in err: after the first one every drawing call is a no-op and layout
// loops stop, so the code reads top to bottom without an if per call.
type pdfDoc struct {
	gp    *gopdf.GoPdf
	m     *textMetrics
	doc   *document.Document
	opts  Options
	title string

	// pages is the number of pages started; y is the top of the free
	// space on the current one.
	pages int
	y     float64

	registered [numFaces]bool
	// the font and text colour last set in gopdf; SetFont scans every
	// object of the document, so calls are skipped when nothing changed.
	curFace  faceID
	curSize  float64
	hasFont  bool
	curColor color.RGBA
	hasColor bool

	warnings []string
	err      error
}

func (p *pdfDoc) fail(err error) {
	if p.err == nil {
		p.err = err
	}
}

func (p *pdfDoc) warn(format string, args ...any) {
	p.warnings = append(p.warnings, fmt.Sprintf(format, args...))
}

// newPage starts a page: reports progress (whose error stops rendering,
// returned as is), then draws the header.
func (p *pdfDoc) newPage() {
	if p.err != nil {
		return
	}
	if p.opts.Progress != nil {
		if err := p.opts.Progress(p.pages, 0); err != nil {
			p.fail(err)
			return
		}
	}
	p.gp.AddPage()
	p.pages++
	p.y = pdfContentTop
	// Drawing at once also gives every page its content stream in page
	// order, which drawFooters relies on (gopdf's SetPage counts streams).
	p.line(pdfMarginX, pdfHeaderRuleY, pdfPageW-pdfMarginX, pdfHeaderRuleY, 0.5, pdfRuleCol)
	if p.title != "" {
		t := p.fit(p.title, 0, pdfChromeSize, pdfContentW)
		p.drawText(pdfMarginX, pdfHeaderBaseline, t, 0, pdfChromeSize, pdfMuted)
	}
}

// drawFooters writes "Page X of Y" on every page once Y is known.
func (p *pdfDoc) drawFooters() {
	for i := 1; i <= p.pages && p.err == nil; i++ {
		if err := p.gp.SetPage(i); err != nil {
			p.fail(fmt.Errorf("pdf: footer of page %d: %w", i, err))
			return
		}
		p.line(pdfMarginX, pdfFooterRuleY, pdfPageW-pdfMarginX, pdfFooterRuleY, 0.5, pdfRuleCol)
		s := fmt.Sprintf("Page %d of %d", i, p.pages)
		w := p.m.width(s, 0, pdfChromeSize)
		p.drawText(pdfPageW-pdfMarginX-w, pdfFooterBaseline, s, 0, pdfChromeSize, pdfMuted)
	}
}

// atTop reports whether nothing has been drawn on the page yet.
func (p *pdfDoc) atTop() bool { return p.y <= pdfContentTop }

// gap adds vertical space between blocks, except at the top of a page.
func (p *pdfDoc) gap(h float64) {
	if !p.atTop() {
		p.y += h
	}
}

// ensure starts a new page unless h more points fit on this one. At the
// top of a page it does nothing: the content is taller than a page and
// the caller splits it.
func (p *pdfDoc) ensure(h float64) {
	if p.y+h > pdfContentBottom && !p.atTop() {
		p.newPage()
	}
}

func (p *pdfDoc) layout() {
	p.newPage()
	p.titleBlock()
	for i := range p.doc.Blocks {
		if p.err != nil {
			return
		}
		b := &p.doc.Blocks[i]
		switch b.Type {
		case document.BlockHeading:
			p.heading(b)
		case document.BlockParagraph:
			p.paragraph(b)
		case document.BlockList:
			p.list(b)
		case document.BlockKV:
			p.kv(b)
		case document.BlockTable:
			p.table(b)
		case document.BlockChart:
			p.chart(b)
		case document.BlockImage:
			p.image(b, i)
		case document.BlockPageBreak:
			if !p.atTop() {
				p.newPage()
			}
		default:
			p.warn("block %d: unknown type %q skipped", i, b.Type)
		}
	}
}

// titleBlock sets title, subtitle and author at the top of page 1.
func (p *pdfDoc) titleBlock() {
	if p.title == "" && p.doc.Subtitle == "" && p.doc.Author == "" {
		return
	}
	p.plainText(p.title, styleBold, 24, 1.2, pdfHeadingCol, 0)
	if s := cleanText(p.doc.Subtitle, true); s != "" {
		p.y += 4
		p.plainText(s, 0, 14, 1.3, pdfMuted, 0)
	}
	if s := cleanText(p.doc.Author, false); s != "" {
		p.y += 4
		p.plainText(s, styleItalic, pdfBodySize, 1.3, pdfMuted, 0)
	}
	p.y += 8
	p.line(pdfMarginX, p.y, pdfMarginX+pdfContentW, p.y, 1.5, pdfAccent)
	p.y += 18
}

// setFont makes face at size current, embedding the face on first use.
func (p *pdfDoc) setFont(face faceID, size float64) {
	if p.hasFont && p.curFace == face && p.curSize == size {
		return
	}
	f := p.m.face(face)
	if !p.registered[face] {
		if err := p.gp.AddTTFFontData(f.family, f.data); err != nil {
			p.fail(fmt.Errorf("pdf: embed font %s: %w", f.family, err))
			return
		}
		p.registered[face] = true
	}
	if err := p.gp.SetFont(f.family, "", size); err != nil {
		p.fail(fmt.Errorf("pdf: set font %s: %w", f.family, err))
		return
	}
	p.curFace, p.curSize, p.hasFont = face, size, true
}

func (p *pdfDoc) setTextColor(c color.RGBA) {
	if p.hasColor && p.curColor == c {
		return
	}
	p.gp.SetTextColor(c.R, c.G, c.B)
	p.curColor, p.hasColor = c, true
}

// drawText draws s with its baseline at y, switching faces where a
// character needs a fallback font, and returns the x after it.
func (p *pdfDoc) drawText(x, y float64, s string, st fontStyle, size float64, col color.RGBA) float64 {
	if p.err != nil || s == "" {
		return x
	}
	p.setTextColor(col)
	// Fast path: one face, nothing substituted — one text operator.
	first := p.m.choose(firstRune(s), st).face
	simple := true
	units := 0
	for _, r := range s {
		c := p.m.choose(r, st)
		if c.face != first || c.r != r {
			simple = false
			break
		}
		units += int(c.width)
	}
	if simple {
		p.emitText(x, y, s, first, size)
		return x + float64(units)*size/1000
	}
	var run strings.Builder
	runFace, runUnits := first, 0
	flush := func() {
		if run.Len() > 0 {
			p.emitText(x, y, run.String(), runFace, size)
			x += float64(runUnits) * size / 1000
		}
		run.Reset()
		runUnits = 0
	}
	for _, r := range s {
		c := p.m.choose(r, st)
		if c.face != runFace {
			flush()
			runFace = c.face
		}
		run.WriteRune(c.r)
		runUnits += int(c.width)
	}
	flush()
	return x
}

func (p *pdfDoc) emitText(x, y float64, s string, face faceID, size float64) {
	p.setFont(face, size)
	if p.err != nil {
		return
	}
	p.gp.SetXY(x, y)
	if err := p.gp.Text(s); err != nil {
		p.fail(fmt.Errorf("pdf: draw text: %w", err))
	}
}

func firstRune(s string) rune {
	for _, r := range s {
		return r
	}
	return ' '
}

// fit shortens s with an ellipsis so it is at most width wide.
func (p *pdfDoc) fit(s string, st fontStyle, size, width float64) string {
	if p.m.width(s, st, size) <= width {
		return s
	}
	r := []rune(s)
	ell := p.m.width("…", st, size)
	// Drop runes from the end until it fits; measuring the prefix once
	// per rune would be quadratic on a long title.
	total := p.m.width(s, st, size)
	for len(r) > 0 && total+ell > width {
		total -= p.m.width(string(r[len(r)-1]), st, size)
		r = r[:len(r)-1]
	}
	return strings.TrimRight(string(r), " ") + "…"
}

// line strokes a line in the current page's content stream.
func (p *pdfDoc) line(x1, y1, x2, y2, width float64, c color.RGBA) {
	if p.err != nil || !pdfFinite(x1, y1, x2, y2, width) {
		return
	}
	p.gp.SetStrokeColor(c.R, c.G, c.B)
	p.gp.SetLineWidth(width)
	p.gp.Line(x1, y1, x2, y2)
}

// fillRect fills a rectangle given by its top-left corner.
func (p *pdfDoc) fillRect(x, y, w, h float64, c color.RGBA) {
	if p.err != nil || w <= 0 || h <= 0 || !pdfFinite(x, y, w, h) {
		return
	}
	p.gp.SetFillColor(c.R, c.G, c.B)
	p.gp.RectFromUpperLeftWithStyle(x, y, w, h, "F")
}

// pdfFinite reports whether every value is a real coordinate within a
// million points of the page: a NaN or an exponent written into a content
// stream makes the page unreadable, and anything farther is off the page.
func pdfFinite(vs ...float64) bool {
	for _, v := range vs {
		if math.IsNaN(v) || math.IsInf(v, 0) || math.Abs(v) > 1e6 {
			return false
		}
	}
	return true
}

// pdfInfoEntries are the text entries of the document information
// dictionary.
func pdfInfoEntries(doc *document.Document) string {
	var b strings.Builder
	for _, kv := range [][2]string{
		{"Title", doc.Title}, {"Author", doc.Author}, {"Subject", doc.Subject}, {"Keywords", doc.Keywords},
	} {
		if v := cleanText(kv[1], false); v != "" {
			fmt.Fprintf(&b, "/%s %s\n", kv[0], pdfTextString(v))
		}
	}
	return b.String()
}

// pdfTextString encodes s as a PDF text string: UTF-16BE with a byte order
// mark, in hex so no character needs escaping.
func pdfTextString(s string) string {
	var b strings.Builder
	b.WriteString("<FEFF")
	for _, u := range utf16.Encode([]rune(s)) {
		fmt.Fprintf(&b, "%04X", u)
	}
	b.WriteString(">")
	return b.String()
}

// pdfInfoWriter adds entries to the /Info dictionary gopdf writes inline in
// the trailer. The trailer comes after the cross-reference table, so the
// added bytes move no object offsets. gopdf writes each trailer line with
// one call, which is what the writer matches on.
type pdfInfoWriter struct {
	w         io.Writer
	entries   string
	inTrailer bool
	done      bool
}

func (iw *pdfInfoWriter) Write(b []byte) (int, error) {
	if !iw.done {
		switch {
		case iw.inTrailer && string(b) == "/Info <<\n":
			iw.done = true
			if n, err := iw.w.Write(b); err != nil {
				return n, err
			}
			_, err := io.WriteString(iw.w, iw.entries)
			return len(b), err
		case string(b) == "trailer\n":
			iw.inTrailer = true
		}
	}
	return iw.w.Write(b)
}
