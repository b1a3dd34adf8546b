package profile

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/groundwork-dev/groundwork/internal/extractive"
)

// blockKind tells the heuristics what a line of the page was: a heading
// names something, a paragraph describes it, a list item enumerates.
type blockKind int

const (
	blockParagraph blockKind = iota
	blockHeading
	blockItem
)

// block is one heading, paragraph or list item of a page's main content.
type block struct {
	kind  blockKind
	level int // heading level, 1-6; 0 for other blocks
	text  string
}

var (
	rxImage    = regexp.MustCompile(`!\[([^\]]*)\]\([^)]*\)`)
	rxLink     = regexp.MustCompile(`\[([^\]]*)\]\([^)]*\)`)
	rxEmphasis = regexp.MustCompile("\\*\\*|__|`")
	rxOrdered  = regexp.MustCompile(`^\d{1,3}[.)]\s+`)
	rxTableSep = regexp.MustCompile(`^\|?[\s:|-]+\|?$`)
)

// inline strips Markdown inline syntax (links, images, bold, code) and
// collapses whitespace, leaving the words a reader sees.
func inline(s string) string {
	if !strings.ContainsAny(s, "[*_`") {
		return strings.Join(strings.Fields(s), " ")
	}
	s = rxImage.ReplaceAllString(s, "$1")
	s = rxLink.ReplaceAllString(s, "$1")
	s = rxEmphasis.ReplaceAllString(s, "")
	return strings.Join(strings.Fields(s), " ")
}

// blocks splits a page's content into headings, paragraphs and list items.
// It reads Markdown when there is some, else Text, whose lines become
// paragraphs.
func blocks(p Page) []block {
	if strings.TrimSpace(p.Markdown) == "" {
		var out []block
		for _, para := range strings.Split(p.Text, "\n") {
			if t := strings.Join(strings.Fields(para), " "); t != "" {
				out = append(out, block{kind: blockParagraph, text: t})
			}
		}
		return out
	}
	var out []block
	var para []string
	flush := func() {
		if t := inline(strings.Join(para, " ")); t != "" {
			out = append(out, block{kind: blockParagraph, text: t})
		}
		para = para[:0]
	}
	for _, line := range strings.Split(p.Markdown, "\n") {
		t := strings.TrimSpace(line)
		switch {
		case t == "":
			flush()
		case strings.HasPrefix(t, "#"):
			flush()
			level := len(t) - len(strings.TrimLeft(t, "#"))
			if h := inline(strings.Trim(t, "# ")); h != "" && level <= 6 {
				out = append(out, block{kind: blockHeading, level: level, text: h})
			}
		case strings.HasPrefix(t, "- "), strings.HasPrefix(t, "* "), strings.HasPrefix(t, "+ "), rxOrdered.MatchString(t):
			flush()
			item := strings.TrimLeft(t, "-*+ ")
			if loc := rxOrdered.FindStringIndex(t); loc != nil {
				item = t[loc[1]:]
			}
			if it := inline(item); it != "" {
				out = append(out, block{kind: blockItem, text: it})
			}
		case strings.HasPrefix(t, "|"):
			flush()
			if rxTableSep.MatchString(t) {
				continue
			}
			cells := strings.Split(strings.Trim(t, "|"), "|")
			var kept []string
			for _, c := range cells {
				if c = inline(c); c != "" {
					kept = append(kept, c)
				}
			}
			if len(kept) > 0 {
				out = append(out, block{kind: blockParagraph, text: strings.Join(kept, " | ")})
			}
		case strings.HasPrefix(t, ">"):
			para = append(para, strings.TrimLeft(t, "> "))
		default:
			para = append(para, t)
		}
	}
	flush()
	return out
}

// prose returns a page's paragraphs, blank-line separated, for the
// summarizer: headings and list items are labels, not sentences about the
// company, and would crowd out the sentences that are.
func prose(bl []block) string {
	var paras []string
	for _, b := range bl {
		if b.kind == blockParagraph {
			paras = append(paras, b.text)
		}
	}
	return strings.Join(paras, "\n\n")
}

// segments returns a page's sentences, list items and headings in reading
// order: the units a heuristic quotes as evidence.
func segments(bl []block) []string {
	var out []string
	for _, b := range bl {
		if b.kind == blockParagraph {
			out = append(out, extractive.Sentences(b.text)...)
		} else {
			out = append(out, b.text)
		}
	}
	return out
}

// firstSentence returns the first sentence of text.
func firstSentence(text string) string {
	if s := extractive.Sentences(text); len(s) > 0 {
		return s[0]
	}
	return ""
}

// clip shortens s to at most n runes at a word boundary, marking the cut
// with an ellipsis, so quoted evidence stays readable.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	rs := []rune(s)[:n-1]
	cut := string(rs)
	if i := strings.LastIndexByte(cut, ' '); i > len(cut)/2 {
		cut = cut[:i]
	}
	return strings.TrimRight(cut, " ,;:") + "…"
}

// words splits lower-cased text into words of letters and digits.
func words(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
}

// nameConnectors may appear inside a multi-word name ("Bank of Åland",
// "Procter & Gamble") without ending it.
var nameConnectors = map[string]bool{"of": true, "&": true, "and": true, "de": true, "the": true, "for": true, "von": true, "van": true}

// leadingName returns the name that starts s: the run of words that start
// with an upper-case letter or digit, allowing connectors inside, at most
// six words. It returns "" when s does not start with such a word.
func leadingName(s string) string {
	fields := strings.Fields(s)
	var name []string
	for _, f := range fields {
		if len(name) == 6 {
			break
		}
		r, _ := utf8.DecodeRuneInString(f)
		// A digit may start a later word ("Fortune 500") or a first word
		// that has capitals ("3M"), but not the first word alone ("2,000").
		if unicode.IsUpper(r) || (unicode.IsDigit(r) && (len(name) > 0 || strings.IndexFunc(f, unicode.IsUpper) > 0)) {
			name = append(name, f)
			continue
		}
		if len(name) > 0 && nameConnectors[strings.ToLower(f)] {
			name = append(name, f)
			continue
		}
		break
	}
	for len(name) > 0 && nameConnectors[strings.ToLower(name[len(name)-1])] {
		name = name[:len(name)-1]
	}
	n := strings.Join(name, " ")
	// A name ends at the punctuation that ends its word.
	if i := strings.IndexAny(n, ",;:!?()\"“”"); i >= 0 {
		n = n[:i]
	}
	return strings.TrimRight(n, ".'’")
}

// sameName reports whether a and b are the same name, ignoring case and
// punctuation.
func sameName(a, b string) bool {
	return strings.Join(words(a), " ") == strings.Join(words(b), " ")
}
