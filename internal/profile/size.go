package profile

import (
	"regexp"
	"strings"

	"github.com/groundwork-dev/groundwork/internal/discover"
)

// sizeCategories are the pages where a company states its own headcount,
// most likely first; customer stories state their customers' headcounts
// and blog posts anyone's, so neither is read.
var sizeCategories = []string{discover.CategoryAbout, discover.CategoryHome, discover.CategoryCareers, discover.CategoryOther, discover.CategoryProduct, discover.CategoryContact}

const (
	approx = `(?:over |more than |about |around |nearly |almost |some |approximately |roughly |close to |fewer than |under )?`
	count  = `\d[\d,.]*[kK]?\+?`
)

// rxSize matches headcount phrases: "500+ employees", "a team of 40",
// "employs about 450 people", "a 60-person team".
var rxSize = regexp.MustCompile(`(?i)` + strings.Join([]string{
	`\b(?:a |our )?(?:team|staff|workforce) of ` + approx + count + `(?: (?:people|employees|engineers|experts|professionals|colleagues|specialists))?`,
	`\bemploys? ` + approx + count + ` (?:people|employees|staff|engineers)\b`,
	`(?:\b` + approx + `)?\b` + count + ` (?:full[- ]time )?(?:employees|staff members|team members|colleagues|staff)\b`,
	`\b(?:a |an )?\d[\d,]*[- ](?:strong|person|people) (?:team|company|workforce)\b`,
}, "|"))

// size returns the company's headcount: the JSON-LD numberOfEmployees when
// a page gives one, else the first headcount phrase of the company's own
// pages, as written.
func size(pages []*pageData) *Fact {
	own := inCategories(pages, sizeCategories...)
	for _, p := range own {
		if o := p.Organization; o != nil && strings.TrimSpace(o.NumberOfEmployees) != "" {
			return &Fact{Value: strings.TrimSpace(o.NumberOfEmployees) + " employees", Source: p.URL}
		}
	}
	for _, p := range own {
		for _, s := range p.segments {
			if m := rxSize.FindString(s); m != "" {
				return &Fact{Value: strings.TrimRight(m, ".,"), Source: p.URL}
			}
		}
	}
	return nil
}
