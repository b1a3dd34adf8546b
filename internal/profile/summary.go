package profile

import (
	"strings"
	"unicode/utf8"

	"github.com/groundwork-dev/groundwork/internal/discover"
	"github.com/groundwork-dev/groundwork/internal/extractive"
)

// summaryCategories are the pages where a company says what it does.
var summaryCategories = []string{discover.CategoryHome, discover.CategoryAbout}

const (
	// summarySentences is how many sentences the summary has.
	summarySentences = 3
	// maxSummaryInput is how much of a page's prose the summarizer reads,
	// in bytes: a company says what it does near the top of a page, and
	// the summarizer's cost grows with the square of its input.
	maxSummaryInput = 20_000
)

// summary picks the page that best says what the company does (a home or
// about page when there is one) and summarises that page alone, because a
// Fact cites one page and a summary stitched from several could not be
// checked against any of them.
func summary(pages []*pageData) *Fact {
	for _, set := range [][]*pageData{
		inCategories(pages, summaryCategories...),
		inCategories(pages, discover.CategoryProduct),
		pages,
	} {
		var docs []extractive.Doc
		for _, p := range set {
			if t := lead(p.prose, maxSummaryInput); t != "" {
				docs = append(docs, extractive.Doc{Source: p.URL, Text: t})
			}
		}
		best := bestSource(extractive.Summarize(docs, summarySentences))
		if best == "" {
			continue
		}
		for _, d := range docs {
			if d.Source == best {
				s := extractive.Summarize([]extractive.Doc{d}, summarySentences)
				return &Fact{Value: s.Text(), Source: best}
			}
		}
	}
	// Pages too thin for the summarizer may still describe themselves.
	for _, p := range append(inCategories(pages, summaryCategories...), pages...) {
		for _, d := range []string{orgDescription(p), p.Description, p.OpenGraph["og:description"]} {
			if len(strings.Fields(d)) >= 4 {
				return &Fact{Value: strings.Join(strings.Fields(d), " "), Source: p.URL}
			}
		}
	}
	return nil
}

// bestSource returns the source contributing the most score to a summary;
// the earliest wins ties.
func bestSource(s extractive.Summary) string {
	score := map[string]float64{}
	best := ""
	for _, st := range s.Sentences {
		score[st.Source] += st.Score
		if best == "" || score[st.Source] > score[best] {
			best = st.Source
		}
	}
	return best
}

// orgDescription is the page's JSON-LD description, if any.
func orgDescription(p *pageData) string {
	if p.Organization == nil {
		return ""
	}
	return p.Organization.Description
}

// lead returns the paragraphs of text that fit in n bytes, or else the
// first paragraph cut at a space or rune boundary, so that a page that is
// one huge paragraph still counts.
func lead(text string, n int) string {
	if len(text) <= n {
		return text
	}
	if i := strings.LastIndex(text[:n], "\n\n"); i > 0 {
		return text[:i]
	}
	if i := strings.LastIndexByte(text[:n], ' '); i > 0 {
		return text[:i]
	}
	for n > 0 && !utf8.RuneStart(text[n]) {
		n--
	}
	return text[:n]
}
