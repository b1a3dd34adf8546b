package profile

import (
	"regexp"
	"strings"

	"github.com/groundwork-dev/groundwork/internal/discover"
)

// maxCustomers bounds the customer list; logo walls can name hundreds.
const maxCustomers = 30

var (
	// rxCustomerList matches the phrase that introduces a list of customer
	// names: "customers include", "trusted by", "clients such as"…
	rxCustomerList = regexp.MustCompile(`(?i)\b(?:(?:customers|clients|companies|brands|teams|organi[sz]ations|businesses|enterprises|retailers|manufacturers|shippers|banks|hospitals|leaders)\s+(?:include|including|like|such as)|trusted by|used by|relied on by|chosen by|loved by|(?:we|they)\s+(?:work|partner)\s+with)\s+`)
	// rxListSep separates the names of a list.
	rxListSep = regexp.MustCompile(`\s*(?:,|;|\band\b|\bas well as\b)\s*`)
	// rxCaseStudy matches case-study titles that name the customer: "How
	// Acme cut…", "Case study: Acme", "Acme case study", "Customer story:
	// Acme".
	rxCaseStudy = regexp.MustCompile(`(?i)^(?:how\s+(.+)$|(?:case study|customer story|success story)\s*[:—–-]\s*(.+)$|(.+?)\s*[:—–|-]?\s+(?:case study|customer story|success story)\b)`)
)

// customers lists the customers the site names: after phrases such as
// "customers include" and "trusted by" on any page but the blog, and in
// case-study titles on customer pages. The company itself is never its own
// customer.
func customers(company string, pages []*pageData) []Fact {
	out := []Fact{}
	seen := map[string]bool{}
	add := func(name, src string) {
		key := strings.Join(words(name), " ")
		if key == "" || seen[key] || len(out) == maxCustomers || sameName(name, company) {
			return
		}
		seen[key] = true
		out = append(out, Fact{Value: name, Source: src})
	}
	for _, p := range pages {
		if p.Category == discover.CategoryBlog {
			continue
		}
		if p.Category == discover.CategoryCustomers {
			titles := []string{p.Title}
			for _, b := range p.blocks {
				if b.kind == blockHeading {
					titles = append(titles, b.text)
				}
			}
			for _, t := range titles {
				if n := caseStudyCustomer(t); n != "" {
					add(n, p.URL)
				}
			}
		}
		for _, s := range p.segments {
			for _, n := range listedCustomers(s) {
				add(n, p.URL)
			}
		}
	}
	return out
}

// listedCustomers returns the names listed after each customer-list phrase
// in sentence s. A list ends at its first item that does not start with a
// name, so "trusted by over 2,000 teams" yields nothing and "Customers
// include Globex, Initech and many more" yields Globex and Initech.
func listedCustomers(s string) []string {
	if !mayListCustomers(s) {
		return nil
	}
	var out []string
	for _, loc := range rxCustomerList.FindAllStringIndex(s, -1) {
		rest := s[loc[1]:]
		if i := strings.IndexAny(rest, ".!?"); i >= 0 && (i+1 == len(rest) || rest[i+1] == ' ') {
			rest = rest[:i]
		}
		for _, item := range rxListSep.Split(rest, -1) {
			item = strings.TrimSpace(item)
			if item == "" {
				continue
			}
			n := leadingName(item)
			if n == "" || groupNoun(strings.TrimPrefix(item, n)) {
				break
			}
			out = append(out, n)
			if n != item {
				break // the list went on into prose: "Globex in Berlin"
			}
		}
	}
	return out
}

// caseStudyCustomer returns the customer a case-study title names, or "".
func caseStudyCustomer(title string) string {
	m := rxCaseStudy.FindStringSubmatch(strings.TrimSpace(title))
	if m == nil {
		return ""
	}
	for _, g := range m[1:] {
		if g == "" {
			continue
		}
		n := leadingName(g)
		if m[1] != "" && n == g {
			// "How X" must go on with a verb: "How We Work" is not a story.
			return ""
		}
		if strings.EqualFold(n, "we") || strings.EqualFold(n, "our") {
			return ""
		}
		return n
	}
	return ""
}

// groupNouns are the words after which a capitalised phrase describes a
// group of customers ("Fortune 500 companies"), not one customer.
var groupNouns = map[string]bool{
	"companies": true, "teams": true, "brands": true, "businesses": true, "organisations": true, "organizations": true,
	"customers": true, "clients": true, "enterprises": true, "firms": true, "retailers": true, "users": true,
}

// groupNoun reports whether rest, the words after a name, starts with a
// group noun.
func groupNoun(rest string) bool {
	w := words(rest)
	return len(w) > 0 && groupNouns[w[0]]
}

// listCues are words one of which every rxCustomerList match contains;
// checking for them first skips the regexp on almost every sentence.
var listCues = []string{"includ", "like", "such as", " by ", "with"}

// mayListCustomers reports whether s may match rxCustomerList.
func mayListCustomers(s string) bool {
	ls := strings.ToLower(s)
	for _, c := range listCues {
		if strings.Contains(ls, c) {
			return true
		}
	}
	return false
}
