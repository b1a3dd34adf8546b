package render

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"unicode/utf16"
)

// pdfEdit replaces original[start:end] with repl.
type pdfEdit struct {
	start, end int
	repl       []byte
}

// fixAstralToUnicode repairs the ToUnicode maps of a PDF written by gopdf
// v0.33, which writes a character beyond U+FFFF (emoji, some CJK) as five
// or six hex digits instead of a UTF-16 surrogate pair, so text
// extraction, search and copy turn 🚀 into "Ὠ". The entries are rewritten,
// each changed stream's /Length adjusted, and the cross-reference table
// and startxref moved by the bytes inserted before each object. Only
// gopdf's own, uncompressed CMap streams are touched.
func fixAstralToUnicode(pdf []byte) ([]byte, error) {
	var edits []pdfEdit
	for pos := 0; ; {
		i := bytes.Index(pdf[pos:], []byte("beginbfrange\n"))
		if i < 0 {
			break
		}
		begin := pos + i + len("beginbfrange\n")
		j := bytes.Index(pdf[begin:], []byte("endbfrange"))
		if j < 0 {
			return nil, errors.New("tounicode: unterminated bfrange")
		}
		end := begin + j
		pos = end
		fixed, delta := fixBFRange(pdf[begin:end])
		if delta == 0 {
			continue
		}
		// The stream's dictionary ("<<\n/Length N\n>>\nstream\n") is
		// right before the CMap.
		l := bytes.LastIndex(pdf[:begin], []byte("\n/Length "))
		if l < 0 {
			return nil, errors.New("tounicode: stream length not found")
		}
		numStart := l + len("\n/Length ")
		numEnd := numStart + bytes.IndexByte(pdf[numStart:], '\n')
		n, err := strconv.Atoi(string(pdf[numStart:numEnd]))
		if numEnd < numStart || err != nil {
			return nil, fmt.Errorf("tounicode: bad stream length: %w", err)
		}
		edits = append(edits,
			pdfEdit{numStart, numEnd, []byte(strconv.Itoa(n + delta))},
			pdfEdit{begin, end, fixed})
	}
	if len(edits) == 0 {
		return pdf, nil
	}
	shift := func(off int) int {
		for _, e := range edits {
			if e.end <= off {
				off += len(e.repl) - (e.end - e.start)
			}
		}
		return off
	}
	// Move the cross-reference entries: "0000001234 00000 n \n", 20 bytes.
	sx := bytes.LastIndex(pdf, []byte("startxref\n"))
	if sx < 0 {
		return nil, errors.New("tounicode: startxref not found")
	}
	xStart := sx + len("startxref\n")
	xEnd := xStart
	for xEnd < len(pdf) && pdf[xEnd] >= '0' && pdf[xEnd] <= '9' {
		xEnd++
	}
	xref, err := strconv.Atoi(string(pdf[xStart:xEnd]))
	if err != nil || xref >= len(pdf) || !bytes.HasPrefix(pdf[xref:], []byte("xref\n")) {
		return nil, errors.New("tounicode: cross-reference table not found")
	}
	line := xref + len("xref\n")
	line += bytes.IndexByte(pdf[line:], '\n') + 1 // "0 N" subsection header
	var xedits []pdfEdit
	for ; line+20 <= len(pdf) && pdf[line+10] == ' ' && pdf[line+19] == '\n'; line += 20 {
		if pdf[line+17] != 'n' {
			continue // the free-list head, "0000000000 65535 f"
		}
		off, err := strconv.Atoi(string(pdf[line : line+10]))
		if err != nil {
			return nil, fmt.Errorf("tounicode: bad cross-reference entry: %w", err)
		}
		xedits = append(xedits, pdfEdit{line, line + 10, fmt.Appendf(nil, "%010d", shift(off))})
	}
	xedits = append(xedits, pdfEdit{xStart, xEnd, []byte(strconv.Itoa(shift(xref)))})
	edits = append(edits, xedits...)
	sort.Slice(edits, func(i, j int) bool { return edits[i].start < edits[j].start })

	out := make([]byte, 0, len(pdf)+1024)
	last := 0
	for _, e := range edits {
		out = append(out, pdf[last:e.start]...)
		out = append(out, e.repl...)
		last = e.end
	}
	return append(out, pdf[last:]...), nil
}

// fixBFRange rewrites "<src><src><dst>" lines whose destination is a code
// point beyond U+FFFF, returning the new text and the change in length.
func fixBFRange(b []byte) ([]byte, int) {
	var out []byte
	last := 0
	for pos := 0; pos < len(b); {
		nl := bytes.IndexByte(b[pos:], '\n')
		if nl < 0 {
			break
		}
		ln := b[pos : pos+nl]
		// "<XXXX><XXXX><" is 13 bytes; a BMP destination is 4 digits.
		if len(ln) > 13+4+1 && ln[0] == '<' && ln[len(ln)-1] == '>' {
			dst := ln[13 : len(ln)-1]
			if r, err := strconv.ParseUint(string(dst), 16, 32); err == nil && r > 0xFFFF && r <= 0x10FFFF {
				hi, lo := utf16.EncodeRune(rune(r))
				out = append(out, b[last:pos+13]...)
				out = fmt.Appendf(out, "%04X%04X>", hi, lo)
				last = pos + nl
			}
		}
		pos += nl + 1
	}
	if out == nil {
		return b, 0
	}
	out = append(out, b[last:]...)
	return out, len(out) - len(b)
}
