package extract

import (
	"bytes"
	"fmt"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// flattenDepth is the nesting depth beyond which flattenDeep drops tags. It
// is far below x/net/html's hard limit of 512 open elements because the
// parser adds implicit elements (tbody, tr…) that a token count misses.
const flattenDepth = 128

// parseHTML parses b, degrading instead of failing: x/net/html rejects
// documents nested deeper than 512 elements (junk generators and some
// broken pages do this), so such input is re-parsed with the excess tags
// dropped, and as a last resort as bare text.
func parseHTML(b []byte) (*html.Node, error) {
	doc, err := html.Parse(bytes.NewReader(b))
	if err == nil {
		return doc, nil
	}
	if doc, err2 := html.Parse(bytes.NewReader(flattenDeep(b, flattenDepth))); err2 == nil {
		return doc, nil
	}
	doc, err3 := html.Parse(strings.NewReader("<!DOCTYPE html><body><p>" + html.EscapeString(onlyText(b))))
	if err3 != nil {
		return nil, fmt.Errorf("parse html (%w), even as plain text: %w", err, err3)
	}
	return doc, nil
}

// voidElements never have an end tag, so they do not add nesting.
var voidElements = map[atom.Atom]bool{
	atom.Area: true, atom.Base: true, atom.Br: true, atom.Col: true, atom.Embed: true,
	atom.Hr: true, atom.Img: true, atom.Input: true, atom.Link: true, atom.Meta: true,
	atom.Param: true, atom.Source: true, atom.Track: true, atom.Wbr: true,
}

// flattenDeep re-serialises b without the start and end tags of elements
// nested deeper than maxDepth (links excepted), keeping their text, so the document keeps its
// head, its outer structure and all of its words.
func flattenDeep(b []byte, maxDepth int) []byte {
	var out bytes.Buffer
	var stack []string
	z := html.NewTokenizer(bytes.NewReader(b))
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return out.Bytes()
		case html.StartTagToken:
			name, _ := z.TagName()
			a := atom.Lookup(name)
			if voidElements[a] {
				break
			}
			// Links are kept at any depth because they are facts we report;
			// an <a> adds at most one level since a nested <a> closes the
			// open one.
			if len(stack) >= maxDepth && a != atom.A {
				continue
			}
			stack = append(stack, string(name))
		case html.EndTagToken:
			name, _ := z.TagName()
			i := len(stack) - 1
			for i >= 0 && stack[i] != string(name) {
				i--
			}
			if i < 0 {
				continue // closes a dropped or never-opened element
			}
			stack = stack[:i]
		}
		out.Write(z.Raw())
	}
}

// onlyText returns the text of b outside script and style elements.
func onlyText(b []byte) string {
	var out strings.Builder
	z := html.NewTokenizer(bytes.NewReader(b))
	skip := false
	for {
		switch z.Next() {
		case html.ErrorToken:
			return out.String()
		case html.StartTagToken:
			name, _ := z.TagName()
			a := atom.Lookup(name)
			skip = a == atom.Script || a == atom.Style
		case html.EndTagToken:
			skip = false
		case html.TextToken:
			if !skip {
				out.Write(z.Text())
				out.WriteByte(' ')
			}
		}
	}
}
