package render

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/groundwork-dev/groundwork/internal/document"
)

// pdfFuzzDoc builds a document from fuzzed values: seed drives the choice
// of blocks, text is cut into the texts, rows and cols size tables and v1,
// v2 feed charts (including NaN, infinities and huge values). The document
// is deliberately not validated: PDF must survive documents built in code.
func pdfFuzzDoc(title, text string, seed int64, rows, cols uint8, v1, v2 float64) *document.Document {
	r := rand.New(rand.NewPCG(uint64(seed), 7))
	piece := func() string {
		if text == "" || r.IntN(8) == 0 {
			return ""
		}
		a, b := r.IntN(len(text)+1), r.IntN(len(text)+1)
		if a > b {
			a, b = b, a
		}
		return text[a:b]
	}
	doc := &document.Document{Title: title, Subtitle: piece(), Author: piece(), Keywords: piece()}
	n := 1 + r.IntN(12)
	for i := 0; i < n; i++ {
		var b document.Block
		switch r.IntN(10) {
		case 0:
			b = document.Block{Type: document.BlockHeading, Level: r.IntN(5), Text: piece()}
		case 1:
			b = document.Block{Type: document.BlockParagraph, Text: text}
		case 2:
			b = document.Block{Type: document.BlockParagraph}
			for k := r.IntN(6); k >= 0; k-- {
				link := ""
				switch r.IntN(4) {
				case 0:
					link = "https://example.com/" + piece()
				case 1:
					link = piece()
				}
				b.Spans = append(b.Spans, document.Span{Text: piece(), Bold: r.IntN(2) == 0, Italic: r.IntN(2) == 0, Link: link})
			}
		case 3:
			b = document.Block{Type: document.BlockList, Ordered: r.IntN(2) == 0}
			for k := int(rows) % 30; k >= 0; k-- {
				b.Items = append(b.Items, document.Item{Text: piece()})
			}
		case 4:
			b = document.Block{Type: document.BlockKV}
			for k := r.IntN(8); k >= 0; k-- {
				b.Items = append(b.Items, document.Item{Key: piece(), Value: piece(), IsKV: r.IntN(5) > 0})
			}
		case 5:
			b = document.Block{Type: document.BlockTable}
			nc := int(cols) % 14
			for c := 0; c < nc; c++ {
				b.Columns = append(b.Columns, piece())
			}
			for k := 0; k < int(rows)%80; k++ {
				row := make([]document.Cell, max(0, nc+r.IntN(3)-1))
				for c := range row {
					switch r.IntN(4) {
					case 0:
						row[c] = sampleCell(fmt.Sprint(r.IntN(1e6) - 5000))
					case 1:
						row[c] = sampleCell("true")
					default:
						row[c] = document.StringCell(piece())
					}
				}
				b.Rows = append(b.Rows, row)
			}
		case 6:
			kinds := []document.ChartKind{document.ChartBar, document.ChartLine, document.ChartPie, "other"}
			b = document.Block{Type: document.BlockChart, Kind: kinds[r.IntN(len(kinds))], Title: piece()}
			nl := r.IntN(8)
			for k := 0; k < nl; k++ {
				b.Labels = append(b.Labels, piece())
			}
			for s := r.IntN(4); s > 0; s-- {
				vals := make([]float64, max(0, nl+r.IntN(3)-1))
				for k := range vals {
					vals[k] = []float64{v1, v2, v1 * float64(k), v2 - float64(k), float64(r.IntN(100))}[r.IntN(5)]
				}
				b.Series = append(b.Series, document.Series{Name: piece(), Values: vals})
			}
		case 7:
			b = document.Block{Type: document.BlockImage, Caption: piece()}
			w, h := 1+int(cols)%64, 1+int(rows)%64
			switch r.IntN(3) {
			case 0:
				b.SetImage(pdfFuzzImage(w, h, "png"))
			case 1:
				b.SetImage(pdfFuzzImage(w, h, "jpeg"))
			default:
				b.SetImage([]byte(text))
			}
		case 8:
			b = document.Block{Type: document.BlockPageBreak}
		default:
			b = document.Block{Type: document.BlockType(piece())}
		}
		doc.Blocks = append(doc.Blocks, b)
	}
	return doc
}

func pdfFuzzImage(w, h int, format string) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.RGBA{uint8(x * 4), uint8(y * 4), 128, 255})
		}
	}
	var buf bytes.Buffer
	if format == "jpeg" {
		_ = jpeg.Encode(&buf, img, nil)
	} else {
		_ = png.Encode(&buf, img)
	}
	return buf.Bytes()
}

func FuzzPDF(f *testing.F) {
	type seed struct {
		title, text string
		seed        int64
		rows, cols  uint8
		v1, v2      float64
	}
	seeds := []seed{
		{"Report", "Hello world, this is a paragraph.", 1, 5, 3, 10, 20},
		{"Café – naïve “quotes”", "東京 🚀 ✓ ünïcödé text\nwith a break and\ttabs", 2, 40, 6, -5, 1e9},
		{"", strings.Repeat("averyveryverylongwordwithoutanyspaces", 20), 3, 79, 13, 0, 0},
		{"Edge", "\x00\x01\xff\xfe invalid utf8 \u200b\ufe0f zero width \U0010FFFF", 4, 0, 0, 1e308, -1e308},
		{"Charts", "alpha beta gamma delta", 5, 12, 2, 3.5, -2.25},
		{"Many", "x y z", 6, 255, 255, -1, 1},
		{"Images", "caption text", 7, 33, 17, 1, 2},
		{"Subnormal", "tiny values", 8, 20, 3, 1e-323, 5e-324},
	}
	isSeed := map[string]bool{}
	for _, s := range seeds {
		f.Add(s.title, s.text, s.seed, s.rows, s.cols, s.v1, s.v2)
		isSeed[fmt.Sprintf("%#v", s)] = true
	}
	f.Fuzz(func(t *testing.T, title, text string, seedVal int64, rows, cols uint8, v1, v2 float64) {
		if len(text) > 4000 || len(title) > 1000 {
			t.Skip("bounded input size keeps each run fast")
		}
		doc := pdfFuzzDoc(title, text, seedVal, rows, cols, v1, v2)
		var buf bytes.Buffer
		res, err := PDF(&buf, doc, Options{})
		if err != nil {
			t.Fatalf("PDF: %v", err)
		}
		data := buf.Bytes()
		if !bytes.HasPrefix(data, []byte("%PDF-")) || !bytes.HasSuffix(data, []byte("%%EOF\n")) {
			t.Fatalf("not a complete PDF (%d bytes)", len(data))
		}
		if res.Pages < 1 {
			t.Fatalf("Pages = %d", res.Pages)
		}
		for _, w := range res.Warnings {
			if !utf8.ValidString(w) {
				t.Errorf("warning is not UTF-8: %q", w)
			}
		}
		// qpdf costs a process per run: only the seed corpus is checked.
		if isSeed[fmt.Sprintf("%#v", seed{title, text, seedVal, rows, cols, v1, v2})] {
			qpdfCheck(t, data)
		}
	})
}
