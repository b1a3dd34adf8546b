package discover

import (
	"net/url"
	"path"
	"regexp"
	"strconv"
	"strings"
)

// Page categories returned by Category. Legal pages, assets and pages
// Score rejects are reported as CategoryOther.
const (
	// CategoryHome is the site's root page.
	CategoryHome = "home"
	// CategoryAbout covers about/company/team/leadership/mission pages.
	CategoryAbout = "about"
	// CategoryProduct covers product/platform/features/solutions pages.
	CategoryProduct = "product"
	// CategoryPricing covers pricing/plans pages.
	CategoryPricing = "pricing"
	// CategoryCustomers covers customers/case-studies/testimonials pages.
	CategoryCustomers = "customers"
	// CategoryCareers covers careers/jobs pages.
	CategoryCareers = "careers"
	// CategoryBlog covers blog/news/press pages.
	CategoryBlog = "blog"
	// CategoryContact covers contact pages.
	CategoryContact = "contact"
	// CategoryOther is everything else.
	CategoryOther = "other"
)

// Base scores per category: the order encodes how much a page of that kind
// tells a researcher about the company. Sub-pages lose a little per extra
// path segment so a section's landing page beats its deep children.
const (
	scoreHome        = 100
	scoreAbout       = 90
	scoreProduct     = 80
	scorePricing     = 75
	scoreCustomers   = 70
	scoreCustomerSub = 60 // an individual case study: concrete, but one of many
	scoreCareers     = 55
	scoreBlog        = 50
	scoreContact     = 45
	scoreCareersSub  = 25 // one job ad says little beyond the listing page
	scoreBlogPost    = 30
	scoreOther       = 10
	scoreLegal       = 1 // rarely informative, but not harmful to fetch
	scoreArchive     = 1 // tag/category/author listings repeat post titles
	scoreLinkPenalty = 10
	depthPenalty     = 3
	queryPenalty     = 5
)

// words maps a path-segment word (segments are split on '-', '_' and '.')
// to the category it signals.
var words = map[string]string{
	"about": CategoryAbout, "aboutus": CategoryAbout, "company": CategoryAbout,
	"team": CategoryAbout, "leadership": CategoryAbout, "mission": CategoryAbout,
	"founders": CategoryAbout, "management": CategoryAbout, "story": CategoryAbout,
	"history": CategoryAbout, "values": CategoryAbout, "investors": CategoryAbout,
	"who": CategoryAbout, "people": CategoryAbout,

	"product": CategoryProduct, "products": CategoryProduct, "platform": CategoryProduct,
	"features": CategoryProduct, "feature": CategoryProduct, "solutions": CategoryProduct,
	"solution": CategoryProduct, "services": CategoryProduct, "technology": CategoryProduct,
	"integrations": CategoryProduct, "industries": CategoryProduct,

	"pricing": CategoryPricing, "plans": CategoryPricing, "price": CategoryPricing,
	"prices": CategoryPricing,

	"customers": CategoryCustomers, "customer": CategoryCustomers, "case": CategoryCustomers,
	"testimonials": CategoryCustomers, "clients": CategoryCustomers, "success": CategoryCustomers,
	"reviews": CategoryCustomers,

	"careers": CategoryCareers, "career": CategoryCareers, "jobs": CategoryCareers,
	"job": CategoryCareers, "join": CategoryCareers, "hiring": CategoryCareers,
	"vacancies": CategoryCareers, "openings": CategoryCareers,

	"blog": CategoryBlog, "news": CategoryBlog, "press": CategoryBlog,
	"newsroom": CategoryBlog, "insights": CategoryBlog, "articles": CategoryBlog,
	"updates": CategoryBlog, "announcements": CategoryBlog, "changelog": CategoryBlog,

	"contact": CategoryContact, "contacts": CategoryContact, "locations": CategoryContact,
	"offices": CategoryContact,
}

// wordPriority resolves segments containing words of several categories,
// e.g. "customer-stories" or "press-contact": the more specific kind wins.
var wordPriority = []string{
	CategoryCustomers, CategoryPricing, CategoryCareers, CategoryContact,
	CategoryBlog, CategoryAbout, CategoryProduct,
}

// collections are categories whose children are items (posts, case
// studies, job ads) with arbitrary slugs; scanning stops there so a post
// titled "our-new-pricing" stays a blog post.
var collections = map[string]bool{
	CategoryBlog: true, CategoryCustomers: true, CategoryCareers: true,
}

// blockedSegments are whole path segments of pages with nothing to learn
// and, for carts and accounts, possible side effects.
var blockedSegments = map[string]bool{
	"login": true, "log-in": true, "signin": true, "sign-in": true, "logout": true,
	"signup": true, "sign-up": true, "register": true, "join-now": true,
	"cart": true, "basket": true, "checkout": true, "account": true, "my-account": true,
	"wp-admin": true, "wp-login.php": true, "wp-json": true, "wp-content": true,
	"wp-includes": true, "admin": true, "password": true, "reset-password": true,
	"search": true, "cdn-cgi": true, "feed": true, "rss": true, "oauth": true, "sso": true,
}

// legalPrefixes start the path segments of legal boilerplate pages.
var legalPrefixes = []string{
	"privacy", "terms", "tos", "cookie", "legal", "gdpr", "ccpa", "disclaimer",
	"imprint", "impressum", "eula", "dpa", "accessibility", "sitemap",
}

// archiveSegments introduce listing pages that only repeat post titles.
var archiveSegments = map[string]bool{
	"tag": true, "tags": true, "category": true, "categories": true,
	"author": true, "authors": true, "archive": true, "archives": true, "topics": true,
}

// assetExts are file types that are not HTML pages worth reading.
var assetExts = map[string]bool{
	".pdf": true, ".jpg": true, ".jpeg": true, ".png": true, ".gif": true, ".svg": true,
	".webp": true, ".avif": true, ".ico": true, ".bmp": true, ".tif": true, ".tiff": true,
	".zip": true, ".gz": true, ".tgz": true, ".rar": true, ".7z": true, ".tar": true,
	".css": true, ".js": true, ".mjs": true, ".map": true, ".json": true, ".xml": true,
	".rss": true, ".atom": true, ".txt": true, ".csv": true,
	".mp3": true, ".mp4": true, ".wav": true, ".avi": true, ".mov": true, ".webm": true,
	".woff": true, ".woff2": true, ".ttf": true, ".otf": true, ".eot": true,
	".exe": true, ".dmg": true, ".apk": true, ".msi": true, ".iso": true,
	".doc": true, ".docx": true, ".xls": true, ".xlsx": true, ".ppt": true, ".pptx": true,
}

// paginationKeys are query keys whose numeric value selects a listing page.
var paginationKeys = map[string]bool{"page": true, "p": true, "pg": true, "paged": true}

// blockedQueryKeys mark search results and action links.
var blockedQueryKeys = map[string]bool{
	"s": true, "q": true, "search": true, "replytocom": true, "add-to-cart": true, "action": true,
}

// localeRe matches a leading language segment such as "en" or "en-us",
// which says nothing about the page kind.
var localeRe = regexp.MustCompile(`^[a-z]{2}([-_][a-z]{2})?$`)

// Score rates from 0 to 100 how useful a page is for learning about a
// company, judged from its URL path and, when the path is uninformative,
// the link text. Home > about > product > pricing > customers > careers >
// blog > contact > other; legal pages and tag/category archives score 1;
// assets, login/signup/cart pages, search results, paginated listings
// beyond page 1, and non-http(s) URLs score 0, meaning never fetch. Score
// does not check the site; Plan does.
func Score(u, linkText string) int {
	_, s := classify(u, linkText)
	return s
}

// Category names the page kind Score recognised: one of the Category*
// constants.
func Category(u, linkText string) string {
	c, _ := classify(u, linkText)
	return c
}

// classify implements Score and Category together so the two can never
// disagree.
func classify(raw, linkText string) (string, int) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return CategoryOther, 0
	}
	p, err := url.PathUnescape(u.EscapedPath())
	if err != nil {
		p = u.EscapedPath()
	}
	segs := segments(strings.ToLower(p))

	if n := len(segs); n > 0 {
		if assetExts[path.Ext(segs[n-1])] {
			return CategoryOther, 0
		}
		// A directory index is the directory itself.
		if strings.HasPrefix(segs[n-1], "index.") || segs[n-1] == "default.aspx" {
			segs = segs[:n-1]
		}
	}
	for _, s := range segs {
		if blockedSegments[s] {
			return CategoryOther, 0
		}
	}
	query, blocked := queryTraits(u.Query())
	if blocked {
		return CategoryOther, 0
	}
	if len(segs) > 1 && localeRe.MatchString(segs[0]) {
		segs = segs[1:]
	}
	if len(segs) == 0 {
		return CategoryHome, penalise(scoreHome, 0, query)
	}
	if isPaginated(segs) {
		return CategoryOther, 0
	}

	cat, at := CategoryOther, -1
	for i, s := range segs {
		if c := segmentCategory(s); c != "" {
			cat, at = c, i
			if collections[c] {
				break
			}
		}
	}
	last := segs[len(segs)-1]
	// A legal last segment marks "/company/privacy" as boilerplate, but
	// not an item slug inside a collection ("/blog/privacy-by-design").
	if (!collections[cat] || at == len(segs)-1) && hasLegalPrefix(last) || hasLegalPrefix(segs[0]) {
		return CategoryOther, scoreLegal
	}
	if cat == CategoryOther {
		if c := textCategory(linkText); c != "" {
			switch c {
			case "legal":
				return CategoryOther, scoreLegal
			case "blocked":
				return CategoryOther, 0
			}
			return c, penalise(sectionScore(c, 0)-scoreLinkPenalty, len(segs)-1, query)
		}
		return CategoryOther, penalise(scoreOther, len(segs)-1, query)
	}

	extra := len(segs) - 1 - at // segments below the one that named the section
	if collections[cat] && extra > 0 {
		for _, s := range segs[at+1:] {
			if archiveSegments[s] {
				return cat, scoreArchive
			}
		}
		if _, err := strconv.Atoi(last); err == nil {
			// "/blog/2019/05": a date archive, not a post.
			return cat, scoreArchive
		}
	}
	return cat, penalise(sectionScore(cat, extra), len(segs)-1, query)
}

// sectionScore is the base score of a page of category c that sits extra
// segments below the section's landing page.
func sectionScore(c string, extra int) int {
	switch c {
	case CategoryAbout:
		return scoreAbout
	case CategoryProduct:
		return scoreProduct
	case CategoryPricing:
		return scorePricing
	case CategoryContact:
		return scoreContact
	case CategoryCustomers:
		if extra > 0 {
			return scoreCustomerSub
		}
		return scoreCustomers
	case CategoryCareers:
		if extra > 0 {
			return scoreCareersSub
		}
		return scoreCareers
	case CategoryBlog:
		if extra > 0 {
			return scoreBlogPost
		}
		return scoreBlog
	}
	return scoreOther
}

// penalise lowers a score for depth and for a non-tracking query string
// (filtered or sorted views of a page), never below 1 so a recognised
// page is not mistaken for a rejected one.
func penalise(score, depth int, query bool) int {
	score -= depthPenalty * depth
	if query {
		score -= queryPenalty
	}
	return max(score, 1)
}

func segments(p string) []string {
	var out []string
	for s := range strings.SplitSeq(p, "/") {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// segmentCategory returns the category a single path segment signals, or "".
func segmentCategory(seg string) string {
	found := map[string]bool{}
	for w := range strings.FieldsFuncSeq(seg, func(r rune) bool { return r == '-' || r == '_' || r == '.' || r == '+' }) {
		if c, ok := words[w]; ok {
			found[c] = true
		}
	}
	for _, c := range wordPriority {
		if found[c] {
			return c
		}
	}
	return ""
}

// hasLegalPrefix reports a legal boilerplate segment. Short markers
// ("tos", "dpa") must stand alone or end at a delimiter so that
// "tosca-suite" is not mistaken for terms of service.
func hasLegalPrefix(seg string) bool {
	for _, p := range legalPrefixes {
		if !strings.HasPrefix(seg, p) {
			continue
		}
		if len(p) >= 5 || len(seg) == len(p) || strings.IndexByte("-_.", seg[len(p)]) >= 0 {
			return true
		}
	}
	return false
}

// isPaginated reports "/…/page/N" listings with N ≥ 2: deep pages of an
// archive only repeat what its first page links to.
func isPaginated(segs []string) bool {
	for i := 0; i+1 < len(segs); i++ {
		if segs[i] == "page" {
			if n, err := strconv.Atoi(segs[i+1]); err == nil && n >= 2 {
				return true
			}
		}
	}
	return false
}

// queryTraits reports whether the query holds anything but tracking
// parameters, and whether it marks a page never worth fetching (search
// results, actions, pagination beyond the first page).
func queryTraits(q url.Values) (nonTracking, blocked bool) {
	for k, vs := range q {
		lk := strings.ToLower(k)
		if strings.HasPrefix(lk, "utm_") || trackingParams[lk] {
			continue
		}
		nonTracking = true
		if blockedQueryKeys[lk] {
			return true, true
		}
		if paginationKeys[lk] {
			for _, v := range vs {
				if n, err := strconv.Atoi(v); err == nil && n >= 2 {
					return true, true
				}
			}
		}
	}
	return nonTracking, false
}

// textPhrases map link-text words to a category, checked in order; "legal"
// and "blocked" are pseudo-categories for boilerplate and account links.
var textPhrases = []struct{ word, cat string }{
	{"login", "blocked"}, {"log in", "blocked"}, {"sign in", "blocked"}, {"sign up", "blocked"},
	{"signup", "blocked"}, {"register", "blocked"}, {"cart", "blocked"}, {"checkout", "blocked"},
	{"privacy", "legal"}, {"terms", "legal"}, {"cookie", "legal"}, {"legal", "legal"}, {"imprint", "legal"},
	{"pricing", CategoryPricing}, {"plans", CategoryPricing},
	{"customers", CategoryCustomers}, {"case studies", CategoryCustomers}, {"case study", CategoryCustomers},
	{"testimonials", CategoryCustomers},
	{"careers", CategoryCareers}, {"jobs", CategoryCareers}, {"hiring", CategoryCareers},
	{"about", CategoryAbout}, {"team", CategoryAbout}, {"leadership", CategoryAbout},
	{"mission", CategoryAbout}, {"company", CategoryAbout},
	{"product", CategoryProduct}, {"platform", CategoryProduct}, {"features", CategoryProduct},
	{"solutions", CategoryProduct},
	{"contact", CategoryContact},
	{"blog", CategoryBlog}, {"news", CategoryBlog}, {"press", CategoryBlog},
}

// textCategory classifies link text such as "About us" or "See pricing".
// Words are matched whole so "Teamwork tips" is not a team page.
func textCategory(text string) string {
	fields := strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !('a' <= r && r <= 'z' || '0' <= r && r <= '9')
	})
	if len(fields) == 0 {
		return ""
	}
	norm := " " + strings.Join(fields, " ") + " "
	for _, p := range textPhrases {
		if strings.Contains(norm, " "+p.word+" ") {
			return p.cat
		}
	}
	return ""
}
