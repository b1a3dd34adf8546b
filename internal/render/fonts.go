package render

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/signintech/gopdf"
	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/gobolditalic"
	"golang.org/x/image/font/gofont/goitalic"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"
)

// fontStyle is a bit set of the styles a text run asks for.
type fontStyle uint8

const (
	styleBold fontStyle = 1 << iota
	styleItalic
)

// faceID names one embedded font file. The four Go faces are indexed by
// fontStyle so a style picks its face without a lookup.
type faceID uint8

const (
	faceRegular faceID = iota
	faceBold
	faceItalic
	faceBoldItalic
	faceCJK     // Droid Sans Fallback: Chinese, Japanese, Korean
	faceSymbols // Symbola: emoji, dingbats, math symbols
	numFaces
)

// replacementRune is drawn for a character no font has, so the gap is
// visible instead of silently closing up.
const replacementRune = '\u25A1' // □

// fallbackFontPaths lists where Debian's packages put the fallback fonts
// (fonts-droid-fallback, fonts-symbola), first match wins.
var fallbackFontPaths = map[faceID][]string{
	faceCJK: {
		"/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
		"/usr/share/fonts-droid-fallback/truetype/DroidSansFallback.ttf",
		"/usr/share/fonts/truetype/droid/DroidSansFallback.ttf",
	},
	faceSymbols: {
		"/usr/share/fonts/truetype/ancient-scripts/Symbola_hint.ttf",
		"/usr/share/fonts/truetype/ancient-scripts/Symbola.ttf",
		"/usr/share/fonts/truetype/symbola/Symbola.ttf",
		"/usr/share/fonts/truetype/Symbola.ttf",
	},
}

// fontFace is one parsed font file, shared by every document of the
// process: parsing happens once, glyph lookups go through a per-document
// sfnt.Buffer because the Buffer is not safe for concurrent use.
type fontFace struct {
	// family is the name the face is registered under in gopdf.
	family string
	data   []byte
	font   *sfnt.Font
	upem   int
	// ascii holds the advance of the printable ASCII runes in PDF glyph
	// units (1/1000 em), the common case, so it needs no lookup at all.
	ascii    [128]uint16
	asciiHas [128]bool
}

func newFontFace(family string, data []byte) (*fontFace, error) {
	f, err := sfnt.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("parse font %s: %w", family, err)
	}
	ff := &fontFace{family: family, data: data, font: f, upem: int(f.UnitsPerEm())}
	if ff.upem <= 0 {
		return nil, fmt.Errorf("parse font %s: units per em is %d", family, ff.upem)
	}
	var buf sfnt.Buffer
	for r := rune(0x20); r < 0x7f; r++ {
		if w, ok := ff.glyphWidth(&buf, r); ok {
			ff.ascii[r], ff.asciiHas[r] = w, true
		}
	}
	return ff, nil
}

// glyphWidth reports whether the face has a glyph for r and its advance in
// PDF glyph units, computed exactly as gopdf does (advance·1000/upem,
// truncated) so measured and drawn text line up.
func (f *fontFace) glyphWidth(buf *sfnt.Buffer, r rune) (uint16, bool) {
	gi, err := f.font.GlyphIndex(buf, r)
	if err != nil || gi == 0 {
		return 0, false
	}
	adv, err := f.font.GlyphAdvance(buf, gi, fixed.I(f.upem), font.HintingNone)
	if err != nil {
		return 0, false
	}
	units := (int(adv) + 32) >> 6
	return uint16(units * 1000 / f.upem), true
}

// fontSet is the faces a renderer may use. The Go faces are always
// present; a fallback face is nil when its file is not installed.
type fontSet struct {
	goFaces [4]*fontFace
	// fallback loads a fallback face on first use; nil means absent.
	fallback func(faceID) *fontFace
}

var (
	goFacesOnce sync.Once
	goFaces     [4]*fontFace
	goFacesErr  error

	fallbackOnce  [numFaces]sync.Once
	fallbackFaces [numFaces]*fontFace
)

// defaultFonts returns the process-wide font set, parsing the embedded Go
// fonts on first use.
func defaultFonts() (*fontSet, error) {
	goFacesOnce.Do(func() {
		sources := [4]struct {
			family string
			data   []byte
		}{
			{"GoRegular", goregular.TTF},
			{"GoBold", gobold.TTF},
			{"GoItalic", goitalic.TTF},
			{"GoBoldItalic", gobolditalic.TTF},
		}
		for i, s := range sources {
			goFaces[i], goFacesErr = newFontFace(s.family, s.data)
			if goFacesErr != nil {
				return
			}
		}
	})
	if goFacesErr != nil {
		return nil, goFacesErr
	}
	return &fontSet{goFaces: goFaces, fallback: loadFallback}, nil
}

// loadFallback reads a fallback font the first time a document needs it:
// they are megabytes each and most documents never use them. A missing or
// unreadable file leaves the face nil; the caller then draws a
// replacement and warns.
func loadFallback(id faceID) *fontFace {
	fallbackOnce[id].Do(func() {
		for _, path := range fallbackFontPaths[id] {
			data, err := os.ReadFile(path)
			if err != nil {
				continue
			}
			name := map[faceID]string{faceCJK: "DroidSansFallback", faceSymbols: "Symbola"}[id]
			f, err := newFontFace(name, data)
			if err != nil || !gopdfAccepts(name, data) {
				continue
			}
			fallbackFaces[id] = f
			return
		}
	})
	return fallbackFaces[id]
}

// gopdfAccepts reports whether gopdf can embed a font file. It has its own
// TrueType parser, stricter than sfnt's; a system font it refuses must be
// treated as absent, or every document needing it would fail.
func gopdfAccepts(family string, data []byte) bool {
	var pdf gopdf.GoPdf
	pdf.Start(gopdf.Config{PageSize: *gopdf.PageSizeA4})
	return pdf.AddTTFFontData(family, data) == nil
}

// glyphChoice is the face (and possibly substituted rune) a character is
// drawn with, and its advance in PDF glyph units.
type glyphChoice struct {
	face  faceID
	r     rune
	width uint16
}

type glyphKey struct {
	r  rune
	st fontStyle
}

// textMetrics picks faces and measures text for one document. It caches
// per rune, so it is not safe for concurrent use.
type textMetrics struct {
	fonts   *fontSet
	buf     sfnt.Buffer
	choices map[glyphKey]glyphChoice
	faces   [numFaces]*fontFace
	// missing collects the characters no font has, for the warning.
	missing map[rune]bool
	// astral is set once a character beyond U+FFFF is used: gopdf's
	// ToUnicode map then needs repair (fixAstralToUnicode).
	astral bool
}

func newTextMetrics(fs *fontSet) *textMetrics {
	m := &textMetrics{fonts: fs, choices: make(map[glyphKey]glyphChoice), missing: make(map[rune]bool)}
	copy(m.faces[:4], fs.goFaces[:])
	return m
}

// face returns a face the document has used (and so loaded).
func (m *textMetrics) face(id faceID) *fontFace { return m.faces[id] }

// choose picks the face that draws r in style st: the Go face of that
// style, else the CJK fallback, else the symbol fallback, else the
// replacement glyph.
func (m *textMetrics) choose(r rune, st fontStyle) glyphChoice {
	if r < 128 {
		if f := m.fonts.goFaces[st]; f.asciiHas[r] {
			return glyphChoice{face: faceID(st), r: r, width: f.ascii[r]}
		}
	}
	k := glyphKey{r, st}
	if c, ok := m.choices[k]; ok {
		return c
	}
	c := m.lookup(r, st)
	m.choices[k] = c
	if c.r > 0xFFFF {
		m.astral = true
	}
	return c
}

func (m *textMetrics) lookup(r rune, st fontStyle) glyphChoice {
	if w, ok := m.fonts.goFaces[st].glyphWidth(&m.buf, r); ok {
		return glyphChoice{face: faceID(st), r: r, width: w}
	}
	// The regular face covers a little more than the styled ones (a bold
	// arrow looks better than a fallback font's).
	if st != 0 {
		if w, ok := m.fonts.goFaces[0].glyphWidth(&m.buf, r); ok {
			return glyphChoice{face: faceRegular, r: r, width: w}
		}
	}
	for _, id := range []faceID{faceCJK, faceSymbols} {
		f := m.faces[id]
		if f == nil && m.fonts.fallback != nil {
			f = m.fonts.fallback(id)
			m.faces[id] = f
		}
		if f == nil {
			continue
		}
		if w, ok := f.glyphWidth(&m.buf, r); ok {
			return glyphChoice{face: id, r: r, width: w}
		}
	}
	m.missing[r] = true
	for _, sub := range []rune{replacementRune, '?'} {
		if w, ok := m.fonts.goFaces[st].glyphWidth(&m.buf, sub); ok {
			return glyphChoice{face: faceID(st), r: sub, width: w}
		}
	}
	return glyphChoice{face: faceID(st), r: '?', width: 500}
}

// width measures s in style st at size points.
func (m *textMetrics) width(s string, st fontStyle, size float64) float64 {
	units := 0
	for _, r := range s {
		units += int(m.choose(r, st).width)
	}
	return float64(units) * size / 1000
}

// missingWarning describes the characters no font could draw, or "".
func (m *textMetrics) missingWarning() string {
	if len(m.missing) == 0 {
		return ""
	}
	runes := make([]rune, 0, len(m.missing))
	for r := range m.missing {
		runes = append(runes, r)
	}
	sort.Slice(runes, func(i, j int) bool { return runes[i] < runes[j] })
	const maxListed = 20
	var b strings.Builder
	for i, r := range runes {
		if i == maxListed {
			fmt.Fprintf(&b, " and %d more", len(runes)-maxListed)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		if unicode.IsPrint(r) {
			fmt.Fprintf(&b, "U+%04X %c", r, r)
		} else {
			fmt.Fprintf(&b, "U+%04X", r)
		}
	}
	return fmt.Sprintf("no font has a glyph for %d character(s), drawn as %c: %s", len(runes), replacementRune, b.String())
}

// cleanText prepares user text for drawing: tabs become spaces, invalid
// UTF-8 becomes U+FFFD, and invisible formatting characters (controls,
// zero-width joiners, variation selectors, soft hyphens) are dropped
// because no font draws them and they carry no readable text. keepNewlines
// keeps '\n' (paragraphs honour line breaks; cells and headers do not).
func cleanText(s string, keepNewlines bool) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	s = strings.ReplaceAll(s, "\r\n", "\n")
	var b strings.Builder
	b.Grow(len(s))
	for i, r := range s {
		switch {
		case r == utf8.RuneError:
			if _, size := utf8.DecodeRuneInString(s[i:]); size <= 1 {
				b.WriteRune('\uFFFD')
				continue
			}
			b.WriteRune(r)
		case r == '\n' || r == '\r':
			if keepNewlines {
				b.WriteByte('\n')
			} else {
				b.WriteByte(' ')
			}
		case r == '\t':
			b.WriteByte(' ')
		case unicode.IsControl(r), unicode.Is(unicode.Cf, r), unicode.Is(unicode.Variation_Selector, r):
			// invisible: drop
		case unicode.IsSpace(r) && r != '\u00A0' && r != '\u202F':
			// other breaking spaces (em space, ideographic space…) break
			// lines like a plain space
			b.WriteByte(' ')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
