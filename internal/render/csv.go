// Package render turns export requests into files. Renderers stream into an
// io.Writer so a file never has to fit in memory twice.
package render

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"unicode"

	unorm "golang.org/x/text/unicode/norm"

	"github.com/groundwork-dev/groundwork/internal/document"
)

// utf8BOM makes Excel read the file as UTF-8 instead of the locale's code page.
const utf8BOM = "\ufeff"

// CSV writes e to w as RFC 4180 CSV, header row first: records end in
// CRLF, fields holding a comma, quote, CR, LF or edge space are quoted with
// quotes doubled, and cell content is written byte for byte. (The standard
// library's csv.Writer with UseCRLF rewrites a cell's own line breaks and
// drops a lone CR, which loses data.) String cells that a spreadsheet would
// run as a formula are neutralised. progress, when not nil, is called after
// every 1,000 rows and at the end with the number of rows written; an error
// from it stops rendering.
func CSV(w io.Writer, e *document.Export, progress func(rows int) error) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	if e.BOM {
		bw.WriteString(utf8BOM)
	}
	for i, c := range e.Columns {
		writeField(bw, i, NeutralizeFormula(c))
	}
	bw.WriteString("\r\n")
	for n, row := range e.Rows {
		for i, cell := range row {
			text := cell.Text()
			if cell.IsString() {
				text = NeutralizeFormula(text)
			}
			writeField(bw, i, text)
		}
		bw.WriteString("\r\n")
		if progress != nil && (n+1)%1000 == 0 {
			if err := bw.Flush(); err != nil {
				return fmt.Errorf("write csv row %d: %w", n, err)
			}
			if err := progress(n + 1); err != nil {
				return err
			}
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	if progress != nil {
		return progress(len(e.Rows))
	}
	return nil
}

// writeField writes one field, quoted when RFC 4180 requires it. Errors
// stick in the bufio.Writer and surface at Flush.
func writeField(w *bufio.Writer, i int, s string) {
	if i > 0 {
		w.WriteByte(',')
	}
	if !needsQuotes(s) {
		w.WriteString(s)
		return
	}
	w.WriteByte('"')
	for {
		j := strings.IndexByte(s, '"')
		if j < 0 {
			break
		}
		w.WriteString(s[:j+1])
		w.WriteByte('"')
		s = s[j+1:]
	}
	w.WriteString(s)
	w.WriteByte('"')
}

func needsQuotes(s string) bool {
	if s == "" {
		return false
	}
	if s[0] == ' ' || s[0] == '\t' || s[len(s)-1] == ' ' {
		return true
	}
	return strings.ContainsAny(s, ",\"\r\n")
}

// NeutralizeFormula prefixes a text that spreadsheets would evaluate with a
// single quote, as OWASP recommends against CSV injection: one whose first
// character other than a space, after Unicode compatibility folding (so
// full-width ＝ is =), is =, +, -, @, a tab or a carriage return.
// Spreadsheets skip leading spaces and fold such characters themselves.
// Numbers sent as JSON numbers are never passed here, so -5 stays a number.
func NeutralizeFormula(s string) string {
	for _, r := range s {
		if r == '\t' || r == '\r' {
			return "'" + s
		}
		if unicode.IsSpace(r) {
			continue
		}
		folded := unorm.NFKC.String(string(r))
		if folded != "" && strings.ContainsRune("=+-@", []rune(folded)[0]) {
			return "'" + s
		}
		return s
	}
	return s
}
