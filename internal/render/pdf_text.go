package render

import (
	"fmt"
	"image/color"
	"math"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/groundwork-dev/groundwork/internal/document"
)

// pdfFrag is a run of text in one style, optionally a link.
type pdfFrag struct {
	text string
	st   fontStyle
	link string
}

// pdfPlaced is a fragment positioned on a line, x from the line start.
type pdfPlaced struct {
	pdfFrag
	x, w float64
}

// pdfLine is one wrapped line.
type pdfLine struct {
	frags []pdfPlaced
	w     float64
}

// pdfWrapper breaks styled text into lines of at most maxW points: at spaces,
// at '\n', and inside a word only when the word alone is wider than a line.
// Words continue across fragments ("bold" + "ly"), so a style change never
// creates a break opportunity.
type pdfWrapper struct {
	m    *textMetrics
	size float64
	maxW float64

	lines []pdfLine
	cur   pdfLine
	x     float64

	word  []pdfFrag
	wordW float64

	// space is a pending inter-word space and the style it was typed in.
	space     bool
	spaceSt   fontStyle
	spaceLink string
}

// pdfWrap wraps frags; text must already be cleaned (cleanText).
func pdfWrap(m *textMetrics, frags []pdfFrag, size, maxW float64) []pdfLine {
	w := &pdfWrapper{m: m, size: size, maxW: math.Max(maxW, size)}
	for _, f := range frags {
		start := 0
		for i, r := range f.text {
			if r != ' ' && r != '\n' {
				continue
			}
			w.addWordPart(pdfFrag{text: f.text[start:i], st: f.st, link: f.link})
			start = i + 1
			w.flushWord()
			if r == '\n' {
				w.endLine()
				w.space = false
			} else if len(w.cur.frags) > 0 {
				w.space, w.spaceSt, w.spaceLink = true, f.st, f.link
			}
		}
		w.addWordPart(pdfFrag{text: f.text[start:], st: f.st, link: f.link})
	}
	w.flushWord()
	if len(w.cur.frags) > 0 || len(w.lines) == 0 {
		w.endLine()
	}
	return w.lines
}

func (w *pdfWrapper) addWordPart(f pdfFrag) {
	if f.text == "" {
		return
	}
	w.wordW += w.m.width(f.text, f.st, w.size)
	if n := len(w.word); n > 0 && w.word[n-1].st == f.st && w.word[n-1].link == f.link {
		w.word[n-1].text += f.text
		return
	}
	w.word = append(w.word, f)
}

func (w *pdfWrapper) endLine() {
	w.cur.w = w.x
	w.lines = append(w.lines, w.cur)
	w.cur = pdfLine{}
	w.x = 0
}

func (w *pdfWrapper) flushWord() {
	if len(w.word) == 0 {
		return
	}
	sp := 0.0
	if w.space && len(w.cur.frags) > 0 {
		sp = w.m.width(" ", w.spaceSt, w.size)
	}
	if len(w.cur.frags) > 0 && w.x+sp+w.wordW > w.maxW {
		w.endLine()
		sp = 0
	}
	if w.wordW > w.maxW {
		w.breakWord()
	} else {
		for i, f := range w.word {
			fw := w.m.width(f.text, f.st, w.size)
			if i == 0 {
				w.place(f, fw, sp)
			} else {
				w.place(f, fw, 0)
			}
		}
	}
	w.word = w.word[:0]
	w.wordW = 0
	w.space = false
}

// place appends f at the end of the current line after a gap of sp,
// merging it into the previous fragment when the style (and the space's
// style) match, so a line of plain text becomes one text operator.
func (w *pdfWrapper) place(f pdfFrag, fw, sp float64) {
	if n := len(w.cur.frags); n > 0 {
		last := &w.cur.frags[n-1]
		sameSpace := sp == 0 || (w.spaceSt == f.st && w.spaceLink == f.link)
		if last.st == f.st && last.link == f.link && sameSpace {
			if sp > 0 {
				last.text += " "
			}
			last.text += f.text
			last.w += sp + fw
			w.x += sp + fw
			return
		}
	}
	w.cur.frags = append(w.cur.frags, pdfPlaced{pdfFrag: f, x: w.x + sp, w: fw})
	w.x += sp + fw
}

// breakWord places a word wider than a line, breaking it between
// characters wherever the line is full.
func (w *pdfWrapper) breakWord() {
	for _, f := range w.word {
		start := 0
		partW := 0.0
		for i, r := range f.text {
			rw := w.m.width(string(r), f.st, w.size)
			if w.x+partW+rw > w.maxW && (w.x+partW > 0) {
				if i > start {
					w.place(pdfFrag{text: f.text[start:i], st: f.st, link: f.link}, partW, 0)
				}
				w.endLine()
				start, partW = i, 0
			}
			partW += rw
		}
		if start < len(f.text) {
			w.place(pdfFrag{text: f.text[start:], st: f.st, link: f.link}, partW, 0)
		}
	}
}

// pdfTextBox is how a run of wrapped lines is set.
type pdfTextBox struct {
	x       float64
	size    float64
	leading float64 // line height as a multiple of size
	color   color.RGBA
	// firstLine, when set, is called with the baseline of the first line
	// (list markers).
	firstLine func(baseline float64)
}

func (t pdfTextBox) lineH() float64 { return t.size * t.leading }

// pdfBaseline is where text sits in a line box of height lh starting at top.
func pdfBaseline(top, lh, size float64) float64 { return top + (lh-size)/2 + size*0.8 }

// drawLines sets lines from p.y down, breaking pages between lines and
// keeping at least two lines of a paragraph together at a page end.
func (p *pdfDoc) drawLines(lines []pdfLine, t pdfTextBox) {
	lh := t.lineH()
	if len(lines) >= 2 {
		p.ensure(2 * lh)
	} else {
		p.ensure(lh)
	}
	for i, ln := range lines {
		if p.err != nil {
			return
		}
		p.ensure(lh)
		bl := pdfBaseline(p.y, lh, t.size)
		if i == 0 && t.firstLine != nil {
			t.firstLine(bl)
		}
		p.drawLine(ln, t.x, p.y, bl, t.size, lh, t.color)
		p.y += lh
	}
}

// drawLine sets one line; link fragments are blue, underlined and
// clickable over their whole box.
func (p *pdfDoc) drawLine(ln pdfLine, x, top, bl, size, lh float64, col color.RGBA) {
	for i := 0; i < len(ln.frags); i++ {
		f := ln.frags[i]
		if f.link == "" {
			p.drawText(x+f.x, bl, f.text, f.st, size, col)
			continue
		}
		// A link may span several fragments (a bold word inside it): one
		// box and one underline from its first to its last fragment.
		j := i
		for j+1 < len(ln.frags) && ln.frags[j+1].link == f.link {
			j++
		}
		for k := i; k <= j; k++ {
			p.drawText(x+ln.frags[k].x, bl, ln.frags[k].text, ln.frags[k].st, size, pdfLinkCol)
		}
		x0, x1 := x+f.x, x+ln.frags[j].x+ln.frags[j].w
		p.fillRect(x0, bl+size*0.12, x1-x0, math.Max(0.5, size*0.06), pdfLinkCol)
		if u := pdfURL(f.link); u != "" && p.err == nil {
			p.gp.AddExternalLink(u, x0, top, x1-x0, lh)
		}
		i = j
	}
}

// plainText wraps and draws unstyled text across the content width.
func (p *pdfDoc) plainText(s string, st fontStyle, size, leading float64, col color.RGBA, indent float64) {
	if s == "" {
		return
	}
	lines := pdfWrap(p.m, []pdfFrag{{text: s, st: st}}, size, pdfContentW-indent)
	p.drawLines(lines, pdfTextBox{x: pdfMarginX + indent, size: size, leading: leading, color: col})
}

var pdfHeadingSizes = [4]float64{0, 18, 14, 12}

func (p *pdfDoc) heading(b *document.Block) {
	level := min(max(b.Level, 1), 3)
	size := pdfHeadingSizes[level]
	text := cleanText(b.Text, false)
	if strings.TrimSpace(text) == "" {
		return
	}
	p.gap(size * 0.9)
	lines := pdfWrap(p.m, []pdfFrag{{text: text, st: styleBold}}, size, pdfContentW)
	lh := size * 1.25
	// Keep the heading with the first lines of what follows it.
	p.ensure(float64(len(lines))*lh + 3*pdfBodySize*pdfBodyLeading)
	p.drawLines(lines, pdfTextBox{x: pdfMarginX, size: size, leading: 1.25, color: pdfHeadingCol})
	if level == 1 {
		p.y += 2
		p.line(pdfMarginX, p.y, pdfMarginX+pdfContentW, p.y, 0.8, pdfAccent)
		p.y += 4
	}
	p.y += 3
}

// pdfParagraphFrags turns a paragraph's spans (or its text) into fragments.
func pdfParagraphFrags(b *document.Block) []pdfFrag {
	if len(b.Spans) == 0 {
		return []pdfFrag{{text: cleanText(b.Text, true)}}
	}
	frags := make([]pdfFrag, 0, len(b.Spans))
	for _, s := range b.Spans {
		var st fontStyle
		if s.Bold {
			st |= styleBold
		}
		if s.Italic {
			st |= styleItalic
		}
		frags = append(frags, pdfFrag{text: cleanText(s.Text, true), st: st, link: s.Link})
	}
	return frags
}

func (p *pdfDoc) paragraph(b *document.Block) {
	frags := pdfParagraphFrags(b)
	p.gap(pdfBodySize * 0.7)
	lines := pdfWrap(p.m, frags, pdfBodySize, pdfContentW)
	p.drawLines(lines, pdfTextBox{x: pdfMarginX, size: pdfBodySize, leading: pdfBodyLeading, color: pdfInk})
}

func (p *pdfDoc) list(b *document.Block) {
	if len(b.Items) == 0 {
		return
	}
	markerW := p.m.width("•", 0, pdfBodySize)
	if b.Ordered {
		markerW = p.m.width(strconv.Itoa(len(b.Items))+".", 0, pdfBodySize)
	}
	const indentMin, markerGap = 10.0, 6.0
	indent := indentMin + max(markerW, 8) + markerGap
	p.gap(pdfBodySize * 0.7)
	for i, it := range b.Items {
		if p.err != nil {
			return
		}
		text := it.Text
		if it.IsKV {
			text = it.Key + ": " + it.Value
		}
		lines := pdfWrap(p.m, []pdfFrag{{text: cleanText(text, true)}}, pdfBodySize, pdfContentW-indent)
		marker := "•"
		if b.Ordered {
			marker = strconv.Itoa(i+1) + "."
		}
		mw := p.m.width(marker, 0, pdfBodySize)
		if i > 0 {
			p.y += 2
		}
		p.drawLines(lines, pdfTextBox{
			x: pdfMarginX + indent, size: pdfBodySize, leading: pdfBodyLeading, color: pdfInk,
			firstLine: func(bl float64) {
				// numbers align on their right edge, bullets sit at the indent
				p.drawText(pdfMarginX+indent-markerGap-mw, bl, marker, 0, pdfBodySize, pdfInk)
			},
		})
	}
}

func (p *pdfDoc) kv(b *document.Block) {
	if len(b.Items) == 0 {
		return
	}
	const size, leading, padY, colGap = pdfBodySize, 1.35, 3.0, 14.0
	keyW := 0.0
	for _, it := range b.Items {
		keyW = math.Max(keyW, p.m.width(cleanText(pdfKVKey(it), false), styleBold, size))
	}
	keyW = math.Min(math.Max(keyW, 40), pdfContentW*0.35)
	valW := pdfContentW - keyW - colGap
	p.gap(pdfBodySize * 0.7)
	rows := pdfRows{
		xs:      []float64{pdfMarginX, pdfMarginX + keyW + colGap},
		widths:  []float64{keyW, valW},
		size:    size,
		leading: leading,
		padX:    0,
		padY:    padY,
		rule:    true,
	}
	for _, it := range b.Items {
		if p.err != nil {
			return
		}
		val := it.Value
		if !it.IsKV {
			val = ""
		}
		cells := []pdfCell{
			{lines: pdfWrap(p.m, []pdfFrag{{text: cleanText(pdfKVKey(it), true), st: styleBold}}, size, keyW), color: pdfInk},
			{lines: pdfWrap(p.m, []pdfFrag{{text: cleanText(val, true)}}, size, valW), color: pdfInk},
		}
		p.drawRow(&rows, cells, nil)
	}
}

func pdfKVKey(it document.Item) string {
	if it.IsKV {
		return it.Key
	}
	return it.Text
}

// pdfURL makes a link target safe to write into the PDF: only absolute
// http(s) and mailto URLs (a document that skipped validation must not get
// javascript: links), with non-ASCII and control bytes percent-encoded
// because gopdf writes the URL as a raw literal string.
func pdfURL(link string) string {
	u, err := url.Parse(link)
	if err != nil {
		return ""
	}
	switch u.Scheme {
	case "http", "https":
		if u.Host == "" {
			return ""
		}
	case "mailto":
		if u.Opaque == "" {
			return ""
		}
	default:
		return ""
	}
	if !utf8.ValidString(link) {
		return ""
	}
	var b strings.Builder
	for i := 0; i < len(link); i++ {
		c := link[i]
		if c <= 0x20 || c >= 0x7f {
			fmt.Fprintf(&b, "%%%02X", c)
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}
