package profile

import (
	"regexp"
	"strings"

	"github.com/groundwork-dev/groundwork/internal/discover"
)

// maxEvidence bounds a quoted evidence sentence in runes.
const maxEvidence = 160

// pricingModels are the ways a company can charge and the phrases of a
// pricing page that show each, in the order a profile lists them.
var pricingModels = []struct {
	name string
	rx   *regexp.Regexp
}{
	{"free tier", regexp.MustCompile(`(?i)\bfree (?:forever|plan|tier|version|edition|account)\b|\bforever free\b|\bfree for (?:up to|individuals|small|personal|open[- ]source)\b|(?:^|\s)[$€£]0(?:$|\s|/)`)},
	{"free trial", regexp.MustCompile(`(?i)\bfree trial\b|\b\d+[- ]day (?:free )?trial\b|\btry (?:it )?(?:for )?free\b`)},
	{"per seat", regexp.MustCompile(`(?i)\bper (?:user|seat|member|agent|editor|licen[cs]e|active user|employee|host)\b|/\s?(?:user|seat|member|agent)\b`)},
	{"usage-based", regexp.MustCompile(`(?i)\busage[- ]based\b|\bpay[- ]as[- ]you[- ]go\b|\bpay (?:only )?for what you use\b|\bmetered\b|\bper (?:request|api call|call|transaction|message|sms|minute|gb|tb|order|shipment|pallet|parcel|unit|device|asset|vehicle|document|credit|1,?000|thousand|million)\b`)},
	// A zero price is a free tier, not a subscription.
	{"flat subscription", regexp.MustCompile(`(?i)\bflat (?:monthly |annual |yearly )?(?:fee|rate|price|pricing)\b|[$€£]\s?[1-9][\d,.]*\s?(?:/\s?|per |a )(?:mo|month|yr|year|annum)\b|\b[1-9][\d,.]*\s?(?:[$€£]|eur|usd|gbp)\s?(?:/\s?|per |a )(?:mo|month|yr|year)\b`)},
	{"one-time", regexp.MustCompile(`(?i)\bone[- ]time (?:fee|payment|purchase|licen[cs]e|price)\b|\blifetime (?:licen[cs]e|deal|access)\b|\bpay once\b|\bperpetual licen[cs]e\b`)},
	{"contact sales", regexp.MustCompile(`(?i)\b(?:contact|talk to|speak (?:to|with)) (?:our )?sales\b|\bcustom (?:pricing|quote|plan)\b|\b(?:request|get) a quote\b|\bcontact us for (?:pricing|a quote)\b`)},
}

// pricingModel reads the first pricing page that shows any pricing model
// and lists every model it shows, each with the first sentence that shows
// it, e.g. `per seat ("$12 per user per month"); contact sales ("Talk to
// sales")`. Only pricing pages count: "free trial" on a home page says
// little about how the company charges.
func pricingModel(pages []*pageData) *Fact {
	for _, p := range inCategories(pages, discover.CategoryPricing) {
		segs := p.segments
		var found []string
		for _, m := range pricingModels {
			for _, s := range segs {
				if m.rx.MatchString(s) {
					found = append(found, m.name+` ("`+clip(s, maxEvidence)+`")`)
					break
				}
			}
		}
		if len(found) > 0 {
			return &Fact{Value: strings.Join(found, "; "), Source: p.URL}
		}
	}
	return nil
}
