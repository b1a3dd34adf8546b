package render

import (
	"fmt"
	"image/color"
	"math"
	"strconv"

	"github.com/groundwork-dev/groundwork/internal/document"
)

// Canvas is the drawing surface a chart is drawn on: the PDF renderer draws
// vectors on the page, the DOCX renderer rasterises to a PNG. Coordinates
// are points from the top-left corner; y grows downwards.
type Canvas interface {
	Rect(x, y, w, h float64, fill color.RGBA)
	Line(x1, y1, x2, y2, width float64, c color.RGBA)
	Polygon(pts []Point, fill color.RGBA)
	// Text draws s with its baseline at y; align is 0 left, 1 centre, 2 right.
	Text(x, y float64, s string, size float64, align int, c color.RGBA)
	TextWidth(s string, size float64) float64
}

// Point is a canvas coordinate.
type Point struct{ X, Y float64 }

// Palette colours series (bar, line) and slices (pie), colour-blind safe
// (Okabe–Ito).
var Palette = []color.RGBA{
	{0, 114, 178, 255}, {230, 159, 0, 255}, {0, 158, 115, 255}, {204, 121, 167, 255},
	{86, 180, 233, 255}, {213, 94, 0, 255}, {240, 228, 66, 255}, {0, 0, 0, 255},
}

var (
	ink  = color.RGBA{33, 33, 33, 255}
	grid = color.RGBA{220, 220, 220, 255}
)

// DrawChart draws a chart block into the box (x, y, w, h): title on top,
// legend at the bottom, plot in between.
func DrawChart(c Canvas, b *document.Block, x, y, w, h float64) {
	const titleSize, labelSize = 11.0, 8.0
	top := y
	if b.Title != "" {
		c.Text(x+w/2, y+titleSize, b.Title, titleSize, 1, ink)
		top += titleSize + 8
	}
	legendH := 0.0
	if b.Kind == document.ChartPie || len(b.Series) > 1 {
		// Room for the x-axis labels' descenders plus a gap above the legend.
		legendH = 2*labelSize + 6
		drawLegend(c, b, x, y+h-labelSize, w, labelSize)
	}
	plotH := y + h - legendH - top
	switch b.Kind {
	case document.ChartPie:
		drawPie(c, b, x, top, w, plotH)
	default:
		drawAxes(c, b, x, top, w, plotH, labelSize)
	}
}

func drawLegend(c Canvas, b *document.Block, x, baseline, w, size float64) {
	names := make([]string, 0, len(b.Series))
	if b.Kind == document.ChartPie {
		names = append(names, b.Labels...)
	} else {
		for _, s := range b.Series {
			names = append(names, s.Name)
		}
	}
	total := 0.0
	for _, n := range names {
		total += size + 4 + c.TextWidth(n, size) + 12
	}
	cx := x + math.Max(0, (w-total)/2)
	for i, n := range names {
		col := Palette[i%len(Palette)]
		c.Rect(cx, baseline-size+1, size, size, col)
		cx += size + 4
		c.Text(cx, baseline, n, size, 0, ink)
		cx += c.TextWidth(n, size) + 12
	}
}

func drawAxes(c Canvas, b *document.Block, x, y, w, h, size float64) {
	lo, hi := 0.0, 0.0
	for _, s := range b.Series {
		for _, v := range s.Values {
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
	}
	ticks := NiceTicks(lo, hi, 5)
	lo, hi = ticks[0], ticks[len(ticks)-1]
	labelW := 0.0
	for _, t := range ticks {
		labelW = math.Max(labelW, c.TextWidth(formatTick(t), size))
	}
	px, pw := x+labelW+6, w-labelW-6
	ph := h - size - 6
	yOf := func(v float64) float64 { return y + ph - (v-lo)/(hi-lo)*ph }
	for _, t := range ticks {
		ty := yOf(t)
		c.Line(px, ty, px+pw, ty, 0.5, grid)
		c.Text(px-4, ty+size/3, formatTick(t), size, 2, ink)
	}
	n := float64(len(b.Labels))
	slot := pw / n
	for i, l := range b.Labels {
		c.Text(px+slot*(float64(i)+0.5), y+h, clipText(c, l, slot, size), size, 1, ink)
	}
	zero := yOf(math.Max(lo, math.Min(0, hi)))
	switch b.Kind {
	case document.ChartLine:
		for si, s := range b.Series {
			col := Palette[si%len(Palette)]
			for i := 1; i < len(s.Values); i++ {
				c.Line(px+slot*(float64(i)-0.5), yOf(s.Values[i-1]), px+slot*(float64(i)+0.5), yOf(s.Values[i]), 1.5, col)
			}
			for i, v := range s.Values {
				c.Rect(px+slot*(float64(i)+0.5)-1.5, yOf(v)-1.5, 3, 3, col)
			}
		}
	default:
		group := slot * 0.8
		bw := group / float64(len(b.Series))
		for si, s := range b.Series {
			col := Palette[si%len(Palette)]
			for i, v := range s.Values {
				bx := px + slot*float64(i) + slot*0.1 + bw*float64(si)
				top, bottom := yOf(v), zero
				if top > bottom {
					top, bottom = bottom, top
				}
				c.Rect(bx, top, bw, bottom-top, col)
			}
		}
	}
	c.Line(px, zero, px+pw, zero, 0.8, ink)
	c.Line(px, y, px, y+ph, 0.8, ink)
}

func drawPie(c Canvas, b *document.Block, x, y, w, h float64) {
	values := b.Series[0].Values
	sum := 0.0
	for _, v := range values {
		sum += v
	}
	if sum <= 0 {
		c.Text(x+w/2, y+h/2, "no data", 9, 1, ink)
		return
	}
	r := math.Min(w, h) / 2 * 0.9
	cx, cy := x+w/2, y+h/2
	start := -math.Pi / 2
	for i, v := range values {
		sweep := v / sum * 2 * math.Pi
		steps := max(2, int(sweep/(math.Pi/90)))
		pts := []Point{{cx, cy}}
		for k := 0; k <= steps; k++ {
			a := start + sweep*float64(k)/float64(steps)
			pts = append(pts, Point{cx + r*math.Cos(a), cy + r*math.Sin(a)})
		}
		c.Polygon(pts, Palette[i%len(Palette)])
		if v/sum >= 0.04 {
			mid := start + sweep/2
			c.Text(cx+r*0.65*math.Cos(mid), cy+r*0.65*math.Sin(mid)+3, fmt.Sprintf("%.0f%%", v/sum*100), 8, 1, color.RGBA{255, 255, 255, 255})
		}
		start += sweep
	}
}

// NiceTicks returns about n evenly spaced round numbers covering [lo, hi].
func NiceTicks(lo, hi float64, n int) []float64 {
	if hi == lo {
		hi = lo + 1
	}
	step := niceNum((hi-lo)/float64(max(n-1, 1)), true)
	// Subnormal or overflowing ranges give no usable step: fall back to
	// the two ends rather than loop or index out of range.
	if step <= 0 || math.IsInf(step, 0) || math.IsNaN(step) || (hi-lo)/step > 1000 {
		return []float64{lo, hi}
	}
	start := math.Floor(lo/step) * step
	end := math.Ceil(hi/step) * step
	var ticks []float64
	for v := start; v <= end+step/2; v += step {
		ticks = append(ticks, math.Round(v/step)*step)
	}
	if len(ticks) < 2 {
		return []float64{lo, hi}
	}
	return ticks
}

func niceNum(x float64, round bool) float64 {
	exp := math.Floor(math.Log10(x))
	f := x / math.Pow(10, exp)
	var nf float64
	switch {
	case round && f < 1.5, !round && f <= 1:
		nf = 1
	case round && f < 3, !round && f <= 2:
		nf = 2
	case round && f < 7, !round && f <= 5:
		nf = 5
	default:
		nf = 10
	}
	return nf * math.Pow(10, exp)
}

func formatTick(v float64) string {
	switch a := math.Abs(v); {
	case a >= 1e9:
		return strconv.FormatFloat(v/1e9, 'f', -1, 64) + "B"
	case a >= 1e6:
		return strconv.FormatFloat(v/1e6, 'f', -1, 64) + "M"
	case a >= 1e4:
		return strconv.FormatFloat(v/1e3, 'f', -1, 64) + "k"
	default:
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
}

// clipText shortens s with an ellipsis to fit width.
func clipText(c Canvas, s string, width, size float64) string {
	if c.TextWidth(s, size) <= width {
		return s
	}
	r := []rune(s)
	for len(r) > 1 && c.TextWidth(string(r)+"…", size) > width {
		r = r[:len(r)-1]
	}
	return string(r) + "…"
}
