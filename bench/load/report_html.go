package main

import (
	"fmt"
	"html"
	"image/color"
	"strings"

	"github.com/groundwork-dev/groundwork/internal/document"
	"github.com/groundwork-dev/groundwork/internal/render"
)

// reportHTML renders a document as a printable HTML page (the way a
// browser-based exporter would), charts as inline SVG drawn by the same
// render.DrawChart the PDF renderer uses.
func reportHTML(d *document.Document) string {
	var b strings.Builder
	b.WriteString(`<!doctype html><html><head><meta charset="utf-8"><title>` + html.EscapeString(d.Title) + `</title><style>
@page { size: A4; margin: 20mm 18mm; }
body { font-family: sans-serif; font-size: 10.5pt; line-height: 1.35; }
table { border-collapse: collapse; width: 100%; } thead { display: table-header-group; }
th, td { border: 1px solid #ccc; padding: 3px 5px; text-align: left; } th { background: #eee; }
.kv td:first-child { font-weight: bold; width: 30%; } figure { margin: 1em 0; } img { max-width: 100%; }
</style></head><body>`)
	fmt.Fprintf(&b, "<h1>%s</h1><p><em>%s</em> — %s</p>", esc(d.Title), esc(d.Subtitle), esc(d.Author))
	for i := range d.Blocks {
		bl := &d.Blocks[i]
		switch bl.Type {
		case document.BlockHeading:
			fmt.Fprintf(&b, "<h%d>%s</h%d>", bl.Level+1, esc(bl.Text), bl.Level+1)
		case document.BlockParagraph:
			b.WriteString("<p>")
			if len(bl.Spans) == 0 {
				b.WriteString(esc(bl.Text))
			}
			for _, s := range bl.Spans {
				t := esc(s.Text)
				if s.Bold {
					t = "<b>" + t + "</b>"
				}
				if s.Italic {
					t = "<i>" + t + "</i>"
				}
				if s.Link != "" {
					t = `<a href="` + esc(s.Link) + `">` + t + "</a>"
				}
				b.WriteString(t)
			}
			b.WriteString("</p>")
		case document.BlockList:
			tag := "ul"
			if bl.Ordered {
				tag = "ol"
			}
			b.WriteString("<" + tag + ">")
			for _, it := range bl.Items {
				b.WriteString("<li>" + esc(it.Text) + "</li>")
			}
			b.WriteString("</" + tag + ">")
		case document.BlockKV:
			b.WriteString(`<table class="kv">`)
			for _, it := range bl.Items {
				b.WriteString("<tr><td>" + esc(it.Key) + "</td><td>" + esc(it.Value) + "</td></tr>")
			}
			b.WriteString("</table>")
		case document.BlockTable:
			b.WriteString("<table><thead><tr>")
			for _, c := range bl.Columns {
				b.WriteString("<th>" + esc(c) + "</th>")
			}
			b.WriteString("</tr></thead><tbody>")
			for _, row := range bl.Rows {
				b.WriteString("<tr>")
				for _, c := range row {
					b.WriteString("<td>" + esc(c.Text()) + "</td>")
				}
				b.WriteString("</tr>")
			}
			b.WriteString("</tbody></table>")
		case document.BlockChart:
			c := &svgCanvas{}
			render.DrawChart(c, bl, 0, 0, 480, 220)
			b.WriteString(`<figure><svg xmlns="http://www.w3.org/2000/svg" width="480" height="220" viewBox="0 0 480 220">` + c.b.String() + "</svg></figure>")
		case document.BlockImage:
			fmt.Fprintf(&b, `<figure><img src="data:image/png;base64,%s"><figcaption>%s</figcaption></figure>`, bl.DataBase64, esc(bl.Caption))
		case document.BlockPageBreak:
			b.WriteString(`<div style="break-after: page"></div>`)
		}
	}
	b.WriteString("</body></html>")
	return b.String()
}

func esc(s string) string { return html.EscapeString(s) }

// svgCanvas implements render.Canvas as SVG elements.
type svgCanvas struct{ b strings.Builder }

func rgb(c color.RGBA) string { return fmt.Sprintf("rgb(%d,%d,%d)", c.R, c.G, c.B) }

func (s *svgCanvas) Rect(x, y, w, h float64, fill color.RGBA) {
	fmt.Fprintf(&s.b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"/>`, x, y, w, h, rgb(fill))
}

func (s *svgCanvas) Line(x1, y1, x2, y2, width float64, c color.RGBA) {
	fmt.Fprintf(&s.b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="%.1f"/>`, x1, y1, x2, y2, rgb(c), width)
}

func (s *svgCanvas) Polygon(pts []render.Point, fill color.RGBA) {
	s.b.WriteString(`<polygon points="`)
	for _, p := range pts {
		fmt.Fprintf(&s.b, "%.1f,%.1f ", p.X, p.Y)
	}
	fmt.Fprintf(&s.b, `" fill="%s"/>`, rgb(fill))
}

func (s *svgCanvas) Text(x, y float64, t string, size float64, align int, c color.RGBA) {
	anchor := []string{"start", "middle", "end"}[align]
	fmt.Fprintf(&s.b, `<text x="%.1f" y="%.1f" font-size="%.1f" text-anchor="%s" fill="%s" font-family="sans-serif">%s</text>`, x, y, size, anchor, rgb(c), esc(t))
}

func (s *svgCanvas) TextWidth(t string, size float64) float64 {
	return float64(len([]rune(t))) * size * 0.55
}
