package profile

import "github.com/groundwork-dev/groundwork/internal/extractive"

// Extract builds a profile of company (whose site is domain) from its
// pages without an LLM: the summary comes from the extractive summarizer,
// every other fact from heuristics that read the words the site uses. A
// heuristic that finds nothing leaves its fact out rather than guess. The
// same input always gives the same profile.
func Extract(company, domain string, pages []Page) Profile {
	ps := make([]*pageData, len(pages))
	for i, p := range pages {
		ps[i] = read(p)
	}
	return Profile{
		Provider:     extractive.Provider,
		Summary:      summary(ps),
		Industry:     industry(ps),
		Products:     products(company, ps),
		Customers:    customers(company, ps),
		PricingModel: pricingModel(ps),
		Size:         size(ps),
		Hiring:       hiring(ps),
		Contacts:     contacts(domain, ps),
	}
}

// pageData is a Page with its content split into blocks once, because
// every heuristic reads them and splitting 50 large pages is not free.
type pageData struct {
	Page
	blocks   []block
	segments []string
	prose    string
}

func read(p Page) *pageData {
	bl := blocks(p)
	return &pageData{Page: p, blocks: bl, segments: segments(bl), prose: prose(bl)}
}

// inCategories returns the pages of the given categories, ordered by
// category as listed and then by their order in pages, so a heuristic reads
// the most telling pages first.
func inCategories(pages []*pageData, categories ...string) []*pageData {
	var out []*pageData
	for _, c := range categories {
		for _, p := range pages {
			if p.Category == c {
				out = append(out, p)
			}
		}
	}
	return out
}
