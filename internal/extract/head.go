package extract

import (
	"net/url"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// baseURL returns the document base URL: the first <base href> resolved
// against the page URL, as the HTML standard specifies, else the page URL.
// A base that is not http(s) is ignored because nothing useful resolves
// against it.
func baseURL(doc *html.Node, page *url.URL) *url.URL {
	var base *url.URL
	walk(doc, func(n *html.Node) bool {
		if base != nil {
			return false
		}
		if n.Type == html.ElementNode && n.DataAtom == atom.Base && hasAttr(n, "href") {
			if u := resolve(page, attr(n, "href")); u != nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" {
				base = u
			}
		}
		return true
	})
	if base == nil {
		return page
	}
	return base
}

// readHead fills the page-level metadata. Meta and link elements are read
// from the whole document, not only <head>, because the parser moves them
// into <body> when they follow body content in broken markup.
func readHead(doc *html.Node, base *url.URL, p *Page) {
	var title, description, contentLang string
	og := map[string]string{}
	walk(doc, func(n *html.Node) bool {
		if n.Type != html.ElementNode {
			return true
		}
		switch n.DataAtom {
		case atom.Html:
			if p.Lang == "" {
				p.Lang = collapse(attr(n, "lang"))
			}
		case atom.Title:
			if title == "" {
				title = collapse(textContent(n))
			}
		case atom.Svg, atom.Math:
			// Foreign content has its own <title> elements (tooltips).
			return false
		case atom.Meta:
			content := collapse(attr(n, "content"))
			name := strings.ToLower(strings.TrimSpace(attr(n, "name")))
			prop := strings.ToLower(strings.TrimSpace(attr(n, "property")))
			// Some sites put og:* in name=; accept both.
			if prop == "" && strings.HasPrefix(name, "og:") {
				prop = name
			}
			if strings.HasPrefix(prop, "og:") && content != "" {
				if _, seen := og[prop]; !seen {
					og[prop] = content
				}
			}
			if name == "description" && description == "" {
				description = content
			}
			if strings.EqualFold(strings.TrimSpace(attr(n, "http-equiv")), "content-language") && contentLang == "" {
				contentLang = content
			}
		case atom.Link:
			if p.Canonical == "" && hasToken(attr(n, "rel"), "canonical") {
				p.Canonical = resolveHTTP(base, attr(n, "href"))
			}
		}
		return true
	})

	p.Title = firstNonEmpty(title, og["og:title"])
	p.Description = firstNonEmpty(description, og["og:description"])
	if p.Lang == "" {
		// Content-Language may list several languages; the first is primary.
		p.Lang = strings.TrimSpace(strings.Split(contentLang, ",")[0])
	}
	if len(og) > 0 {
		p.OpenGraph = og
	}
}

// hasToken reports whether the space-separated list s contains tok,
// ignoring ASCII case (rel values are case-insensitive).
func hasToken(s, tok string) bool {
	for _, f := range strings.Fields(s) {
		if strings.EqualFold(f, tok) {
			return true
		}
	}
	return false
}

// firstNonEmpty returns the first argument that is not empty.
func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}
