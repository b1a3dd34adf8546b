// Package document is the input model of an export: what a user asks
// Groundwork to render, and the rules that make a request renderable. The API
// validates with it at the edge and the render activity re-validates the
// stored copy, so a request the workflow could never complete is refused
// before it starts.
package document

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/groundwork-dev/groundwork"
)

// Format is an export's file format.
type Format string

// The formats Groundwork renders.
const (
	// FormatCSV is RFC 4180 comma-separated values.
	FormatCSV Format = "csv"
	// FormatPDF is a PDF document.
	FormatPDF Format = "pdf"
	// FormatDOCX is a Word (Office Open XML) document.
	FormatDOCX Format = "docx"
)

// Formats lists the formats this build renders.
var Formats = []Format{FormatCSV, FormatPDF, FormatDOCX}

// Limits on a table export. They bound memory and file size well below the
// 16 MiB request cap; callers needing more split the export.
const (
	MaxColumns      = 200
	MaxRows         = 200_000
	MaxCellBytes    = 32 << 10
	MaxFilenameLen  = 200
	MaxColumnLength = 1 << 10
)

// Export is the body of POST /v1/exports: exactly one of a table (columns
// and rows), a document, or a source that names something the caller owns.
type Export struct {
	Format   Format    `json:"format" enum:"csv,pdf,docx" doc:"File format. csv takes a table; pdf and docx take a table, a document or a source."`
	Filename string    `json:"filename,omitempty" maxLength:"200" doc:"Download name; the extension is added when missing."`
	Columns  []string  `json:"columns,omitempty" maxItems:"200" doc:"Table: header row."`
	Rows     [][]Cell  `json:"rows,omitempty" maxItems:"200000" doc:"Table: data rows; each has exactly one cell per column."`
	BOM      bool      `json:"bom,omitempty" doc:"csv: prefix the file with a UTF-8 byte order mark so Excel detects the encoding."`
	Document *Document `json:"document,omitempty" doc:"A document: title and blocks rendered in order."`
	Source   *Source   `json:"source,omitempty" doc:"Render something the caller owns, such as a research run's report."`
}

// Source references a result the caller owns.
type Source struct {
	RunID string `json:"run_id" maxLength:"100" doc:"ID of a run whose result can be rendered."`
}

// IsTable reports whether the export carries a table.
func (e *Export) IsTable() bool { return len(e.Columns) > 0 || len(e.Rows) > 0 }

// FieldError names one invalid field of a request, JSON-path style
// ("rows[3][2]"); it is the contract's, so every request reports fields
// alike.
type FieldError = groundwork.FieldError

// Validate reports every problem of e, at most maxErrors of them, so a
// client fixing a large table is not sent one error per round trip. A
// document's images are decoded as a side effect.
func (e *Export) Validate() []FieldError {
	const maxErrors = 20
	var errs []FieldError
	add := func(field, format string, args ...any) bool {
		errs = append(errs, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
		return len(errs) < maxErrors
	}
	switch e.Format {
	case FormatCSV, FormatPDF, FormatDOCX:
	case "":
		add("format", "is required")
	default:
		add("format", "must be one of %v, got %q", Formats, e.Format)
	}
	if e.Filename != "" {
		if _, err := SanitizeFilename(e.Filename, e.Format); err != nil {
			add("filename", "%v", err)
		}
	}
	inputs := 0
	for _, has := range []bool{e.IsTable(), e.Document != nil, e.Source != nil} {
		if has {
			inputs++
		}
	}
	switch {
	case inputs == 0:
		add("columns", "give a table (columns and rows), a document or a source")
		return errs
	case inputs > 1:
		add("document", "give only one of a table (columns and rows), a document or a source")
		return errs
	}
	switch {
	case e.Document != nil:
		if e.Format == FormatCSV {
			add("format", "csv takes a table; use pdf or docx for a document")
			return errs
		}
		return append(errs, e.Document.Validate("document", maxErrors-len(errs))...)
	case e.Source != nil:
		if e.Source.RunID == "" {
			add("source.run_id", "is required")
		}
		return errs
	}
	return append(errs, validateTable(e.Columns, e.Rows, maxErrors-len(errs))...)
}

func validateTable(columns []string, rows [][]Cell, maxErrors int) []FieldError {
	var errs []FieldError
	add := func(field, format string, args ...any) bool {
		errs = append(errs, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
		return len(errs) < maxErrors
	}
	if len(columns) == 0 {
		add("columns", "must name at least one column")
	}
	if len(columns) > MaxColumns {
		add("columns", "has %d columns, at most %d allowed", len(columns), MaxColumns)
	}
	for i, c := range columns {
		if strings.TrimSpace(c) == "" {
			if !add(fmt.Sprintf("columns[%d]", i), "must not be empty") {
				return errs
			}
		}
		if len(c) > MaxColumnLength {
			if !add(fmt.Sprintf("columns[%d]", i), "is longer than %d bytes", MaxColumnLength) {
				return errs
			}
		}
	}
	if len(rows) == 0 {
		add("rows", "must hold at least one row")
	}
	if len(rows) > MaxRows {
		add("rows", "has %d rows, at most %d allowed", len(rows), MaxRows)
		return errs
	}
	for i, row := range rows {
		if len(row) != len(columns) {
			if !add(fmt.Sprintf("rows[%d]", i), "has %d cells, want %d (one per column)", len(row), len(columns)) {
				return errs
			}
			continue
		}
		for j, cell := range row {
			if msg := cell.validate(); msg != "" {
				if !add(fmt.Sprintf("rows[%d][%d]", i, j), "%s", msg) {
					return errs
				}
			}
		}
	}
	return errs
}

// Cell is one table cell: a JSON string, number, boolean or null. It keeps
// the number's original text so 12345678901234567890 is written as sent,
// not as a rounded float.
type Cell struct {
	raw json.RawMessage
}

// StringCell returns a string cell.
func StringCell(s string) Cell {
	b, _ := json.Marshal(s)
	return Cell{raw: b}
}

// UnmarshalJSON keeps the raw JSON of the cell.
func (c *Cell) UnmarshalJSON(b []byte) error {
	c.raw = append(c.raw[:0], b...)
	return nil
}

// MarshalJSON writes the cell as it was received.
func (c Cell) MarshalJSON() ([]byte, error) {
	if len(c.raw) == 0 {
		return []byte("null"), nil
	}
	return c.raw, nil
}

// IsString reports whether the cell is a JSON string.
func (c Cell) IsString() bool { return len(c.raw) > 0 && c.raw[0] == '"' }

// Text is the cell as it appears in a file: strings unquoted, numbers and
// booleans as sent, null as "".
func (c Cell) Text() string {
	switch {
	case len(c.raw) == 0 || bytes.Equal(c.raw, []byte("null")):
		return ""
	case c.IsString():
		var s string
		_ = json.Unmarshal(c.raw, &s)
		return s
	default:
		return string(c.raw)
	}
}

func (c Cell) validate() string {
	if len(c.raw) == 0 {
		return ""
	}
	switch c.raw[0] {
	case '"':
		if len(c.raw) > MaxCellBytes {
			return fmt.Sprintf("is longer than %d bytes", MaxCellBytes)
		}
		return ""
	case '{', '[':
		return "must be a string, number, boolean or null"
	default:
		return ""
	}
}

// SanitizeFilename turns a user-supplied name into a safe download name with
// the format's extension: no directories, no control characters, no quotes.
func SanitizeFilename(name string, format Format) (string, error) {
	if !utf8.ValidString(name) {
		return "", fmt.Errorf("must be valid UTF-8")
	}
	if len(name) > MaxFilenameLen {
		return "", fmt.Errorf("is longer than %d bytes", MaxFilenameLen)
	}
	name = path.Base(strings.ReplaceAll(name, `\`, "/"))
	name = strings.Map(func(r rune) rune {
		switch {
		case unicode.IsControl(r), r == '"', r == '/', r == '\\', r == ':', r == '*', r == '?', r == '<', r == '>', r == '|':
			return '_'
		}
		return r
	}, name)
	name = strings.Trim(strings.TrimSpace(name), ".")
	if name == "" {
		name = "export"
	}
	if ext := "." + string(format); format != "" && !strings.HasSuffix(strings.ToLower(name), ext) {
		name += ext
	}
	return name, nil
}
