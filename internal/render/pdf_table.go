package render

import (
	"image/color"
	"math"
	"slices"
	"strings"

	"github.com/groundwork-dev/groundwork/internal/document"
)

// Table typography.
const (
	pdfTableSize    = 9.0
	pdfTableMinSize = 7.0
	pdfTableLeading = 1.3
	pdfTablePadX    = 4.0
	pdfTablePadY    = 3.0
	// pdfMaxHeaderLines bounds the header row, which is repeated on every
	// page: a header taller than a page could never be followed by a row.
	pdfMaxHeaderLines = 4
	// pdfWidthSampleRows bounds the rows measured for column widths; later
	// rows wrap within the widths the first ones chose.
	pdfWidthSampleRows = 1000
	pdfMinColumnW      = 24.0
)

var (
	pdfColTableHead = color.RGBA{38, 60, 88, 255}
	pdfColZebra     = color.RGBA{242, 245, 249, 255}
)

// pdfCell is one cell's wrapped text.
type pdfCell struct {
	lines []pdfLine
	color color.RGBA
	right bool
}

// pdfRows lays out rows of cells in fixed columns, splitting a row
// across pages when it is taller than what is left, and calling header on
// every new page so tables repeat their header row.
type pdfRows struct {
	xs, widths []float64
	size       float64
	leading    float64
	padX, padY float64
	rule       bool // hairline under each row
	zebra      bool // shade every other row
	header     func()
	headerH    float64
	// pageTop is p.y after the header on the current page: a row that
	// does not fit there is split rather than moved to another page.
	pageTop float64
	n       int
}

// drawRow draws one row at p.y.
func (p *pdfDoc) drawRow(t *pdfRows, cells []pdfCell, fill *color.RGBA) {
	lh := t.size * t.leading
	nLines := 1
	for _, c := range cells {
		nLines = max(nLines, len(c.lines))
	}
	fullPage := int((pdfContentBottom - pdfContentTop - t.headerH - 2*t.padY) / lh)
	if t.zebra && t.n%2 == 1 {
		fill = &pdfColZebra
	}
	for start := 0; start < nLines && p.err == nil; {
		rest := nLines - start
		avail := int(math.Floor((pdfContentBottom - p.y - 2*t.padY + 1e-6) / lh))
		if avail < rest {
			movable := start == 0 && rest <= fullPage && p.y > t.pageTop+0.5
			if movable || (avail < 1 && p.y > t.pageTop+0.5) {
				p.newPage()
				if t.header != nil {
					t.header()
				}
				t.pageTop = p.y
				continue
			}
		}
		n := max(1, min(rest, avail))
		h := float64(n)*lh + 2*t.padY
		if fill != nil {
			x0 := t.xs[0] - t.padX
			p.fillRect(x0, p.y, t.xs[len(t.xs)-1]+t.widths[len(t.widths)-1]+t.padX-x0, h, *fill)
		}
		for ci, c := range cells {
			for k := start; k < start+n && k < len(c.lines); k++ {
				ln := c.lines[k]
				x := t.xs[ci]
				if c.right {
					x += t.widths[ci] - ln.w
				}
				top := p.y + t.padY + float64(k-start)*lh
				p.drawLine(ln, x, top, pdfBaseline(top, lh, t.size), t.size, lh, c.color)
			}
		}
		p.y += h
		if t.rule {
			x0 := t.xs[0] - t.padX
			p.line(x0, p.y, t.xs[len(t.xs)-1]+t.widths[len(t.widths)-1]+t.padX, p.y, 0.4, pdfRuleCol)
		}
		start += n
	}
	t.n++
}

// table draws a table block: column widths from content, a header row
// repeated on every page, wrapped cells, zebra rows, numbers right-aligned.
func (p *pdfDoc) table(b *document.Block) {
	ncols := len(b.Columns)
	if ncols == 0 {
		for _, row := range b.Rows {
			ncols = max(ncols, len(row))
		}
	}
	if ncols == 0 {
		return
	}
	header := make([]string, ncols)
	hasHeader := false
	for i := range header {
		if i < len(b.Columns) {
			header[i] = cleanText(b.Columns[i], true)
			hasHeader = hasHeader || header[i] != ""
		}
	}
	widths, size, numeric := p.columnWidths(header, b.Rows, ncols)
	// Text wraps at no less than one em (pdfWrap), so in columns narrower
	// than that plus padding the padding shrinks; text then stays inside
	// the table instead of running past the right margin.
	padX := pdfTablePadX
	if narrowest := slices.Min(widths); narrowest-2*padX < size {
		padX = max(0.5, (narrowest-size)/2)
	}
	t := &pdfRows{
		xs:      make([]float64, ncols),
		widths:  make([]float64, ncols),
		size:    size,
		leading: pdfTableLeading,
		padX:    padX,
		padY:    pdfTablePadY,
		zebra:   true,
	}
	x := pdfMarginX
	for i, w := range widths {
		t.xs[i] = x + padX
		t.widths[i] = w - 2*padX
		x += w
	}
	lh := size * pdfTableLeading
	var headCells []pdfCell
	if hasHeader {
		headCells = make([]pdfCell, ncols)
		for i, h := range header {
			lines := pdfWrap(p.m, []pdfFrag{{text: h, st: styleBold}}, size, t.widths[i])
			if len(lines) > pdfMaxHeaderLines {
				lines = lines[:pdfMaxHeaderLines]
				last := &lines[pdfMaxHeaderLines-1]
				if n := len(last.frags); n > 0 {
					f := &last.frags[n-1]
					f.text = p.fit(f.text+"…", styleBold, size, t.widths[i]-f.x)
				}
			}
			headCells[i] = pdfCell{lines: lines, color: pdfWhite, right: numeric[i]}
		}
		nl := 1
		for _, c := range headCells {
			nl = max(nl, len(c.lines))
		}
		t.headerH = float64(nl)*lh + 2*pdfTablePadY
		t.header = func() {
			top := p.y
			p.fillRect(pdfMarginX, top, pdfContentW, t.headerH, pdfColTableHead)
			for i, c := range headCells {
				for k, ln := range c.lines {
					lt := top + pdfTablePadY + float64(k)*lh
					x := t.xs[i]
					if c.right {
						x += t.widths[i] - ln.w
					}
					p.drawLine(ln, x, lt, pdfBaseline(lt, lh, size), size, lh, c.color)
				}
			}
			p.y += t.headerH
		}
	}
	p.gap(pdfBodySize)
	cells := make([]pdfCell, ncols)
	rowCells := func(row []document.Cell) []pdfCell {
		for i := range cells {
			text, right := "", false
			if i < len(row) {
				text, right = pdfCellText(row[i])
			}
			cells[i] = pdfCell{
				lines: pdfWrap(p.m, []pdfFrag{{text: text}}, size, t.widths[i]),
				color: pdfInk,
				right: right,
			}
		}
		return cells
	}
	// Keep the header with the first row.
	first := 0.0
	if len(b.Rows) > 0 {
		nl := 1
		for _, c := range rowCells(b.Rows[0]) {
			nl = max(nl, len(c.lines))
		}
		first = float64(nl)*lh + 2*pdfTablePadY
	}
	p.ensure(t.headerH + first)
	if t.header != nil {
		t.header()
	}
	t.pageTop = p.y
	for _, row := range b.Rows {
		if p.err != nil {
			return
		}
		p.drawRow(t, rowCells(row), nil)
	}
	p.line(pdfMarginX, p.y, pdfMarginX+pdfContentW, p.y, 0.8, pdfColTableHead)
	p.y += 2
}

// pdfCellText is a cell as displayed, and whether it is a number (right
// aligned so digits line up).
func pdfCellText(c document.Cell) (string, bool) {
	s := c.Text()
	if c.IsString() {
		return cleanText(s, true), false
	}
	switch s {
	case "", "true", "false", "null":
		return s, false
	}
	return cleanText(s, false), true
}

// columnWidths gives each column its natural width (widest cell, as
// measured over the first rows) when the table fits, stretching all
// proportionally to the content width. A table too wide for that gets a
// smaller font, down to pdfTableMinSize, so that every column can hold at
// least its longest word (bounded); the space left is shared in proportion
// to how much more each column would like, and if even the words do not
// fit, they break. numeric reports the columns whose sampled cells are
// mostly numbers: their header is right-aligned like them.
func (p *pdfDoc) columnWidths(header []string, rows [][]document.Cell, ncols int) (widths []float64, size float64, numeric []bool) {
	// Text widths at 1 pt: they scale linearly with the font size.
	natural := make([]float64, ncols)
	longest := make([]float64, ncols)
	numbers := make([]int, ncols)
	filled := make([]int, ncols)
	measure := func(i int, s string, st fontStyle) {
		for _, line := range strings.Split(s, "\n") {
			natural[i] = math.Max(natural[i], p.m.width(line, st, 1))
		}
		for _, word := range strings.Fields(s) {
			longest[i] = math.Max(longest[i], p.m.width(word, st, 1))
		}
	}
	for i, h := range header {
		measure(i, h, styleBold)
	}
	for r, row := range rows {
		if r == pdfWidthSampleRows {
			break
		}
		for i := 0; i < ncols && i < len(row); i++ {
			s, num := pdfCellText(row[i])
			measure(i, s, 0)
			if s != "" {
				filled[i]++
			}
			if num {
				numbers[i]++
			}
		}
	}
	numeric = make([]bool, ncols)
	for i := range numeric {
		numeric[i] = filled[i] > 0 && numbers[i]*2 > filled[i]
	}
	nat := make([]float64, ncols)
	minW := make([]float64, ncols)
	layout := func(size float64) (sumNat, sumMin float64) {
		for i := range nat {
			nat[i] = math.Min(natural[i]*size+2*pdfTablePadX, pdfContentW)
			minW[i] = math.Min(nat[i], math.Min(math.Max(longest[i]*size+2*pdfTablePadX, pdfMinColumnW), pdfContentW*0.3))
			sumNat += nat[i]
			sumMin += minW[i]
		}
		return sumNat, sumMin
	}
	size = pdfTableSize
	sumNat, sumMin := layout(size)
	if sumMin > pdfContentW {
		// Shrink the text part of the columns to fit (padding stays).
		pad := float64(ncols) * 2 * pdfTablePadX
		size = math.Max(pdfTableMinSize, size*(pdfContentW-pad)/math.Max(sumMin-pad, 1))
		sumNat, sumMin = layout(size)
	}
	widths = make([]float64, ncols)
	switch {
	case sumNat <= pdfContentW:
		for i := range widths {
			widths[i] = nat[i] * pdfContentW / sumNat
		}
	case sumMin >= pdfContentW:
		for i := range widths {
			widths[i] = minW[i] * pdfContentW / sumMin
		}
	default:
		flex := sumNat - sumMin
		for i := range widths {
			widths[i] = minW[i] + (pdfContentW-sumMin)*(nat[i]-minW[i])/flex
		}
	}
	return widths, size, numeric
}
