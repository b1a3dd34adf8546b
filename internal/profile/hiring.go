package profile

import (
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/groundwork-dev/groundwork/internal/discover"
)

var (
	// rxOpenRoles matches a stated number of openings: "12 open positions",
	// "7 jobs open", "3 openings".
	rxOpenRoles = regexp.MustCompile(`(?i)\b(\d{1,4}) (?:(?:open|current|available) (?:positions|roles|jobs|vacancies|opportunities|openings)|(?:positions|roles|jobs|vacancies) (?:open|available)|job openings|openings|vacancies)\b`)
	// rxNoRoles matches a statement that nothing is open.
	rxNoRoles = regexp.MustCompile(`(?i)\bno (?:current |open )?(?:positions|roles|jobs|vacancies|openings|job openings)\b|\bnot (?:currently )?hiring\b`)
	// rxJobTitle matches a heading or link text that names a job.
	rxJobTitle = regexp.MustCompile(`(?i)\b(?:engineer|developer|manager|designer|analyst|specialist|representative|executive|director|scientist|consultant|coordinator|administrator|architect|intern|recruiter|marketer|writer|accountant|officer|technician|associate|advocate|strategist|product owner|head of|vp|sdr|bdr)s?\b`)
	// rxCareersLink matches the text of a link to a careers page.
	rxCareersLink = regexp.MustCompile(`(?i)^(?:careers?|jobs|join (?:us|our team|the team)|work (?:with|for) us|we'?re hiring|open (?:positions|roles))$`)
)

// maxJobTitleWords is the longest heading or link text counted as a job
// title; longer ones are sentences that mention a job.
const maxJobTitleWords = 8

// atsHosts are applicant-tracking systems that host careers pages.
var atsHosts = []string{"greenhouse.io", "lever.co", "workable.com", "ashbyhq.com", "personio.de", "personio.com", "recruitee.com", "smartrecruiters.com", "teamtailor.com", "bamboohr.com", "jobvite.com", "breezy.hr", "join.com"}

// hiring reports what the careers pages say about hiring: the number of
// open roles they state, else the number of job titles they list as
// headings or links, else that the page exists. Without a fetched careers
// page it reports a link to one. It returns nil when the site shows no
// sign of a careers page.
func hiring(pages []*pageData) *Fact {
	var best *Fact
	bestN := -1
	for _, p := range inCategories(pages, discover.CategoryCareers) {
		v, n := openRoles(p)
		if n > bestN {
			best, bestN = &Fact{Value: v, Source: p.URL}, n
		}
	}
	if best != nil {
		return best
	}
	for _, p := range pages {
		for _, l := range p.Links {
			if careersLink(l.URL, l.Text) {
				return &Fact{Value: "careers page linked: " + l.URL, Source: p.URL}
			}
		}
	}
	return nil
}

// openRoles describes what careers page p says about open roles and
// returns the number of roles (0 when none or unknown) for ranking pages.
func openRoles(p *pageData) (string, int) {
	segs := p.segments
	for _, s := range segs {
		if m := rxOpenRoles.FindStringSubmatch(s); m != nil {
			n, _ := strconv.Atoi(m[1])
			return "careers page: " + m[0], n
		}
	}
	seen := map[string]bool{}
	for _, b := range p.blocks {
		if (b.kind == blockHeading || b.kind == blockItem) && isJobTitle(b.text) {
			seen[strings.ToLower(b.text)] = true
		}
	}
	for _, l := range p.Links {
		if isJobTitle(l.Text) {
			seen[strings.ToLower(strings.Join(strings.Fields(l.Text), " "))] = true
		}
	}
	switch n := len(seen); {
	case n == 1:
		return "careers page: 1 job listing", 1
	case n > 1:
		return "careers page: " + strconv.Itoa(n) + " job listings", n
	}
	for _, s := range segs {
		if rxNoRoles.MatchString(s) {
			return "careers page: no open roles listed", 0
		}
	}
	return "careers page", 0
}

// isJobTitle reports whether s reads like a job title. One word is not
// enough: "Developers" in a navigation bar is the API docs, not a job.
func isJobTitle(s string) bool {
	n := len(strings.Fields(s))
	return n >= 2 && n <= maxJobTitleWords && rxJobTitle.MatchString(s) && !strings.ContainsAny(s, ".!?")
}

// careersLink reports whether a link leads to a careers page, by its text,
// its path or its host.
func careersLink(raw, text string) bool {
	if rxCareersLink.MatchString(strings.TrimSpace(text)) {
		return true
	}
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	host := strings.ToLower(u.Hostname())
	if strings.HasPrefix(host, "jobs.") || strings.HasPrefix(host, "careers.") {
		return true
	}
	for _, h := range atsHosts {
		if host == h || strings.HasSuffix(host, "."+h) {
			return true
		}
	}
	first, _, _ := strings.Cut(strings.Trim(u.Path, "/"), "/")
	return first == "careers" || first == "jobs" || first == "career"
}
