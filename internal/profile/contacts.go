package profile

import (
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/groundwork-dev/groundwork/internal/discover"
)

// placeholderDomains are e-mail domains of form placeholders and site
// tooling, never a way to reach the company.
var placeholderDomains = []string{"example.com", "example.org", "example.net", "domain.com", "email.com", "yourcompany.com", "sentry.io", "wixpress.com"}

var (
	// rxPhone matches an international phone number: the only format that
	// is unambiguous without knowing the country.
	rxPhone = regexp.MustCompile(`(?:\+|\b00)\d[\d ()./-]{5,18}\d`)
	// rxPhoneLabel matches the label that marks a line as a phone number
	// rather than, say, an order number.
	rxPhoneLabel = regexp.MustCompile(`(?i)\b(?:phone|tel|telephone|call|mobile|fax)\b`)
	// rxContactLink matches the text of a link to a contact page.
	rxContactLink = regexp.MustCompile(`(?i)^(?:contact(?: us| sales)?|get in touch|kontakt)$`)
)

// socialHosts are the hosts whose profile URLs count as social profiles,
// mapped to the path prefixes that are not profiles (share dialogs, intents).
var socialHosts = map[string][]string{
	"linkedin.com":    {"/shareArticle", "/sharing", "/feed"},
	"twitter.com":     {"/intent", "/share", "/home"},
	"x.com":           {"/intent", "/share", "/home"},
	"facebook.com":    {"/sharer", "/share", "/dialog"},
	"instagram.com":   {"/p/"},
	"youtube.com":     {"/watch", "/embed"},
	"github.com":      nil,
	"tiktok.com":      nil,
	"xing.com":        nil,
	"mastodon.social": nil,
	"bsky.app":        nil,
}

// socialCategories are the pages whose links to social profiles are the
// company's own: the footers of blog posts and customer stories link to
// authors and customers too.
var socialCategories = []string{discover.CategoryHome, discover.CategoryAbout, discover.CategoryContact}

// contacts lists the ways to reach the company: e-mail addresses (those at
// domain first), phone numbers, postal addresses, the contact page and
// social profiles, each with the first page that lists it.
func contacts(domain string, pages []*pageData) []Contact {
	var emails, phones, addresses, contactPages, socials []Contact
	seen := map[string]bool{}
	add := func(list *[]Contact, kind, key, value, src string) {
		value = strings.TrimSpace(value)
		if value == "" || key == "" || seen[kind+"\x00"+key] {
			return
		}
		seen[kind+"\x00"+key] = true
		*list = append(*list, Contact{Kind: kind, Value: value, Source: src})
	}
	addEmail := func(e, src string) {
		e = strings.TrimSpace(e)
		if _, host, ok := strings.Cut(e, "@"); ok && !slices.Contains(placeholderDomains, strings.ToLower(host)) {
			add(&emails, KindEmail, strings.ToLower(e), e, src)
		}
	}
	addPhone := func(ph, src string) {
		add(&phones, KindPhone, digits(ph), strings.Join(strings.Fields(ph), " "), src)
	}
	for _, p := range pages {
		for _, e := range p.Emails {
			addEmail(e, p.URL)
		}
		if o := p.Organization; o != nil {
			addEmail(o.Email, p.URL)
			addPhone(o.Telephone, p.URL)
			add(&addresses, KindAddress, strings.Join(words(o.Address), " "), strings.Join(strings.Fields(o.Address), " "), p.URL)
			for _, s := range o.SameAs {
				if isSocial(s) {
					add(&socials, KindSocial, normURL(s), s, p.URL)
				}
			}
		}
		if p.Category == discover.CategoryContact {
			add(&contactPages, KindContactPage, normURL(p.URL), p.URL, p.URL)
			for _, s := range p.segments {
				if rxPhoneLabel.MatchString(s) {
					for _, ph := range rxPhone.FindAllString(s, -1) {
						addPhone(ph, p.URL)
					}
				}
			}
		}
	}
	if len(contactPages) == 0 {
		for _, p := range pages {
			for _, l := range p.Links {
				if contactLink(l.URL, l.Text) {
					add(&contactPages, KindContactPage, normURL(l.URL), l.URL, p.URL)
				}
			}
		}
	}
	for _, p := range inCategories(pages, socialCategories...) {
		for _, l := range p.Links {
			if isSocial(l.URL) {
				add(&socials, KindSocial, normURL(l.URL), l.URL, p.URL)
			}
		}
	}
	if d := strings.ToLower(strings.TrimPrefix(strings.TrimSpace(domain), "www.")); d != "" {
		// The company's own addresses first; addresses at other domains
		// (agencies, parent companies) follow in the order found.
		slices.SortStableFunc(emails, func(a, b Contact) int {
			return boolRank(!atDomain(a.Value, d)) - boolRank(!atDomain(b.Value, d))
		})
	}
	out := []Contact{}
	for _, l := range [][]Contact{emails, phones, addresses, contactPages, socials} {
		out = append(out, l...)
	}
	return out
}

// digits returns the digits of a phone number, its identity.
func digits(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}

func boolRank(b bool) int {
	if b {
		return 1
	}
	return 0
}

// atDomain reports whether e-mail address e is at domain d or a subdomain.
func atDomain(e, d string) bool {
	_, host, _ := strings.Cut(strings.ToLower(e), "@")
	return host == d || strings.HasSuffix(host, "."+d)
}

// isSocial reports whether raw is the URL of a profile on a social network.
func isSocial(raw string) bool {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return false
	}
	host := strings.TrimPrefix(strings.ToLower(u.Hostname()), "www.")
	for h, notProfiles := range socialHosts {
		if host != h && !strings.HasSuffix(host, "."+h) {
			continue
		}
		path := strings.Trim(u.Path, "/")
		if path == "" {
			return false
		}
		for _, np := range notProfiles {
			if strings.HasPrefix(u.Path, np) {
				return false
			}
		}
		return true
	}
	return false
}

// contactLink reports whether a link leads to a contact page, by its text
// or its path.
func contactLink(raw, text string) bool {
	if rxContactLink.MatchString(strings.TrimSpace(text)) {
		return true
	}
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	first, _, _ := strings.Cut(strings.Trim(u.Path, "/"), "/")
	return first == "contact" || first == "contact-us" || first == "contact-sales"
}
