package extract

import (
	"unicode/utf8"

	"golang.org/x/net/html/charset"
)

// toUTF8 returns the page as UTF-8.
//
// A headless browser hands back document.documentElement.outerHTML, which is
// already UTF-8 even when the page still declares <meta charset=windows-1252>;
// honouring that stale declaration would turn "Café" into "CafÃ©". So valid
// UTF-8 is taken as is, and only bytes that are not UTF-8 (a raw HTTP body)
// are decoded by BOM, <meta> prescan, or the HTML standard's windows-1252
// default.
func toUTF8(b []byte) []byte {
	if utf8.Valid(b) {
		return b
	}
	enc, _, _ := charset.DetermineEncoding(b, "")
	out, err := enc.NewDecoder().Bytes(b)
	if err != nil {
		// The decoders substitute U+FFFD rather than fail; if one ever does
		// fail, the bytes are still worth parsing (html.Parse copes) rather
		// than dropping the page.
		return b
	}
	return out
}
