package discover

import (
	"bytes"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/temoto/robotstxt"
)

// MaxRobotsBytes is how much of a robots.txt file is parsed: RFC 9309
// §2.5 requires parsing at least 500 KiB and allows ignoring the rest,
// which bounds work on huge or hostile files.
const MaxRobotsBytes = 500 << 10

// Robots holds the robots.txt rules of one origin (scheme, host, port) and
// answers per-user-agent questions about them. A nil *Robots allows
// everything, so callers without a robots.txt need no special case.
type Robots struct {
	data        *robotstxt.RobotsData // nil when allowAll or disallowAll
	allowAll    bool
	disallowAll bool
}

// ParseRobots interprets a robots.txt fetch following RFC 9309 and Google's
// documented behaviour: 2xx → the file's rules; 4xx (including 404, 401
// and 403) → no restrictions, except 429 → disallow all, since it signals
// overload just like a 5xx; 5xx, 3xx (redirects are the caller's job, RFC
// 9309 §2.3.1.2, so one arriving here was not followed or looped), any
// other status, and a fetch error (pass status 0) → disallow all, because
// crawling a site whose rules we could not read risks ignoring them.
// Malformed lines in a 2xx body are skipped rather than failing the file.
func ParseRobots(status int, body []byte) *Robots {
	switch {
	case status >= 200 && status < 300:
		return parseRobotsBody(body)
	case status == 429:
		return &Robots{disallowAll: true}
	case status >= 400 && status < 500:
		return &Robots{allowAll: true}
	default:
		return &Robots{disallowAll: true}
	}
}

func parseRobotsBody(body []byte) *Robots {
	if len(body) > MaxRobotsBytes {
		body = body[:MaxRobotsBytes]
		// Drop the partial last line: half a "Disallow: /private" would
		// become a different, wrong rule.
		if i := bytes.LastIndexByte(body, '\n'); i >= 0 {
			body = body[:i+1]
		}
	}
	body = bytes.TrimPrefix(body, []byte("\xEF\xBB\xBF"))
	data, err := robotstxt.FromBytes(body)
	if err != nil {
		// robotstxt rejects a whole file over one bad line (a rule before
		// any User-agent, an unparsable Crawl-delay). RFC 9309 §2.2 wants
		// such lines ignored, so drop them and parse again.
		data, err = robotstxt.FromBytes(sanitizeRobots(body))
	}
	if err != nil {
		// Still unreadable: we cannot know the rules, so honour the
		// site's intent conservatively, as for a server error.
		return &Robots{disallowAll: true}
	}
	return &Robots{data: data}
}

// sanitizeRobots removes the lines robotstxt treats as fatal errors.
func sanitizeRobots(body []byte) []byte {
	var out bytes.Buffer
	seenAgent := false
	for line := range bytes.Lines(body) {
		content, _, _ := bytes.Cut(line, []byte("#"))
		key, val, ok := bytes.Cut(content, []byte(":"))
		if ok {
			k := strings.ToLower(strings.TrimSpace(string(key)))
			switch k {
			case "user-agent", "useragent":
				seenAgent = true
			case "allow", "disallow":
				if !seenAgent {
					continue
				}
			case "crawl-delay", "crawldelay":
				f, err := strconv.ParseFloat(strings.TrimSpace(string(val)), 64)
				if !seenAgent || err != nil || f < 0 || f > 1e9 {
					continue
				}
			}
		}
		out.Write(line)
		if !bytes.HasSuffix(line, []byte("\n")) {
			out.WriteByte('\n')
		}
	}
	return out.Bytes()
}

// productToken extracts the name robots.txt groups are matched against:
// "GroundworkBot/1.0 (+https://…)" → "GroundworkBot" (RFC 9309 §2.2.1).
func productToken(userAgent string) string {
	tok, _, _ := strings.Cut(strings.TrimSpace(userAgent), "/")
	if i := strings.IndexAny(tok, " \t("); i >= 0 {
		tok = tok[:i]
	}
	return tok
}

// Allowed reports whether userAgent may fetch rawURL. The URL must belong
// to the origin this robots.txt came from; robots rules are per origin
// and Allowed cannot check that. Rules are matched against the
// percent-encoded path plus query, as RFC 9309 §2.2.2 specifies; a URL
// that cannot be parsed is not allowed. Group selection uses robotstxt's
// case-insensitive prefix match on the product token, so a group for
// "groundwork" also applies to "GroundworkBot".
func (r *Robots) Allowed(userAgent, rawURL string) bool {
	if r == nil || r.allowAll {
		return true
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return false
	}
	p := u.EscapedPath()
	if p == "" {
		p = "/"
	}
	// RFC 9309 §2.2.2: /robots.txt itself is always allowed.
	if p == "/robots.txt" {
		return true
	}
	if r.disallowAll {
		return false
	}
	if u.RawQuery != "" {
		p += "?" + u.RawQuery
	}
	return r.data.TestAgent(p, productToken(userAgent))
}

// CrawlDelay returns the Crawl-delay of the group that applies to
// userAgent, or 0 when none is set; it is a non-standard directive (not in
// RFC 9309) so callers may cap it.
func (r *Robots) CrawlDelay(userAgent string) time.Duration {
	if r == nil || r.data == nil {
		return 0
	}
	return r.data.FindGroup(productToken(userAgent)).CrawlDelay
}

// Sitemaps returns the Sitemap URLs the file lists, in order, without
// duplicates; the slice is the caller's to modify.
func (r *Robots) Sitemaps() []string {
	if r == nil || r.data == nil {
		return nil
	}
	var out []string
	seen := make(map[string]bool, len(r.data.Sitemaps))
	for _, s := range r.data.Sitemaps {
		if s = strings.TrimSpace(s); s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
