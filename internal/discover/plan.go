package discover

import (
	"cmp"
	"net/url"
	"slices"
)

// Candidate sources, recording where the crawler learned of a page.
const (
	// SourceHome is the site's home page.
	SourceHome = "home"
	// SourceSitemap is a URL listed in a sitemap.
	SourceSitemap = "sitemap"
	// SourceLink is a link found on a fetched page.
	SourceLink = "link"
	// SourceInput is a URL supplied by the user.
	SourceInput = "input"
)

// Candidate is a page the crawler could fetch.
type Candidate struct {
	// URL is the page address; Plan returns it normalised.
	URL string
	// LinkText is the anchor text the page was linked with, if any; it
	// helps classify pages whose path says nothing ("/p/8812").
	LinkText string
	// Source is one of the Source* constants.
	Source string
}

// Plan chooses and orders the pages to fetch from cands: the home page
// first, then by Score descending, ties broken by shorter path and then by
// URL so the plan is deterministic. Candidates are deduplicated by
// Normalize (the returned URLs are normalised), pages off root's site or
// scoring 0 are dropped, at most maxPerCategory pages of one category are
// kept (≤ 0 means no cap) so ten blog posts cannot crowd out the pricing
// page, and at most max pages are returned (max ≤ 0 returns none).
//
// The home page is root itself or any candidate with Source "home". root is
// always planned even when absent from cands, because the home page is the
// single most informative page; an invalid root yields no plan, since no
// page could then be judged same-site.
func Plan(root string, cands []Candidate, max, maxPerCategory int) []Candidate {
	nroot, err := Normalize(root)
	if err != nil || max <= 0 {
		return nil
	}

	type entry struct {
		c       Candidate
		home    bool
		score   int
		cat     string
		pathLen int
	}
	byURL := map[string]*entry{}
	add := func(c Candidate) {
		n, err := Normalize(c.URL)
		if err != nil || !SameSite(nroot, n) {
			return
		}
		c.URL = n
		e := &entry{c: c, home: n == nroot || c.Source == SourceHome}
		e.cat, e.score = classify(n, c.LinkText)
		if u, err := url.Parse(n); err == nil {
			e.pathLen = len(u.EscapedPath())
		}
		if !e.home && e.score <= 0 {
			return
		}
		old, ok := byURL[n]
		switch {
		case !ok:
			byURL[n] = e
		case e.home && !old.home, e.home == old.home && e.score > old.score:
			// A duplicate may carry better link text or the home flag;
			// keep the most informative copy.
			byURL[n] = e
		}
	}
	add(Candidate{URL: nroot, Source: SourceHome})
	for _, c := range cands {
		add(c)
	}

	entries := make([]*entry, 0, len(byURL))
	for _, e := range byURL {
		entries = append(entries, e)
	}
	slices.SortFunc(entries, func(a, b *entry) int {
		if a.home != b.home {
			if a.home {
				return -1
			}
			return 1
		}
		if a.home && (a.c.URL == nroot) != (b.c.URL == nroot) {
			// root itself leads any other page marked as home.
			if a.c.URL == nroot {
				return -1
			}
			return 1
		}
		return cmp.Or(
			cmp.Compare(b.score, a.score),
			cmp.Compare(a.pathLen, b.pathLen),
			cmp.Compare(a.c.URL, b.c.URL),
		)
	})

	out := make([]Candidate, 0, min(max, len(entries)))
	perCat := map[string]int{}
	for _, e := range entries {
		if len(out) == max {
			break
		}
		// Home pages are exempt from the cap: they are what the crawl is for.
		if !e.home && maxPerCategory > 0 {
			if perCat[e.cat] >= maxPerCategory {
				continue
			}
			perCat[e.cat]++
		}
		out = append(out, e.c)
	}
	return out
}
