package document

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image"
	_ "image/jpeg" // decode JPEG headers in Validate
	_ "image/png"  // decode PNG headers in Validate
	"math"
	"net/url"
	"strings"
)

// Document is a report: a title and blocks rendered in order, the same
// model for PDF and DOCX.
type Document struct {
	Title    string  `json:"title" maxLength:"500" doc:"Document title; also the file's title property."`
	Subtitle string  `json:"subtitle,omitempty" maxLength:"1000"`
	Author   string  `json:"author,omitempty" maxLength:"500"`
	Subject  string  `json:"subject,omitempty" maxLength:"1000"`
	Keywords string  `json:"keywords,omitempty" maxLength:"1000"`
	Blocks   []Block `json:"blocks" maxItems:"20000"`
}

// BlockType names what a Block is.
type BlockType string

// The block types.
const (
	BlockHeading   BlockType = "heading"
	BlockParagraph BlockType = "paragraph"
	BlockList      BlockType = "list"
	BlockTable     BlockType = "table"
	BlockKV        BlockType = "kv"
	BlockChart     BlockType = "chart"
	BlockImage     BlockType = "image"
	BlockPageBreak BlockType = "page_break"
)

// Block is one element of a document. Which fields apply depends on Type:
// heading (level 1–3, text), paragraph (text or spans), list (ordered,
// items of text), table (columns, rows), kv (items of key/value), chart
// (kind, title, labels, series), image (data_base64, caption), page_break.
type Block struct {
	Type    BlockType `json:"type" enum:"heading,paragraph,list,table,kv,chart,image,page_break"`
	Level   int       `json:"level,omitempty" minimum:"0" maximum:"3" doc:"heading: 1 (largest) to 3."`
	Text    string    `json:"text,omitempty" maxLength:"100000"`
	Spans   []Span    `json:"spans,omitempty" maxItems:"2000" doc:"paragraph: styled runs; when set, text is ignored."`
	Ordered bool      `json:"ordered,omitempty" doc:"list: numbered instead of bulleted."`
	Items   []Item    `json:"items,omitempty" maxItems:"10000" doc:"list: strings; kv: {key, value} objects."`
	Columns []string  `json:"columns,omitempty" maxItems:"50" doc:"table: header row, repeated on every page."`
	Rows    [][]Cell  `json:"rows,omitempty" maxItems:"100000" doc:"table: one cell per column (string, number, boolean or null)."`
	Kind    ChartKind `json:"kind,omitempty" enum:"bar,line,pie" doc:"chart kind."`
	Title   string    `json:"title,omitempty" maxLength:"500" doc:"chart title."`
	Labels  []string  `json:"labels,omitempty" maxItems:"500" doc:"chart: category labels (x axis, or pie slices)."`
	Series  []Series  `json:"series,omitempty" maxItems:"20" doc:"chart: one value per label each; a pie uses the first series."`
	// DataBase64 is a PNG or JPEG image, base64-encoded.
	DataBase64 string `json:"data_base64,omitempty" doc:"image: PNG or JPEG, base64."`
	Caption    string `json:"caption,omitempty" maxLength:"1000" doc:"image caption."`

	// image is the decoded DataBase64, filled by Validate.
	image []byte
}

// Span is a run of paragraph text with one style.
type Span struct {
	Text   string `json:"text" maxLength:"100000"`
	Bold   bool   `json:"bold,omitempty"`
	Italic bool   `json:"italic,omitempty"`
	Link   string `json:"link,omitempty" maxLength:"2000" doc:"http(s) or mailto URL the span links to."`
}

// Item is a list entry (a JSON string) or a key–value pair (an object with
// key and value).
type Item struct {
	Text  string
	Key   string
	Value string
	// IsKV is set when the item was a {key, value} object.
	IsKV bool
}

// UnmarshalJSON accepts either form.
func (it *Item) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '{' {
		var kv struct {
			Key   string `json:"key"`
			Value string `json:"value"`
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&kv); err != nil {
			return fmt.Errorf("kv item: %w", err)
		}
		*it = Item{Key: kv.Key, Value: kv.Value, IsKV: true}
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("item must be a string or a {key, value} object")
	}
	*it = Item{Text: s}
	return nil
}

// MarshalJSON writes the item in the form it was given.
func (it Item) MarshalJSON() ([]byte, error) {
	if it.IsKV {
		return json.Marshal(struct {
			Key   string `json:"key"`
			Value string `json:"value"`
		}{it.Key, it.Value})
	}
	return json.Marshal(it.Text)
}

// ChartKind is a chart's shape.
type ChartKind string

// The chart kinds.
const (
	ChartBar  ChartKind = "bar"
	ChartLine ChartKind = "line"
	ChartPie  ChartKind = "pie"
)

// Series is one named data series of a chart.
type Series struct {
	Name   string    `json:"name" maxLength:"200"`
	Values []float64 `json:"values" maxItems:"500"`
}

// Image returns the decoded image bytes of an image block (after Validate).
func (b *Block) Image() []byte { return b.image }

// SetImage sets an image block's bytes directly, for sources that build
// documents in Go rather than from JSON.
func (b *Block) SetImage(data []byte) { b.image = data }

// ImageFormat sniffs "png" or "jpeg" from image bytes.
func ImageFormat(data []byte) string {
	_, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return ""
	}
	return format
}

// Limits on images, so one request cannot make a renderer decode a
// decompression bomb.
const (
	MaxImageBytes  = 8 << 20
	MaxImagePixels = 40_000_000
)

// Validate reports every problem of the document under the JSON path
// prefix (e.g. "document"), at most max of them, and decodes images.
func (d *Document) Validate(prefix string, max int) []FieldError {
	var errs []FieldError
	add := func(field, format string, args ...any) bool {
		errs = append(errs, FieldError{Field: prefix + field, Message: fmt.Sprintf(format, args...)})
		return len(errs) < max
	}
	if strings.TrimSpace(d.Title) == "" {
		add(".title", "is required")
	}
	if len(d.Blocks) == 0 {
		add(".blocks", "must hold at least one block")
	}
	for i := range d.Blocks {
		b := &d.Blocks[i]
		at := fmt.Sprintf(".blocks[%d]", i)
		for _, e := range b.validate() {
			if !add(at+e.Field, "%s", e.Message) {
				return errs
			}
		}
	}
	return errs
}

func (b *Block) validate() []FieldError {
	var errs []FieldError
	add := func(field, format string, args ...any) {
		errs = append(errs, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
	}
	switch b.Type {
	case BlockHeading:
		if b.Level < 1 || b.Level > 3 {
			add(".level", "must be 1, 2 or 3")
		}
		if strings.TrimSpace(b.Text) == "" {
			add(".text", "is required")
		}
	case BlockParagraph:
		if b.Text == "" && len(b.Spans) == 0 {
			add(".text", "a paragraph needs text or spans")
		}
		for j, s := range b.Spans {
			if s.Link != "" && !safeLink(s.Link) {
				add(fmt.Sprintf(".spans[%d].link", j), "must be an absolute http, https or mailto URL")
			}
		}
	case BlockList:
		if len(b.Items) == 0 {
			add(".items", "a list needs at least one item")
		}
		for j, it := range b.Items {
			if it.IsKV {
				add(fmt.Sprintf(".items[%d]", j), "list items are strings")
			}
		}
	case BlockKV:
		if len(b.Items) == 0 {
			add(".items", "a kv block needs at least one {key, value} item")
		}
		for j, it := range b.Items {
			if !it.IsKV {
				add(fmt.Sprintf(".items[%d]", j), "kv items are {key, value} objects")
			}
		}
	case BlockTable:
		if len(b.Columns) == 0 {
			add(".columns", "a table needs at least one column")
		}
		for j, row := range b.Rows {
			if len(row) != len(b.Columns) {
				add(fmt.Sprintf(".rows[%d]", j), "has %d cells, want %d (one per column)", len(row), len(b.Columns))
				continue
			}
			for k, c := range row {
				if msg := c.validate(); msg != "" {
					add(fmt.Sprintf(".rows[%d][%d]", j, k), "%s", msg)
				}
			}
		}
	case BlockChart:
		switch b.Kind {
		case ChartBar, ChartLine, ChartPie:
		default:
			add(".kind", "must be bar, line or pie")
		}
		if len(b.Labels) == 0 {
			add(".labels", "a chart needs at least one label")
		}
		if len(b.Series) == 0 {
			add(".series", "a chart needs at least one series")
		}
		for j, s := range b.Series {
			if len(s.Values) != len(b.Labels) {
				add(fmt.Sprintf(".series[%d].values", j), "has %d values, want %d (one per label)", len(s.Values), len(b.Labels))
			}
			for k, v := range s.Values {
				if math.IsNaN(v) || math.IsInf(v, 0) || (b.Kind == ChartPie && v < 0) {
					add(fmt.Sprintf(".series[%d].values[%d]", j, k), "must be a finite number (not negative in a pie)")
				}
			}
		}
	case BlockImage:
		data, err := base64.StdEncoding.DecodeString(b.DataBase64)
		if err != nil || len(data) == 0 {
			add(".data_base64", "must be a base64-encoded PNG or JPEG")
			break
		}
		if len(data) > MaxImageBytes {
			add(".data_base64", "the image is larger than %d MB", MaxImageBytes>>20)
			break
		}
		cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
		if err != nil || (format != "png" && format != "jpeg") {
			add(".data_base64", "must be a PNG or JPEG image")
			break
		}
		if cfg.Width*cfg.Height > MaxImagePixels || cfg.Width == 0 || cfg.Height == 0 {
			add(".data_base64", "image is %d×%d pixels, at most %d pixels allowed", cfg.Width, cfg.Height, MaxImagePixels)
			break
		}
		b.image = data
	case BlockPageBreak:
	case "":
		add(".type", "is required")
	default:
		add(".type", "unknown block type %q", b.Type)
	}
	return errs
}

// safeLink allows links a PDF or Word reader can follow without running
// anything: no javascript:, file: or relative URLs.
func safeLink(s string) bool {
	u, err := url.Parse(s)
	if err != nil {
		return false
	}
	switch u.Scheme {
	case "http", "https":
		return u.Host != ""
	case "mailto":
		return u.Opaque != ""
	}
	return false
}

// FromTable turns a table export into a one-table document, so a table can
// also be rendered as PDF or DOCX.
func FromTable(title string, columns []string, rows [][]Cell) *Document {
	return &Document{Title: title, Blocks: []Block{{Type: BlockTable, Columns: columns, Rows: rows}}}
}
