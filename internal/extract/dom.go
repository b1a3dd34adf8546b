package extract

import (
	"net/url"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// attr returns the value of n's attribute key (lower-case), or "".
func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Namespace == "" && a.Key == key {
			return a.Val
		}
	}
	return ""
}

// hasAttr reports whether n carries attribute key, even with an empty value.
func hasAttr(n *html.Node, key string) bool {
	for _, a := range n.Attr {
		if a.Namespace == "" && a.Key == key {
			return true
		}
	}
	return false
}

// walk visits n and its descendants depth-first in document order; fn
// returning false skips the node's children. It is iterative so that
// pathologically deep markup cannot exhaust the stack.
func walk(n *html.Node, fn func(*html.Node) bool) {
	stack := []*html.Node{n}
	for len(stack) > 0 {
		cur := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if !fn(cur) {
			continue
		}
		// Push children in reverse so the first child is visited first.
		for c := cur.LastChild; c != nil; c = c.PrevSibling {
			stack = append(stack, c)
		}
	}
}

// find returns the first element in document order with the given atom.
func find(n *html.Node, a atom.Atom) *html.Node {
	var found *html.Node
	walk(n, func(c *html.Node) bool {
		if found != nil {
			return false
		}
		if c.Type == html.ElementNode && c.DataAtom == a {
			found = c
			return false
		}
		return true
	})
	return found
}

// textContent concatenates the text below n, skipping script-like elements
// whose text is code, not prose.
func textContent(n *html.Node) string {
	var b strings.Builder
	walk(n, func(c *html.Node) bool {
		switch c.Type {
		case html.TextNode:
			b.WriteString(c.Data)
		case html.ElementNode:
			switch c.DataAtom {
			case atom.Script, atom.Style, atom.Template, atom.Noscript:
				return false
			}
		}
		return true
	})
	return b.String()
}

// collapse trims s and folds runs of whitespace into single spaces, which is
// how a browser shows attribute and inline text.
func collapse(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// resolveHTTP resolves ref against base and returns it only when the result
// is an http(s) URL; anything else (javascript:, mailto:, data:…) yields "".
func resolveHTTP(base *url.URL, ref string) string {
	u := resolve(base, ref)
	if u == nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ""
	}
	return u.String()
}

// resolve parses ref (trimmed, as browsers do for URL attributes) against
// base; nil when it does not parse.
func resolve(base *url.URL, ref string) *url.URL {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return nil
	}
	r, err := url.Parse(ref)
	if err != nil {
		return nil
	}
	u := base.ResolveReference(r)
	u.Host = strings.ToLower(u.Host)
	return u
}
