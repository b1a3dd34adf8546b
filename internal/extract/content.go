package extract

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"unicode/utf8"

	"codeberg.org/readeck/go-readability/v2"
	"codeberg.org/readeck/go-readability/v2/render"
	"github.com/JohannesKaufmann/html-to-markdown/v2/converter"
	"github.com/JohannesKaufmann/html-to-markdown/v2/plugin/base"
	"github.com/JohannesKaufmann/html-to-markdown/v2/plugin/commonmark"
	"github.com/JohannesKaufmann/html-to-markdown/v2/plugin/table"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// mainContent returns the page's main content as Markdown and plain text:
// readability's article when it finds one, else the cleaned <body>, because
// small company pages (a landing page, a contact card) often have too little
// prose for readability yet still carry the facts we want.
func mainContent(doc *html.Node, baseURL *url.URL) (md, text string) {
	node := article(doc, baseURL)
	if node == nil {
		node = cleanBody(doc)
	}
	if node == nil {
		return "", ""
	}
	text = tidyText(safeInnerText(node))
	md, err := toMarkdown(node, baseURL)
	if err != nil {
		// Markdown is a nicety over Text; losing it must not lose the page.
		md = text
	}
	return strings.TrimSpace(md), text
}

// article runs readability on a copy of doc and returns its content node,
// or nil when it found no article: nothing, or less text than readability's
// own CharThresholds. Below that threshold readability merely returns its
// least-bad guess (often a nav fragment of a landing page), and the cleaned
// body describes a short page better. readability is a heuristic port of
// Readability.js walking untrusted markup; a panic there is converted into
// "no article" so that Parse keeps its never-fails-on-markup contract.
func article(doc *html.Node, baseURL *url.URL) (node *html.Node) {
	defer func() {
		if recover() != nil {
			node = nil
		}
	}()
	p := readability.NewParser()
	// Our own JSON-LD pass is authoritative; readability's would only feed
	// article metadata we do not use.
	p.DisableJSONLD = true
	a, err := p.ParseDocument(doc, baseURL)
	if err != nil || a.Node == nil {
		return nil
	}
	if len(strings.TrimSpace(render.InnerText(a.Node))) < p.CharThresholds {
		return nil
	}
	return a.Node
}

// dropInFallback lists elements that are never main content: code, and the
// navigation chrome readability would otherwise have removed for us.
var dropInFallback = map[atom.Atom]bool{
	atom.Script: true, atom.Style: true, atom.Nav: true, atom.Footer: true,
	atom.Noscript: true, atom.Template: true, atom.Iframe: true, atom.Svg: true,
	atom.Head: true, atom.Link: true, atom.Meta: true,
}

// cleanBody returns a detached copy of <body> minus dropInFallback
// elements, or nil when the document has no body.
func cleanBody(doc *html.Node) *html.Node {
	body := find(doc, atom.Body)
	if body == nil {
		return nil
	}
	return cloneClean(body)
}

// cloneClean deep-copies n without dropInFallback elements and without
// comments. The recursion is bounded: x/net/html rejects documents nested
// deeper than 512 elements and parseHTML flattens those.
func cloneClean(n *html.Node) *html.Node {
	c := &html.Node{Type: n.Type, DataAtom: n.DataAtom, Data: n.Data, Namespace: n.Namespace}
	c.Attr = append([]html.Attribute(nil), n.Attr...)
	for ch := n.FirstChild; ch != nil; ch = ch.NextSibling {
		switch {
		case ch.Type == html.CommentNode:
			continue
		case ch.Type == html.ElementNode && dropInFallback[ch.DataAtom]:
			continue
		}
		c.AppendChild(cloneClean(ch))
	}
	return c
}

// safeInnerText is render.InnerText with the same panic guard as article.
func safeInnerText(n *html.Node) (s string) {
	defer func() {
		if recover() != nil {
			s = textContent(n)
		}
	}()
	return render.InnerText(n)
}

// toMarkdown converts node with CommonMark and GFM tables (company pages
// put facts such as offices and pricing in tables), resolving any relative
// link against the document base URL.
func toMarkdown(node *html.Node, baseURL *url.URL) (md string, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("extract: markdown conversion panicked: %v", r)
		}
	}()
	conv := converter.NewConverter(converter.WithPlugins(
		base.NewBasePlugin(),
		commonmark.NewCommonmarkPlugin(),
		table.NewTablePlugin(),
	))
	out, err := conv.ConvertNode(node, converter.WithDomain(baseURL.String()))
	if err != nil {
		return "", fmt.Errorf("extract: convert to markdown: %w", err)
	}
	return string(out), nil
}

var (
	spaceRun = regexp.MustCompile(`[ \t\p{Zs}]+`)
	blankRun = regexp.MustCompile(`\n{3,}`)
)

// tidyText normalises inner text for search: trimmed lines, single spaces,
// at most one blank line between paragraphs.
func tidyText(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimSpace(spaceRun.ReplaceAllString(l, " "))
	}
	return strings.TrimSpace(blankRun.ReplaceAllString(strings.Join(lines, "\n"), "\n\n"))
}

// capAtBoundary cuts s to at most limit bytes. It prefers the last paragraph
// break, then the last line break, in the second half of the window so a
// reader sees whole blocks, and otherwise cuts at a rune boundary so the
// result stays valid UTF-8.
func capAtBoundary(s string, limit int) (string, bool) {
	if len(s) <= limit {
		return s, false
	}
	window := s[:limit]
	for _, sep := range []string{"\n\n", "\n"} {
		if i := strings.LastIndex(window, sep); i >= limit/2 {
			return strings.TrimRight(window[:i], " \t\n"), true
		}
	}
	cut := limit
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut], true
}
