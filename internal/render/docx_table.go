package render

import (
	"bufio"
	"encoding/xml"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/groundwork-dev/groundwork/internal/document"
)

// Colours of table cells: a light fill under bold dark text keeps header
// rows readable in Word and LibreOffice alike (godocx's Light List styles
// paint header text white, which its default white cell shading then
// hides), and a paler one marks kv keys.
const (
	docxHeaderFill = "D9E2F3"
	docxKeyFill    = "F2F2F2"
)

// docxTablePlaceholder prefixes the paragraph style that marks where a
// table goes in godocx's document.xml. Text a user writes is escaped, so
// it can never produce this markup.
const docxTablePlaceholder = "GroundworkTablePlaceholder"

// docxTable is a table (or kv) block waiting to be streamed.
type docxTable struct {
	index int
	block *document.Block
}

// table queues a table or kv block and leaves a placeholder paragraph
// where it goes. godocx would build every cell as a tree of structs
// (about 2 KB a cell) and marshal all of document.xml in memory, so
// tables are written as XML straight into the zip instead (see repack).
func (d *docxWriter) table(i int, b *document.Block) {
	if b.Type == document.BlockTable && len(b.Columns) == 0 {
		d.warnf("block %d: table without columns left out", i)
		return
	}
	if b.Type == document.BlockKV && len(b.Items) == 0 {
		return
	}
	d.rd.AddEmptyParagraph().Style(docxTablePlaceholder + strconv.Itoa(len(d.tables)))
	d.tables = append(d.tables, docxTable{index: i, block: b})
	// A small empty paragraph spaces the table from what follows and
	// keeps two consecutive tables from merging into one when the
	// document is edited.
	d.rd.AddEmptyParagraph().Spacing(0, 0)
}

// docxPlaceholderXML is how godocx marshals table n's placeholder paragraph.
func docxPlaceholderXML(n int) string {
	return `<w:p><w:pPr><w:pStyle w:val="` + docxTablePlaceholder + strconv.Itoa(n) + `"></w:pStyle></w:pPr></w:p>`
}

// writeTable writes a queued table as WordprocessingML: a full-width
// "Table Grid" table with fixed columns sized to their content, whose first
// row is a bold, shaded header marked to repeat on every page
// (w:tblHeader); a kv block becomes a two-column table with bold, shaded
// keys.
func (d *docxWriter) writeTable(w *bufio.Writer, t docxTable) error {
	b := t.block
	if b.Type == document.BlockKV {
		keyW := docxTextW * 35 / 100
		widths := []int{keyW, docxTextW - keyW}
		d.tableStart(w, widths)
		for _, it := range b.Items {
			key, value := it.Key, it.Value
			if !it.IsKV {
				value = it.Text
			}
			// A pair stays on one page.
			w.WriteString(`<w:tr><w:trPr><w:cantSplit/></w:trPr>`)
			d.cell(w, key, widths[0], true, docxKeyFill, false, false)
			d.cell(w, value, widths[1], false, "", false, false)
			w.WriteString(`</w:tr>`)
		}
		w.WriteString(`</w:tbl>`)
		return nil
	}

	n := len(b.Columns)
	widths := docxColumnWidths(b)
	d.tableStart(w, widths)
	// tblHeader repeats the row on every page; cantSplit keeps it whole
	// and keepNext keeps it on the page of the first data row.
	w.WriteString(`<w:tr><w:trPr><w:cantSplit/><w:tblHeader/></w:trPr>`)
	for j, c := range b.Columns {
		d.cell(w, c, widths[j], true, docxHeaderFill, false, true)
	}
	w.WriteString(`</w:tr>`)
	ragged := 0
	for r, row := range b.Rows {
		if len(row) != n {
			ragged++
		}
		w.WriteString(`<w:tr>`)
		for j := range n {
			text, right := "", false
			if j < len(row) {
				text = row[j].Text()
				// Numbers and booleans line up on the right, as in a
				// spreadsheet.
				right = !row[j].IsString() && text != ""
			}
			d.cell(w, text, widths[j], false, "", right, false)
		}
		w.WriteString(`</w:tr>`)
		if (r+1)%docxRowsPerUnit == 0 {
			if err := d.progress.add(1); err != nil {
				return err
			}
		}
	}
	w.WriteString(`</w:tbl>`)
	if ragged > 0 {
		d.warnf("block %d: %d table row(s) did not have one cell per column; missing cells are empty and extra ones left out", t.index, ragged)
	}
	return nil
}

// docxColumnWidths shares the text width between a table's columns by the
// length of their longest line (header and the first 1,000 rows), counted
// as 4 to 40 characters, so a "#" column does not take as much room as a
// description and short words do not break mid-word.
func docxColumnWidths(b *document.Block) []int {
	n := len(b.Columns)
	chars := make([]int, n)
	longest := func(s string) int {
		m := 0
		for _, line := range strings.Split(s, "\n") {
			m = max(m, utf8.RuneCountInString(line))
		}
		return m
	}
	for j, c := range b.Columns {
		// Header text is bold, so wider.
		chars[j] = (longest(c)*5 + 3) / 4
	}
	for _, row := range b.Rows[:min(len(b.Rows), 1000)] {
		for j := range min(n, len(row)) {
			chars[j] = max(chars[j], longest(row[j].Text()))
		}
	}
	sum := 0
	for j := range chars {
		// Padding stands for the cell margins.
		chars[j] = min(max(chars[j], 4), 40) + 2
		sum += chars[j]
	}
	widths := make([]int, n)
	left := docxTextW
	for j := range widths {
		widths[j] = docxTextW * chars[j] / sum
		left -= widths[j]
	}
	widths[n-1] += left
	return widths
}

// tableStart opens a full-width table with the given column widths in
// twips. It uses the plain "Table Grid" style and paints header and key
// cells itself: conditional formatting of styled tables is where header
// text went unreadable.
func (d *docxWriter) tableStart(w *bufio.Writer, widths []int) {
	w.WriteString(`<w:tbl><w:tblPr><w:tblStyle w:val="TableGrid"/><w:tblW w:w="5000" w:type="pct"/>` +
		`<w:tblLayout w:type="fixed"/><w:tblCellMar><w:top w:w="40" w:type="dxa"/><w:left w:w="80" w:type="dxa"/>` +
		`<w:bottom w:w="40" w:type="dxa"/><w:right w:w="80" w:type="dxa"/></w:tblCellMar>` +
		`<w:tblLook w:val="04A0" w:firstRow="1" w:lastRow="0" w:firstColumn="1" w:lastColumn="0" w:noHBand="0" w:noVBand="1"/>` +
		`</w:tblPr><w:tblGrid>`)
	for _, cw := range widths {
		fmt.Fprintf(w, `<w:gridCol w:w="%d"/>`, cw)
	}
	w.WriteString(`</w:tblGrid>`)
}

// cell writes a table cell holding one paragraph of text. Table paragraphs
// have no spacing: the template's body spacing (10 pt after) would double
// every row's height.
func (d *docxWriter) cell(w *bufio.Writer, text string, width int, bold bool, fill string, right, keepNext bool) {
	fmt.Fprintf(w, `<w:tc><w:tcPr><w:tcW w:w="%d" w:type="dxa"/>`, width)
	if fill != "" {
		w.WriteString(`<w:shd w:val="clear" w:color="auto" w:fill="` + fill + `"/>`)
	}
	w.WriteString(`</w:tcPr><w:p><w:pPr>`)
	if keepNext {
		w.WriteString(`<w:keepNext/>`)
	}
	w.WriteString(`<w:spacing w:before="0" w:after="0"/>`)
	if right {
		w.WriteString(`<w:jc w:val="right"/>`)
	}
	w.WriteString(`</w:pPr>`)
	if text != "" {
		// Table text is 9 pt, as in the PDF, to fit more per row.
		w.WriteString(`<w:r><w:rPr>`)
		if bold {
			w.WriteString(`<w:b/>`)
		}
		w.WriteString(`<w:sz w:val="18"/></w:rPr>`)
		d.segments(text, func(kind docxSegment, s string) {
			switch kind {
			case docxText:
				w.WriteString(`<w:t xml:space="preserve">`)
				_ = xml.EscapeText(w, []byte(s))
				w.WriteString(`</w:t>`)
			case docxBreak:
				w.WriteString(`<w:br/>`)
			case docxTab:
				w.WriteString(`<w:tab/>`)
			}
		})
		w.WriteString(`</w:r>`)
	}
	w.WriteString(`</w:p></w:tc>`)
}
