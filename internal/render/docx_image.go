package render

import (
	"bytes"
	"fmt"
	"image"
	"math"

	"github.com/gomutex/godocx/common/units"
	"github.com/gomutex/godocx/dml"
	"github.com/gomutex/godocx/dml/dmlct"
	"github.com/gomutex/godocx/dml/dmlpic"
	"github.com/gomutex/godocx/wml/ctypes"
	"github.com/gomutex/godocx/wml/stypes"

	"github.com/groundwork-dev/groundwork/internal/document"
)

// docxChartAspect is a chart's height over its width: wide enough for
// category labels, short enough for two charts on a page.
const docxChartAspect = 0.55

// docxImageDPI is the resolution an image without other information is
// assumed to have, the one browsers use, so a screenshot keeps its
// on-screen size unless it is wider than the text.
const docxImageDPI = 96

func (d *docxWriter) image(i int, b *document.Block) {
	data := b.Image()
	format := document.ImageFormat(data)
	if format != "png" && format != "jpeg" {
		d.warnf("block %d: image is not a decoded PNG or JPEG (was the document validated?); left out", i)
		return
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil || cfg.Width <= 0 || cfg.Height <= 0 {
		d.warnf("block %d: image size unreadable; left out", i)
		return
	}
	// Natural size at 96 dpi, shrunk to fit the text width and most of
	// the text height (leaving room for a caption), keeping the aspect.
	w := float64(cfg.Width) / docxImageDPI * 1440
	h := float64(cfg.Height) / docxImageDPI * 1440
	scale := math.Min(1, math.Min(docxTextW/w, docxTextH*0.85/h))
	d.picture(data, format, w*scale, h*scale, b.Caption)
	if b.Caption != "" {
		d.styledPara("Caption", b.Caption).Justification(stypes.JustificationCenter)
	}
}

func (d *docxWriter) chart(i int, b *document.Block) {
	w := float64(docxTextW)
	h := w * docxChartAspect
	// Twips to points is /20; ChartPNG draws two pixels per point.
	png, err := ChartPNG(b, int(w/20*chartPNGScale), int(h/20*chartPNGScale))
	if err != nil {
		d.warnf("block %d: chart left out: %v", i, err)
		return
	}
	d.picture(png, "png", w, h, b.Title)
}

// picture adds a centred paragraph holding an inline picture of w × h
// twips. godocx only embeds pictures from files, so the part, its content
// type and relationship are added here from bytes.
func (d *docxWriter) picture(data []byte, format string, w, h float64, descr string) {
	d.images++
	n := d.images
	name := fmt.Sprintf("image%d.%s", n, format)
	d.rd.FileMap.Store("word/media/"+name, data)
	if format == "png" && !d.hasPNG {
		// The template declares jpeg; png is added once (a repeated
		// Default for one extension makes the package invalid).
		d.hasPNG = true
		_ = d.rd.ContentType.AddExtension("png", "image/png")
	}
	rid := d.addRel(docxRelImage, "media/"+name, false)
	ew, eh := units.Emu(math.Max(1, math.Round(w*emuPerTwip))), units.Emu(math.Max(1, math.Round(h*emuPerTwip)))
	inline := dml.NewInline(
		*dmlct.NewPostvSz2D(ew, eh),
		dml.DocProp{ID: uint64(n), Name: fmt.Sprintf("Picture %d", n), Description: docxCleanXML(descr)},
		*dml.NewPicGraphic(dmlpic.NewPic(rid, uint(n), ew, eh)),
	)
	p := d.rd.AddEmptyParagraph()
	p.Justification(stypes.JustificationCenter)
	ct := p.GetCT()
	ct.Children = append(ct.Children, ctypes.ParagraphChild{Run: &ctypes.Run{
		Children: []ctypes.RunChild{{Drawing: &dml.Drawing{Inline: []dml.Inline{inline}}}},
	}})
}
