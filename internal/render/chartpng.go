package render

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"math"
	"sync"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
	"golang.org/x/image/vector"

	"github.com/groundwork-dev/groundwork/internal/document"
)

// chartPNGScale is how many pixels one chart point becomes: charts are
// drawn at 2× so they stay crisp when Word scales or a reader zooms.
const chartPNGScale = 2

// chartPNGMaxPixels bounds the raster a caller can ask for (about 40 MB of
// RGBA), so a bad size cannot exhaust memory.
const chartPNGMaxPixels = 10_000_000

// chartPNGFont is the parsed Go Regular font. Parsing is done once per process
// because every chart of every export uses it.
var chartPNGFont = sync.OnceValues(func() (*opentype.Font, error) {
	return opentype.Parse(goregular.TTF)
})

// ChartPNG draws a chart block as a widthPx × heightPx PNG on a white
// background, at two pixels per chart point.
func ChartPNG(b *document.Block, widthPx, heightPx int) (out []byte, err error) {
	if err := chartPNGCheck(b); err != nil {
		return nil, err
	}
	if widthPx < 40*chartPNGScale || heightPx < 40*chartPNGScale || widthPx > chartPNGMaxPixels/heightPx {
		return nil, fmt.Errorf("chart png: bad size %d×%d pixels", widthPx, heightPx)
	}
	f, err := chartPNGFont()
	if err != nil {
		return nil, fmt.Errorf("chart png: parse Go font: %w", err)
	}
	img := image.NewRGBA(image.Rect(0, 0, widthPx, heightPx))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	c := &chartPNGCanvas{img: img, font: f, scale: chartPNGScale, faces: map[float64]font.Face{}}
	defer c.close()
	// DrawChart trusts its input; chartPNGCheck covers what is known to break
	// it, and this turns anything missed into one failed chart rather than
	// a crashed render.
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("chart png: drawing failed: %v", r)
		}
	}()
	// DrawChart puts labels on the box edges (axis labels' descenders, the
	// top tick's ascent), so a margin keeps them inside the image.
	const pad = 6.0
	w, h := float64(widthPx)/chartPNGScale, float64(heightPx)/chartPNGScale
	DrawChart(c, b, pad, pad, w-2*pad, h-2*pad)
	var buf bytes.Buffer
	if err := (&chartPNGEncoder).Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("chart png: encode: %w", err)
	}
	return buf.Bytes(), nil
}

// chartPNGEncoder favours speed: charts are flat colour and compress well
// anyway, and a document may hold many of them.
var chartPNGEncoder = png.Encoder{CompressionLevel: png.BestSpeed}

// chartPNGCheck rejects chart blocks DrawChart cannot draw: it indexes the
// first series and divides by the label count, and value ranges whose span
// overflows a float64 leave it without axis ticks.
func chartPNGCheck(b *document.Block) error {
	if b == nil {
		return errors.New("chart png: no block")
	}
	if len(b.Labels) == 0 || len(b.Series) == 0 {
		return errors.New("chart png: a chart needs labels and at least one series")
	}
	lo, hi := 0.0, 0.0
	for _, s := range b.Series {
		for _, v := range s.Values {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return errors.New("chart png: values must be finite numbers")
			}
			if v < 0 && b.Kind == document.ChartPie {
				// A negative slice can make the sum tiny and one slice's
				// sweep, and so its vertex count, astronomically large.
				return errors.New("chart png: a pie's values must not be negative")
			}
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
	}
	if math.IsInf(hi-lo, 0) || (b.Kind == document.ChartPie && math.IsInf(chartPNGAbsSum(b.Series[0].Values), 0)) {
		return errors.New("chart png: values are too large to plot")
	}
	return nil
}

func chartPNGAbsSum(vs []float64) float64 {
	s := 0.0
	for _, v := range vs {
		s += math.Abs(v)
	}
	return s
}

// chartPNGCanvas is a Canvas over an RGBA image: shapes are rasterised with
// anti-aliasing by x/image/vector, text with the Go fonts.
type chartPNGCanvas struct {
	img   *image.RGBA
	font  *opentype.Font
	scale float64
	// faces caches one face per point size; opentype faces hold glyph
	// caches, so reusing them matters for charts with many labels.
	faces map[float64]font.Face
	ras   vector.Rasterizer
}

func (c *chartPNGCanvas) close() {
	for _, f := range c.faces {
		f.Close()
	}
}

// Rect fills an axis-aligned rectangle.
func (c *chartPNGCanvas) Rect(x, y, w, h float64, fill color.RGBA) {
	c.Polygon([]Point{{x, y}, {x + w, y}, {x + w, y + h}, {x, y + h}}, fill)
}

// Line strokes a segment as a thin quad around it, at least a pixel wide
// so hairlines do not vanish.
func (c *chartPNGCanvas) Line(x1, y1, x2, y2, width float64, col color.RGBA) {
	dx, dy := x2-x1, y2-y1
	n := math.Hypot(dx, dy)
	if n == 0 || math.IsNaN(n) {
		return
	}
	half := math.Max(width, 1/c.scale) / 2
	nx, ny := -dy/n*half, dx/n*half
	c.Polygon([]Point{{x1 + nx, y1 + ny}, {x2 + nx, y2 + ny}, {x2 - nx, y2 - ny}, {x1 - nx, y1 - ny}}, col)
}

// Polygon fills a closed polygon. The rasteriser is sized to the shape's
// bounding box, not the image, so a bar chart with thousands of bars does
// not clear a full-image buffer per bar.
func (c *chartPNGCanvas) Polygon(pts []Point, fill color.RGBA) {
	if len(pts) < 3 {
		return
	}
	minX, minY := math.Inf(1), math.Inf(1)
	maxX, maxY := math.Inf(-1), math.Inf(-1)
	for _, p := range pts {
		if math.IsNaN(p.X) || math.IsNaN(p.Y) || math.IsInf(p.X, 0) || math.IsInf(p.Y, 0) {
			return
		}
		minX, maxX = math.Min(minX, p.X*c.scale), math.Max(maxX, p.X*c.scale)
		minY, maxY = math.Min(minY, p.Y*c.scale), math.Max(maxY, p.Y*c.scale)
	}
	b := c.img.Bounds()
	box := image.Rect(int(math.Floor(minX)), int(math.Floor(minY)), int(math.Ceil(maxX)), int(math.Ceil(maxY))).Intersect(b)
	if box.Empty() {
		return
	}
	ox, oy := float32(box.Min.X), float32(box.Min.Y)
	c.ras.Reset(box.Dx(), box.Dy())
	c.ras.DrawOp = draw.Over
	for i, p := range pts {
		x, y := float32(p.X*c.scale)-ox, float32(p.Y*c.scale)-oy
		if i == 0 {
			c.ras.MoveTo(x, y)
		} else {
			c.ras.LineTo(x, y)
		}
	}
	c.ras.ClosePath()
	c.ras.Draw(c.img, box, image.NewUniform(fill), image.Point{})
}

// Text draws s with its baseline at y, aligned on x.
func (c *chartPNGCanvas) Text(x, y float64, s string, size float64, align int, col color.RGBA) {
	face := c.face(size)
	if face == nil || s == "" {
		return
	}
	w := font.MeasureString(face, s)
	px := fixed.Int26_6(x * c.scale * 64)
	switch align {
	case 1:
		px -= w / 2
	case 2:
		px -= w
	}
	d := font.Drawer{Dst: c.img, Src: image.NewUniform(col), Face: face, Dot: fixed.Point26_6{X: px, Y: fixed.Int26_6(y * c.scale * 64)}}
	d.DrawString(s)
}

// TextWidth measures s in points at the given size.
func (c *chartPNGCanvas) TextWidth(s string, size float64) float64 {
	face := c.face(size)
	if face == nil {
		return 0
	}
	return float64(font.MeasureString(face, s)) / 64 / c.scale
}

func (c *chartPNGCanvas) face(size float64) font.Face {
	if f, ok := c.faces[size]; ok {
		return f
	}
	if !(size > 0 && size < 1000) {
		return nil
	}
	f, err := opentype.NewFace(c.font, &opentype.FaceOptions{Size: size * c.scale, DPI: 72, Hinting: font.HintingNone})
	if err != nil {
		return nil
	}
	c.faces[size] = f
	return f
}
