package testsite

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"sync"
)

// faviconPath is the icon every page links (browsers ask for it anyway).
const faviconPath = "/static/favicon.png"

// stylesheet gives screenshots colour, a wide hero and readable article
// text, so a full-page capture is clearly not blank.
const stylesheet = `*, *::before, *::after { box-sizing: border-box; }
body { margin: 0; font-family: "Helvetica Neue", Arial, sans-serif; color: #1f2937; background: #f8fafc; line-height: 1.6; }
a { color: #1d4ed8; }
.site-header { display: flex; flex-wrap: wrap; align-items: center; gap: 24px; padding: 16px 32px; background: #0f2a4a; }
.site-header a { color: #e2e8f0; text-decoration: none; }
.brand { display: flex; align-items: center; gap: 10px; font-size: 22px; font-weight: 700; color: #fff !important; }
.site-header nav a { margin-right: 16px; font-size: 15px; }
.hero img { display: block; width: 100%; height: auto; }
main { max-width: 780px; margin: 40px auto; padding: 32px 40px; background: #fff; border-radius: 8px; box-shadow: 0 1px 4px rgba(15, 42, 74, 0.15); }
main h1 { font-size: 34px; line-height: 1.2; color: #0f2a4a; margin-top: 0; }
main h2 { font-size: 22px; color: #0f2a4a; margin-top: 32px; border-bottom: 2px solid #fbbf24; padding-bottom: 4px; }
main p { font-size: 17px; margin: 0 0 16px; }
main figure { margin: 0 0 24px; }
main figure img { width: 100%; height: auto; border: 1px solid #cbd5e1; }
main figcaption { font-size: 14px; color: #64748b; }
.loading { color: #94a3b8; font-style: italic; }
.page-pricing main h2 { border-color: #22c55e; }
.page-careers main h2 { border-color: #ec4899; }
.page-blog main { max-width: 700px; }
.site-footer { padding: 24px 32px; background: #0f2a4a; color: #cbd5e1; font-size: 14px; }
.site-footer a { color: #93c5fd; }
.site-footer section { display: inline-block; vertical-align: top; width: 45%; margin-right: 4%; }
.site-footer h2 { font-size: 16px; color: #fff; }
`

// images are generated once per process; they depend on nothing, so every
// Site serves the same bytes.
var images = sync.OnceValue(func() map[string][]byte {
	return map[string][]byte{
		LogoPath:                encodePNG(logo(64)),
		faviconPath:             encodePNG(logo(32)),
		HeroPath:                encodePNG(hero(1200, 400)),
		"/static/product-0.png": encodePNG(dashboard(800, 450, 0)),
		"/static/product-1.png": encodePNG(dashboard(800, 450, 1)),
		"/static/product-2.png": encodePNG(dashboard(800, 450, 2)),
	}
})

func encodePNG(img image.Image) []byte {
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		panic(fmt.Sprintf("testsite: encode png: %v", err)) // writing to memory cannot fail
	}
	return b.Bytes()
}

var (
	navy  = color.RGBA{0x0f, 0x2a, 0x4a, 0xff}
	blue  = color.RGBA{0x1d, 0x4e, 0xd8, 0xff}
	amber = color.RGBA{0xfb, 0xbf, 0x24, 0xff}
	white = color.RGBA{0xff, 0xff, 0xff, 0xff}
	slate = color.RGBA{0xe2, 0xe8, 0xf0, 0xff}
)

// logo is a blue disc with a white arrow-like chevron.
func logo(n int) image.Image {
	img := image.NewRGBA(image.Rect(0, 0, n, n))
	c := float64(n-1) / 2
	for y := range n {
		for x := range n {
			fx, fy := (float64(x)-c)/c, (float64(y)-c)/c
			switch {
			case fx*fx+fy*fy > 1:
				img.Set(x, y, color.Transparent)
			case math.Abs(fy) < 0.6 && math.Abs(fx-(0.5-math.Abs(fy))) < 0.18:
				img.Set(x, y, white)
			default:
				img.Set(x, y, blue)
			}
		}
	}
	return img
}

// hero is a navy-to-blue gradient crossed by an amber route with depots.
func hero(w, h int) image.Image {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		t := float64(y) / float64(h)
		row := color.RGBA{lerp(navy.R, blue.R, t), lerp(navy.G, blue.G, t), lerp(navy.B, blue.B, t), 0xff}
		for x := range w {
			img.Set(x, y, row)
		}
	}
	route := func(x int) float64 {
		return float64(h)/2 + float64(h)/4*math.Sin(float64(x)/float64(w)*3*math.Pi)
	}
	for x := range w {
		cy := route(x)
		for y := int(cy) - 3; y <= int(cy)+3; y++ {
			img.Set(x, y, amber)
		}
	}
	for i := 1; i < 6; i++ {
		cx := i * w / 6
		cy := int(route(cx))
		for y := cy - 12; y <= cy+12; y++ {
			for x := cx - 12; x <= cx+12; x++ {
				if (x-cx)*(x-cx)+(y-cy)*(y-cy) <= 144 {
					img.Set(x, y, white)
				}
			}
		}
	}
	return img
}

// dashboard is a mock planning screen: a sidebar and a bar chart whose bars
// differ per variant.
func dashboard(w, h, variant int) image.Image {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			switch {
			case x < w/5:
				img.Set(x, y, navy)
			case y < h/8:
				img.Set(x, y, slate)
			default:
				img.Set(x, y, white)
			}
		}
	}
	bars := 8
	left, width := w/5+40, (w-w/5-80)/bars
	for i := range bars {
		height := (h - h/8 - 60) * (3 + (i*(variant+3)+variant)%7) / 10
		col := blue
		if i%3 == variant%3 {
			col = amber
		}
		for y := h - 30 - height; y < h-30; y++ {
			for x := left + i*width + 6; x < left+(i+1)*width-6; x++ {
				img.Set(x, y, col)
			}
		}
	}
	return img
}

func lerp(a, b uint8, t float64) uint8 { return uint8(float64(a) + (float64(b)-float64(a))*t) }
