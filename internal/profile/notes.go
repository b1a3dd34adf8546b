package profile

import (
	"html"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"
)

const (
	// maxTitle bounds a page title in the notes, in runes: the title only
	// helps the model orient itself, and a stuffed one would eat the
	// budget of every page.
	maxTitle = 200
	// closeTag ends each page's block.
	closeTag = "</page>"
	// pageSep separates page blocks.
	pageSep = "\n\n"
	// ellipsis marks a cut page body so the model knows the page goes on.
	ellipsis = "…"
)

// rxPageTag matches the start of a <page>, </page>, <pages> or </pages> tag,
// closed or not, inside page content: left in, a page could close its block
// early and pose as instructions or as another page with another URL to
// cite. Escaping the "<" rather than deleting the tag matters: deleting
// "</page>" from "</pa</page>ge>" would join the rest into a new tag.
// Any word starting with "page" is escaped: "<pageant" is rare and harmless
// to escape, while a word-boundary rule would let "</page0" through.
var rxPageTag = regexp.MustCompile(`(?i)<(\s*/?\s*page)`)

// Notes renders pages as the source material of the company-profile
// prompt: each page as <page url="…" title="…" category="…">, its Markdown
// (or Text), and </page>, in the given order. The result has at most
// maxChars characters (runes, as the prompt's input schema counts them):
// every page gets a fair share of the budget and short pages pass what they
// do not use on to long ones, which are cut at a line or sentence boundary
// where possible and marked with "…". When even the page tags do not fit,
// the pages that do not fit are left out.
func Notes(pages []Page, maxChars int) string {
	if maxChars <= 0 || len(pages) == 0 {
		return ""
	}
	heads := make([]string, 0, len(pages))
	bodies := make([]string, 0, len(pages))
	overhead := 0
	for i, p := range pages {
		h := `<page url="` + attr(p.URL) + `" title="` + attr(clip(oneLine(p.Title), maxTitle)) + `" category="` + attr(p.Category) + `">`
		// Each block is head, newline, body, newline, close tag.
		o := utf8.RuneCountInString(h) + 2 + len(closeTag)
		if i > 0 {
			o += len(pageSep)
		}
		if overhead+o > maxChars {
			break
		}
		overhead += o
		heads = append(heads, h)
		bodies = append(bodies, pageBody(p))
	}
	allot := shares(bodies, maxChars-overhead)
	var b strings.Builder
	for i, h := range heads {
		if i > 0 {
			b.WriteString(pageSep)
		}
		b.WriteString(h)
		b.WriteByte('\n')
		b.WriteString(cut(bodies[i], allot[i]))
		b.WriteByte('\n')
		b.WriteString(closeTag)
	}
	return b.String()
}

// pageBody returns the content of p for the notes: Markdown, else Text,
// as valid UTF-8 and with page tags escaped.
func pageBody(p Page) string {
	body := p.Markdown
	if strings.TrimSpace(body) == "" {
		body = p.Text
	}
	body = strings.ToValidUTF8(body, "\uFFFD")
	return strings.TrimSpace(rxPageTag.ReplaceAllString(body, "&lt;$1"))
}

// attr returns s as a double-quoted attribute value's content.
func attr(s string) string {
	return html.EscapeString(oneLine(strings.ToValidUTF8(s, "\uFFFD")))
}

// oneLine collapses whitespace, newlines included.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// shares divides budget runes among bodies by max-min fairness: every body
// gets the same share, except that bodies shorter than their share keep
// only what they need and the rest is shared again among the longer ones.
func shares(bodies []string, budget int) []int {
	lens := make([]int, len(bodies))
	order := make([]int, len(bodies))
	for i, b := range bodies {
		lens[i] = utf8.RuneCountInString(b)
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return lens[a] - lens[b] })
	out := make([]int, len(bodies))
	left := budget
	for k, i := range order {
		share := left / (len(order) - k)
		out[i] = min(lens[i], share)
		left -= out[i]
	}
	return out
}

// cut shortens s to at most n runes. A cut text ends at the last line
// break, else sentence end, else space in its second half, else at a rune
// boundary, followed by an ellipsis.
func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	if n < 2 {
		return ""
	}
	// Keep n-1 runes to leave room for the ellipsis.
	end, k := 0, 0
	for i := range s {
		if k == n-1 {
			end = i
			break
		}
		k++
	}
	prefix := s[:end]
	half := len(prefix) / 2
	at := -1
	if i := strings.LastIndexByte(prefix, '\n'); i >= half {
		at = i
	} else if i := lastSentenceEnd(prefix); i >= half {
		at = i
	} else if i := strings.LastIndexByte(prefix, ' '); i >= half {
		at = i
	}
	if at >= 0 {
		prefix = prefix[:at]
	}
	return strings.TrimRight(prefix, " \t\n") + ellipsis
}

// lastSentenceEnd returns the index just past the last ". ", "! " or "? "
// in s, or -1.
func lastSentenceEnd(s string) int {
	best := -1
	for _, p := range []string{". ", "! ", "? "} {
		if i := strings.LastIndex(s, p); i >= 0 && i+1 > best {
			best = i + 1
		}
	}
	return best
}
