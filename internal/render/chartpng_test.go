package render

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"math"
	"testing"

	"github.com/groundwork-dev/groundwork/internal/document"
)

// countColours counts the pixels of img exactly equal to each colour.
func countColours(img image.Image, cols ...color.RGBA) []int {
	n := make([]int, len(cols))
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, a := img.At(x, y).RGBA()
			for i, c := range cols {
				if uint8(r>>8) == c.R && uint8(g>>8) == c.G && uint8(bl>>8) == c.B && uint8(a>>8) == c.A {
					n[i]++
				}
			}
		}
	}
	return n
}

func TestChartPNG(t *testing.T) {
	series := []document.Series{{Name: "2024", Values: []float64{10, 25, -5, 40}}, {Name: "2025", Values: []float64{12, 30, 8, 45}}}
	labels := []string{"Q1", "Q2", "Q3", "Q4"}
	for _, b := range []document.Block{
		{Type: document.BlockChart, Kind: document.ChartBar, Title: "Revenue – Café", Labels: labels, Series: series},
		{Type: document.BlockChart, Kind: document.ChartLine, Title: "Trend", Labels: labels, Series: series},
		{Type: document.BlockChart, Kind: document.ChartPie, Labels: labels, Series: []document.Series{{Name: "share", Values: []float64{1, 2, 3, 4}}}},
	} {
		t.Run(string(b.Kind), func(t *testing.T) {
			data, err := ChartPNG(&b, 800, 440)
			if err != nil {
				t.Fatal(err)
			}
			img, err := png.Decode(bytes.NewReader(data))
			if err != nil {
				t.Fatalf("not a PNG: %v", err)
			}
			if got := img.Bounds().Size(); got != (image.Point{800, 440}) {
				t.Fatalf("size %v, want 800×440", got)
			}
			white := color.RGBA{255, 255, 255, 255}
			// Bars and pie slices are solid; a line is anti-aliased, so
			// only its core pixels hit the exact colour.
			want := 500
			if b.Kind == document.ChartLine {
				want = 50
			}
			n := countColours(img, white, Palette[0], Palette[1])
			if n[0] < img.Bounds().Dx()*img.Bounds().Dy()/3 {
				t.Errorf("background not white: %d white pixels", n[0])
			}
			for i, c := range n[1:] {
				if c < want {
					t.Errorf("palette colour %d: %d pixels, want at least %d", i, c, want)
				}
			}
		})
	}
}

func TestChartPNGRejects(t *testing.T) {
	ok := document.Block{Type: document.BlockChart, Kind: document.ChartBar, Labels: []string{"a"}, Series: []document.Series{{Values: []float64{1}}}}
	for name, mod := range map[string]func(b *document.Block){
		"no labels":   func(b *document.Block) { b.Labels = nil },
		"no series":   func(b *document.Block) { b.Series = nil },
		"pie no data": func(b *document.Block) { b.Kind = document.ChartPie; b.Series = nil },
		"negative pie": func(b *document.Block) {
			b.Kind = document.ChartPie
			b.Series = []document.Series{{Values: []float64{1, -1 + 1e-12}}}
		},
		"NaN": func(b *document.Block) { b.Series = []document.Series{{Values: []float64{math.NaN()}}} },
		"overflow": func(b *document.Block) {
			b.Series = []document.Series{{Values: []float64{-math.MaxFloat64}}, {Values: []float64{math.MaxFloat64}}}
		},
	} {
		t.Run(name, func(t *testing.T) {
			b := ok
			mod(&b)
			if _, err := ChartPNG(&b, 400, 200); err == nil {
				t.Error("no error")
			}
		})
	}
	if _, err := ChartPNG(&ok, 1, 1); err == nil {
		t.Error("1×1 pixels: no error")
	}
	if _, err := ChartPNG(&ok, 400, 200); err != nil {
		t.Errorf("valid chart: %v", err)
	}
	// Short series, unknown kinds and many labels are drawn, not refused.
	odd := document.Block{Kind: "area", Labels: make([]string, 500), Series: []document.Series{{Values: []float64{3}}}}
	if _, err := ChartPNG(&odd, 400, 200); err != nil {
		t.Errorf("odd chart: %v", err)
	}
}
