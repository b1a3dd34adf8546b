package profile

import (
	"regexp"
	"strings"

	"github.com/groundwork-dev/groundwork/internal/discover"
)

const (
	// maxProducts bounds the product list; past it a site is listing
	// features, not products.
	maxProducts = 25
	// maxSectionItems bounds what one "Products"/"Features" section adds.
	maxSectionItems = 12
	// maxNameWords is the longest name a heading or list item may have;
	// longer ones are marketing headlines, not names.
	maxNameWords = 6
	// maxDescription bounds a product description in runes.
	maxDescription = 200
)

// productCategories are the pages that may name products, in reading
// order: product pages say the most, the rest carry "Products" sections.
var productCategories = []string{discover.CategoryProduct, discover.CategoryHome, discover.CategoryAbout, discover.CategoryOther}

var (
	// rxSection matches the heading of a section that lists products or
	// features.
	rxSection = regexp.MustCompile(`(?i)^(?:our |key |core |main |all )?(?:products?|features|solutions|services|platform|capabilities|offerings?|modules)(?: (?:and|&) (?:services|features|solutions|integrations))?$|^what we (?:do|offer)$`)
	// rxTitleSep splits a page title into its parts ("FreshTrack | Northwind").
	rxTitleSep = regexp.MustCompile(`\s+[|–—·-]\s+|:\s+`)
	// rxItemSep splits a list item into name and description.
	rxItemSep = regexp.MustCompile(`:\s+|\s+[–—-]\s+`)
)

// products lists the products of product pages (one per page, named by its
// title or first heading) and the entries of "Products" and "Features"
// sections on the company's own pages.
func products(company string, pages []*pageData) []Fact {
	out := []Fact{}
	seen := map[string]bool{}
	add := func(name, desc, src string) {
		key := strings.Join(words(name), " ")
		if key == "" || seen[key] || len(out) == maxProducts || sameName(name, company) || rxSection.MatchString(name) {
			return
		}
		seen[key] = true
		v := name
		if desc != "" && !sameName(desc, name) {
			v += ": " + clip(desc, maxDescription)
		}
		out = append(out, Fact{Value: v, Source: src})
	}
	for _, p := range inCategories(pages, productCategories...) {
		if p.Category == discover.CategoryProduct {
			if name, at := productName(company, p); name != "" {
				add(name, description(p, at), p.URL)
			}
		}
		for i, b := range p.blocks {
			if b.kind == blockHeading && rxSection.MatchString(b.text) {
				for _, it := range sectionItems(p.blocks, i) {
					add(it[0], it[1], p.URL)
				}
			}
		}
	}
	return out
}

// productName returns the name of the product a product page presents and
// the index of its heading in p.blocks (-1 when the name comes from the
// title). It prefers the title, where sites put the product's name, over
// the first heading, which is often a slogan. It returns "" for listing
// pages ("Products", "Platform") and slogans.
func productName(company string, p *pageData) (string, int) {
	bl := p.blocks
	ok := func(s string) bool {
		n := len(strings.Fields(s))
		return n > 0 && n <= maxNameWords && !sameName(s, company) && !rxSection.MatchString(s)
	}
	first := -1
	for i, b := range bl {
		if b.kind == blockHeading {
			first = i
			break
		}
	}
	for _, part := range rxTitleSep.Split(p.Title, -1) {
		part = strings.TrimSpace(part)
		if sameName(part, company) {
			continue
		}
		if ok(part) {
			if first >= 0 && sameName(bl[first].text, part) {
				return part, first
			}
			return part, -1
		}
		break
	}
	if first >= 0 && ok(bl[first].text) {
		return bl[first].text, first
	}
	return "", -1
}

// description returns the first sentence of the first paragraph after
// block at (or of the page's first paragraph), else of the page's meta
// description.
func description(p *pageData, at int) string {
	for _, b := range p.blocks[at+1:] {
		if b.kind == blockParagraph {
			return firstSentence(b.text)
		}
	}
	return firstSentence(strings.Join(strings.Fields(p.Description), " "))
}

// sectionItems returns the [name, description] pairs of the section whose
// heading is bl[at]: its subheadings with their first sentences, else its
// list items split at a colon or dash.
func sectionItems(bl []block, at int) [][2]string {
	level := bl[at].level
	end := len(bl)
	for i := at + 1; i < len(bl); i++ {
		if bl[i].kind == blockHeading && bl[i].level <= level {
			end = i
			break
		}
	}
	section := bl[at+1 : end]
	var out [][2]string
	for i, b := range section {
		if b.kind == blockHeading && len(strings.Fields(b.text)) <= maxNameWords {
			desc := ""
			if i+1 < len(section) && section[i+1].kind == blockParagraph {
				desc = firstSentence(section[i+1].text)
			}
			out = append(out, [2]string{b.text, desc})
		}
	}
	if len(out) == 0 {
		for _, b := range section {
			if b.kind != blockItem {
				continue
			}
			name, desc := b.text, ""
			if loc := rxItemSep.FindStringIndex(b.text); loc != nil {
				name, desc = b.text[:loc[0]], b.text[loc[1]:]
			}
			if len(strings.Fields(name)) <= maxNameWords {
				out = append(out, [2]string{name, desc})
			}
		}
	}
	if len(out) > maxSectionItems {
		out = out[:maxSectionItems]
	}
	return out
}
