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
)

// Format is an export's file format.
type Format string

// The formats Groundwork renders.
const (
	// FormatCSV is RFC 4180 comma-separated values.
	FormatCSV Format = "csv"
)

// Formats lists the formats this build renders.
var Formats = []Format{FormatCSV}

// Limits on a table export. They bound memory and file size well below the
// 16 MiB request cap; callers needing more split the export.
const (
	MaxColumns      = 200
	MaxRows         = 200_000
	MaxCellBytes    = 32 << 10
	MaxFilenameLen  = 200
	MaxColumnLength = 1 << 10
)

// Export is the body of POST /v1/exports for a table.
type Export struct {
	Format   Format   `json:"format" enum:"csv" doc:"File format."`
	Filename string   `json:"filename,omitempty" maxLength:"200" doc:"Download name; the extension is added when missing."`
	Columns  []string `json:"columns" minItems:"1" maxItems:"200" doc:"Header row."`
	Rows     [][]Cell `json:"rows" maxItems:"200000" doc:"Data rows; each has exactly one cell per column."`
	BOM      bool     `json:"bom,omitempty" doc:"Prefix the file with a UTF-8 byte order mark so Excel detects the encoding."`
}

// FieldError names one invalid field of a request, JSON-path style
// ("rows[3][2]").
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Error implements error.
func (e FieldError) Error() string { return e.Field + ": " + e.Message }

// Validate reports every problem of e, at most maxErrors of them, so a
// client fixing a large table is not sent one error per round trip.
func (e *Export) Validate() []FieldError {
	const maxErrors = 20
	var errs []FieldError
	add := func(field, format string, args ...any) bool {
		errs = append(errs, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
		return len(errs) < maxErrors
	}
	switch e.Format {
	case FormatCSV:
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
	if len(e.Columns) == 0 {
		add("columns", "must name at least one column")
	}
	if len(e.Columns) > MaxColumns {
		add("columns", "has %d columns, at most %d allowed", len(e.Columns), MaxColumns)
	}
	for i, c := range e.Columns {
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
	if len(e.Rows) == 0 {
		add("rows", "must hold at least one row")
	}
	if len(e.Rows) > MaxRows {
		add("rows", "has %d rows, at most %d allowed", len(e.Rows), MaxRows)
		return errs
	}
	for i, row := range e.Rows {
		if len(row) != len(e.Columns) {
			if !add(fmt.Sprintf("rows[%d]", i), "has %d cells, want %d (one per column)", len(row), len(e.Columns)) {
				return errs
			}
			continue
		}
		for j, cell := range row {
			if err := cell.validate(); err != "" {
				if !add(fmt.Sprintf("rows[%d][%d]", i, j), "%s", err) {
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
