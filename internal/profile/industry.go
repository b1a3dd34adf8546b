package profile

import (
	"strings"

	"github.com/groundwork-dev/groundwork/internal/discover"
)

// sector is one industry of the built-in vocabulary and the words that
// suggest it.
type sector struct {
	name string
	// weight scales the sector's hits; generic words ("software", which a
	// fintech or healthcare site uses too) count less than specific ones.
	weight float64
	terms  []string
}

// sectors is the industry vocabulary. Terms are lower-case word sequences
// matched on word boundaries; a term ending in "*" matches any word with
// that prefix. Order does not matter: a tie leaves the industry out.
var sectors = []sector{
	{"logistics", 1, []string{"logistics", "freight", "supply chain*", "warehous*", "fulfilment", "fulfillment", "shipment*", "last mile", "trucking", "3pl", "courier*"}},
	{"fintech", 1, []string{"fintech", "payment*", "banking", "lending", "neobank*", "financial technology", "credit card*", "accounts payable", "expense management"}},
	{"healthcare", 1, []string{"healthcare", "health care", "hospital*", "clinic*", "patient*", "medical", "physician*", "telehealth", "telemedicine", "pharmac*"}},
	{"manufacturing", 1, []string{"manufactur*", "factory", "factories", "industrial", "machining", "production line*", "fabrication"}},
	{"retail", 1, []string{"retail*", "ecommerce", "e commerce", "online store*", "shoppers", "storefront*", "point of sale", "merchandis*"}},
	{"cybersecurity", 1, []string{"cybersecurity", "cyber security", "security operations", "threat detection", "threat intelligence", "malware", "ransomware", "phishing", "zero trust", "siem", "endpoint security", "penetration test*", "vulnerabilit*"}},
	{"marketing", 1, []string{"marketing", "advertis*", "marketers", "martech", "seo", "lead generation", "campaign*", "brand awareness"}},
	{"education", 1, []string{"education", "edtech", "students", "teachers", "classroom*", "e learning", "elearning", "universities", "schools"}},
	{"real estate", 1, []string{"real estate", "property management", "landlords", "tenants", "proptech", "realtors", "mortgage*"}},
	{"construction", 1, []string{"construction", "contractors", "subcontractors", "job site*", "jobsite*", "builders"}},
	{"energy", 1, []string{"energy", "renewable*", "solar", "wind power", "wind farm*", "electricity", "power grid", "oil and gas", "battery storage"}},
	{"insurance", 1, []string{"insurance", "insurer*", "underwriting", "policyholder*", "insurtech", "reinsurance"}},
	{"hospitality", 1, []string{"hospitality", "hotel*", "restaurant*", "guests", "hotelier*"}},
	{"travel", 1, []string{"travel", "tourism", "airline*", "travellers", "travelers", "itinerar*"}},
	{"legal", 1, []string{"law firm*", "lawyers", "attorneys", "litigation", "legaltech", "legal teams", "contract management"}},
	{"telecommunications", 1, []string{"telecommunication*", "telecom*", "mobile network*", "broadband", "5g"}},
	{"automotive", 1, []string{"automotive", "vehicle*", "dealership*", "electric vehicle*"}},
	{"agriculture", 1, []string{"agricultur*", "farming", "farmers", "crops", "agtech", "agritech", "livestock"}},
	{"food and beverage", 1, []string{"food and beverage", "beverage*", "brewer*", "bakery", "bakeries", "dairy", "foodservice"}},
	{"human resources", 1, []string{"human resources", "hr teams", "payroll", "recruit*", "talent acquisition", "employee benefits", "hrtech", "workforce management"}},
	{"media", 1, []string{"publishing", "publishers", "journalism", "newsroom*", "streaming", "podcast*", "broadcast*"}},
	{"biotechnology", 1, []string{"biotech*", "life sciences", "drug discovery", "genomic*", "clinical trial*", "laboratory", "laboratories"}},
	{"consulting", 1, []string{"consulting", "consultancy", "advisory services", "management consultants"}},
	{"software", 0.5, []string{"software", "saas", "cloud platform", "api", "apis", "developers", "app"}},
}

// industryCategories are the pages where a company describes its own
// business; customer stories and blog posts describe other people's.
var industryCategories = []string{discover.CategoryHome, discover.CategoryAbout, discover.CategoryProduct}

// minTextScore is the weighted number of term hits body text needs before
// it names an industry: a passing mention or two is not an industry, while
// a self-description in metadata is, so metadata needs only one hit.
const minTextScore = 3

// industry names the company's industry from the vocabulary: first from
// how the company describes itself in metadata (JSON-LD, meta and
// OpenGraph descriptions, titles), then from the body text of the pages
// that describe its business. It returns nil when no sector clearly leads.
func industry(pages []*pageData) *Fact {
	own := inCategories(pages, industryCategories...)
	if len(own) == 0 {
		for _, p := range pages {
			switch p.Category {
			case discover.CategoryBlog, discover.CategoryCustomers, discover.CategoryCareers:
			default:
				own = append(own, p)
			}
		}
	}
	meta := func(p *pageData) string {
		return strings.Join([]string{orgDescription(p), p.Description, p.OpenGraph["og:description"], p.Title}, "\n")
	}
	if f := leadingSector(own, meta, 0.5); f != nil {
		return f
	}
	return leadingSector(own, func(p *pageData) string { return strings.Join(p.segments, "\n") }, minTextScore)
}

// leadingSector scores every sector over text(p) of each page and returns
// the sector that scores at least threshold and strictly more than every
// other, citing the page that contributed most to it (the earliest on a
// tie).
func leadingSector(pages []*pageData, text func(*pageData) string, threshold float64) *Fact {
	total := make([]float64, len(sectors))
	perPage := make([][]float64, len(pages))
	for i, p := range pages {
		ws := words(text(p))
		perPage[i] = make([]float64, len(sectors))
		for j, s := range sectors {
			perPage[i][j] = s.weight * float64(countTerms(ws, s.terms))
			total[j] += perPage[i][j]
		}
	}
	best, second := -1, 0.0
	for j, t := range total {
		switch {
		case best < 0 || t > total[best]:
			if best >= 0 {
				second = total[best]
			}
			best = j
		case t > second:
			second = t
		}
	}
	if best < 0 || total[best] < threshold || total[best] <= second {
		return nil
	}
	src := 0
	for i := range pages {
		if perPage[i][best] > perPage[src][best] {
			src = i
		}
	}
	return &Fact{Value: sectors[best].name, Source: pages[src].URL}
}

// countTerms counts the occurrences of terms in ws.
func countTerms(ws []string, terms []string) int {
	n := 0
	for _, t := range terms {
		tw := strings.Fields(t)
		for i := 0; i+len(tw) <= len(ws); i++ {
			if matchWords(ws[i:i+len(tw)], tw) {
				n++
			}
		}
	}
	return n
}

// matchWords reports whether ws matches the term words tw, where a term
// word ending in "*" is a prefix.
func matchWords(ws, tw []string) bool {
	for k, w := range tw {
		if p, ok := strings.CutSuffix(w, "*"); ok {
			if !strings.HasPrefix(ws[k], p) {
				return false
			}
		} else if ws[k] != w {
			return false
		}
	}
	return true
}
