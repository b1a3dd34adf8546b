package render

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"

	"github.com/signintech/gopdf"

	"github.com/groundwork-dev/groundwork/internal/document"
)

// pdfChartH is the height of a chart's box; it spans the content width.
const pdfChartH = 220.0

// pdfCanvas draws charts as vector graphics on the current page.
type pdfCanvas struct{ p *pdfDoc }

var _ Canvas = pdfCanvas{}

// Rect fills a rectangle.
func (c pdfCanvas) Rect(x, y, w, h float64, fill color.RGBA) { c.p.fillRect(x, y, w, h, fill) }

// Line strokes a line.
func (c pdfCanvas) Line(x1, y1, x2, y2, width float64, col color.RGBA) {
	c.p.line(x1, y1, x2, y2, width, col)
}

// Polygon fills a closed polygon.
func (c pdfCanvas) Polygon(pts []Point, fill color.RGBA) {
	if c.p.err != nil || len(pts) < 3 {
		return
	}
	gpts := make([]gopdf.Point, len(pts))
	for i, pt := range pts {
		if !pdfFinite(pt.X, pt.Y) {
			return
		}
		gpts[i] = gopdf.Point{X: pt.X, Y: pt.Y}
	}
	c.p.gp.SetFillColor(fill.R, fill.G, fill.B)
	c.p.gp.Polygon(gpts, "F")
}

// Text draws s with its baseline at y, aligned left, centre or right of x.
func (c pdfCanvas) Text(x, y float64, s string, size float64, align int, col color.RGBA) {
	s = cleanText(s, false)
	if !pdfFinite(x, y, size) || size <= 0 {
		return
	}
	switch align {
	case 1:
		x -= c.TextWidth(s, size) / 2
	case 2:
		x -= c.TextWidth(s, size)
	}
	c.p.drawText(x, y, s, 0, size, col)
}

// TextWidth measures s in the regular face.
func (c pdfCanvas) TextWidth(s string, size float64) float64 {
	return c.p.m.width(cleanText(s, false), 0, size)
}

// chart draws a chart block as vectors in a box of content width × pdfChartH.
func (p *pdfDoc) chart(b *document.Block) {
	cb, ok := pdfChartData(b)
	if !ok {
		p.warn("chart %q has no data to draw", b.Title)
		p.plainText(cleanText(b.Title, false)+" (no chart data)", styleItalic, pdfBodySize, pdfBodyLeading, pdfMuted, 0)
		return
	}
	p.gap(pdfBodySize)
	p.ensure(pdfChartH)
	DrawChart(pdfCanvas{p}, cb, pdfMarginX, p.y, pdfContentW, pdfChartH)
	p.y += pdfChartH
}

// pdfChartData returns a copy of a chart block DrawChart can draw whatever the
// input: a known kind, labels and a series, one value per label, and values
// whose axis range stays a normal, finite float. Validated documents
// already pass; this guards documents built in code.
func pdfChartData(b *document.Block) (*document.Block, bool) {
	if len(b.Labels) == 0 || len(b.Series) == 0 {
		return nil, false
	}
	cb := *b
	switch cb.Kind {
	case document.ChartBar, document.ChartLine, document.ChartPie:
	default:
		cb.Kind = document.ChartBar
	}
	// NiceTicks needs a range whose quarter is a normal float: huge
	// values overflow it and subnormal ones (1e-323) leave no ticks.
	const limit, tiny = 1e300, 1e-200
	cb.Series = make([]document.Series, len(b.Series))
	for i, s := range b.Series {
		vals := make([]float64, len(b.Labels))
		for j := range vals {
			if j < len(s.Values) {
				v := s.Values[j]
				switch {
				case math.IsNaN(v), math.Abs(v) < tiny:
					v = 0
				case v > limit:
					v = limit
				case v < -limit:
					v = -limit
				}
				if cb.Kind == document.ChartPie && v < 0 {
					v = 0
				}
				vals[j] = v
			}
		}
		cb.Series[i] = document.Series{Name: s.Name, Values: vals}
	}
	return &cb, true
}

// pdfImageDPI is the resolution images are assumed to have: screenshots and
// charts are made for screens.
const pdfImageDPI = 96.0

// image draws a PNG or JPEG block scaled to fit the content width and the
// page, centred, with its caption below.
func (p *pdfDoc) image(b *document.Block, index int) {
	data := b.Image()
	if data == nil && b.DataBase64 != "" && base64.StdEncoding.DecodedLen(len(b.DataBase64)) <= document.MaxImageBytes {
		data, _ = base64.StdEncoding.DecodeString(b.DataBase64)
	}
	caption := cleanText(b.Caption, true)
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil || (format != "png" && format != "jpeg") || cfg.Width <= 0 || cfg.Height <= 0 ||
		cfg.Width*cfg.Height > document.MaxImagePixels || len(data) > document.MaxImageBytes {
		p.imageFailed(index, caption, "not a PNG or JPEG image within the size limits")
		return
	}
	const captionSize, gapBelow = 9.0, 4.0
	var capLines []pdfLine
	capH := 0.0
	if caption != "" {
		capLines = pdfWrap(p.m, []pdfFrag{{text: caption, st: styleItalic}}, captionSize, pdfContentW)
		capH = gapBelow + float64(min(len(capLines), 3))*captionSize*1.35
	}
	// Natural size at 96 dpi, shrunk to fit the content width and a page
	// (keeping room for up to three caption lines); never enlarged, which
	// would only blur it.
	w := float64(cfg.Width) * 72 / pdfImageDPI
	h := float64(cfg.Height) * 72 / pdfImageDPI
	scale := math.Min(1, math.Min(pdfContentW/w, (pdfContentBottom-pdfContentTop-capH)/h))
	w, h = w*scale, h*scale
	p.gap(pdfBodySize)
	p.ensure(h + capH)
	x := pdfMarginX + (pdfContentW-w)/2
	if err := p.embedImage(data, x, p.y, w, h); err != nil {
		p.imageFailed(index, caption, err.Error())
		return
	}
	p.y += h
	if len(capLines) > 0 {
		p.y += gapBelow
		for _, ln := range capLines {
			ln.frags = append([]pdfPlaced(nil), ln.frags...)
			for i := range ln.frags {
				ln.frags[i].x += (pdfContentW - ln.w) / 2
			}
			p.drawLines([]pdfLine{ln}, pdfTextBox{x: pdfMarginX, size: captionSize, leading: 1.35, color: pdfMuted})
		}
	}
}

// embedImage places image bytes. gopdf parses PNGs itself and refuses
// some (16-bit, interlaced); those are decoded and re-encoded as 8-bit PNG.
func (p *pdfDoc) embedImage(data []byte, x, y, w, h float64) error {
	if p.err != nil {
		return nil
	}
	rect := &gopdf.Rect{W: w, H: h}
	holder, err := gopdf.ImageHolderByBytes(data)
	if err == nil {
		if err = p.gp.ImageByHolder(holder, x, y, rect); err == nil {
			return nil
		}
	}
	img, _, derr := image.Decode(bytes.NewReader(data))
	if derr != nil {
		return fmt.Errorf("decode: %w", derr)
	}
	var buf bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&buf, pdfNRGBA(img)); err != nil {
		return fmt.Errorf("re-encode: %w", err)
	}
	holder, err = gopdf.ImageHolderByBytes(buf.Bytes())
	if err != nil {
		return fmt.Errorf("embed: %w", err)
	}
	if err := p.gp.ImageByHolder(holder, x, y, rect); err != nil {
		return fmt.Errorf("embed: %w", err)
	}
	return nil
}

func pdfNRGBA(img image.Image) *image.NRGBA {
	if n, ok := img.(*image.NRGBA); ok {
		return n
	}
	bounds := img.Bounds()
	out := image.NewNRGBA(image.Rect(0, 0, bounds.Dx(), bounds.Dy()))
	for y := bounds.Min.Y; y < bounds.Max.Y; y++ {
		for x := bounds.Min.X; x < bounds.Max.X; x++ {
			out.Set(x-bounds.Min.X, y-bounds.Min.Y, img.At(x, y))
		}
	}
	return out
}

// imageFailed draws a visible placeholder where an image could not be
// embedded, and warns.
func (p *pdfDoc) imageFailed(index int, caption, why string) {
	p.warn("image block %d could not be embedded: %s", index, why)
	p.gap(pdfBodySize)
	const h = 40.0
	p.ensure(h)
	p.line(pdfMarginX, p.y, pdfMarginX+pdfContentW, p.y, 0.5, pdfRuleCol)
	p.line(pdfMarginX, p.y+h, pdfMarginX+pdfContentW, p.y+h, 0.5, pdfRuleCol)
	msg := "[image could not be displayed]"
	if caption != "" {
		msg = "[image could not be displayed: " + caption + "]"
	}
	msg = p.fit(msg, styleItalic, 9, pdfContentW)
	p.drawText(pdfMarginX+(pdfContentW-p.m.width(msg, styleItalic, 9))/2, p.y+h/2+3, msg, styleItalic, 9, pdfMuted)
	p.y += h
}
