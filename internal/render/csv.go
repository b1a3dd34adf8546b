// Package render turns export requests into files. Renderers stream into an
// io.Writer so a file never has to fit in memory twice.
package render

import (
	"encoding/csv"
	"fmt"
	"io"

	"github.com/groundwork-dev/groundwork/internal/document"
)

// utf8BOM makes Excel read the file as UTF-8 instead of the locale's code page.
const utf8BOM = "\ufeff"

// ContentType returns the MIME type of a format.
func ContentType(f document.Format) string {
	switch f {
	case document.FormatCSV:
		return "text/csv; charset=utf-8"
	default:
		return "application/octet-stream"
	}
}

// CSV writes e to w as RFC 4180 CSV (CRLF line ends, fields quoted where
// needed), header row first. String cells that a spreadsheet would run as a
// formula are neutralised. progress, when not nil, is called after every
// 1,000 rows and at the end with the number of rows written; an error from it
// stops rendering.
func CSV(w io.Writer, e *document.Export, progress func(rows int) error) error {
	if e.BOM {
		if _, err := io.WriteString(w, utf8BOM); err != nil {
			return fmt.Errorf("write bom: %w", err)
		}
	}
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	header := make([]string, len(e.Columns))
	for i, c := range e.Columns {
		header[i] = NeutralizeFormula(c)
	}
	if err := cw.Write(header); err != nil {
		return fmt.Errorf("write csv header: %w", err)
	}
	record := make([]string, len(e.Columns))
	for n, row := range e.Rows {
		for i, cell := range row {
			text := cell.Text()
			if cell.IsString() {
				text = NeutralizeFormula(text)
			}
			record[i] = text
		}
		if err := cw.Write(record); err != nil {
			return fmt.Errorf("write csv row %d: %w", n, err)
		}
		if progress != nil && (n+1)%1000 == 0 {
			cw.Flush()
			if err := cw.Error(); err != nil {
				return fmt.Errorf("flush csv: %w", err)
			}
			if err := progress(n + 1); err != nil {
				return err
			}
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("flush csv: %w", err)
	}
	if progress != nil {
		return progress(len(e.Rows))
	}
	return nil
}

// NeutralizeFormula prefixes a text that spreadsheets would evaluate (it
// starts with =, +, -, @, a tab or a carriage return) with a single quote, as
// OWASP recommends against CSV injection. Numbers sent as JSON numbers are
// never passed here, so -5 stays a number.
func NeutralizeFormula(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}
