package extract

import (
	"net/mail"
	"net/url"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// collectLinks returns the page's http(s) links and, separately, the
// addresses of its mailto: links, which are dropped from the link list but
// are exactly the contact data company research wants.
func collectLinks(doc *html.Node, base *url.URL) ([]Link, []string) {
	var links []Link
	var emails []string
	index := map[string]int{}
	walk(doc, func(n *html.Node) bool {
		if n.Type != html.ElementNode || n.DataAtom != atom.A || !hasAttr(n, "href") {
			return true
		}
		href := strings.TrimSpace(attr(n, "href"))
		if len(href) >= 7 && strings.EqualFold(href[:7], "mailto:") {
			emails = append(emails, mailtoAddresses(href)...)
			return true
		}
		// "#top"-style anchors point back into this very page; they are
		// navigation chrome, not links to another resource.
		if href == "" || strings.HasPrefix(href, "#") {
			return true
		}
		u := resolve(base, href)
		if u == nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return true // javascript:, tel:, data:, ftp:… and junk
		}
		u.Fragment, u.RawFragment = "", ""
		key := u.String()
		txt := linkText(n)
		if i, ok := index[key]; ok {
			// Keep the first position but borrow a label from a later
			// occurrence when the first was an icon-only link.
			if links[i].Text == "" {
				links[i].Text = txt
			}
			return true
		}
		index[key] = len(links)
		links = append(links, Link{
			URL:  key,
			Text: txt,
			Rel:  strings.ToLower(collapse(attr(n, "rel"))),
		})
		return true
	})
	return links, emails
}

// maxLinkText bounds Link.Text in bytes.
const maxLinkText = 300

// linkText is the anchor's visible text, falling back to the accessible
// names icon links carry.
func linkText(n *html.Node) string {
	if t := collapse(textContent(n)); t != "" {
		// Card-style links can wrap whole sections; a label is enough.
		t, _ = capAtBoundary(t, maxLinkText)
		return t
	}
	if t := collapse(firstNonEmpty(attr(n, "aria-label"), attr(n, "title"))); t != "" {
		return t
	}
	if img := find(n, atom.Img); img != nil {
		return collapse(attr(img, "alt"))
	}
	return ""
}

// mailtoAddresses parses a mailto: URL, which may hold several
// comma-separated, percent-encoded addresses and a ?query.
func mailtoAddresses(href string) []string {
	rest := href[len("mailto:"):]
	rest, _, _ = strings.Cut(rest, "?")
	if dec, err := url.PathUnescape(rest); err == nil {
		rest = dec
	}
	var out []string
	for _, part := range strings.Split(rest, ",") {
		if a := cleanEmail(part); a != "" {
			out = append(out, a)
		}
	}
	return out
}

// cleanEmail returns the bare address in s, or "" when s is not one.
func cleanEmail(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	a, err := mail.ParseAddress(s)
	if err != nil {
		return ""
	}
	return a.Address
}

// dedupeEmails validates addresses and removes case-insensitive duplicates,
// keeping first-seen order and spelling.
func dedupeEmails(in []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, e := range in {
		e = cleanEmail(e)
		k := strings.ToLower(e)
		if e == "" || seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, e)
	}
	return out
}
