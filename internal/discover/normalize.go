// Package discover holds the pure, network-free logic that decides which
// pages of a company's website the research crawler fetches: URL
// canonicalisation, same-site checks, page scoring, crawl planning, sitemap
// parsing and robots.txt evaluation. Keeping it free of I/O lets the
// fetching code stay thin and lets every decision be unit-tested.
package discover

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/net/idna"
)

// Sentinel errors returned (wrapped) by Normalize so callers can tell a
// malformed URL from one that is well-formed but out of scope.
var (
	// ErrUnsupportedScheme reports a URL whose scheme is not http or https.
	ErrUnsupportedScheme = errors.New("unsupported scheme")
	// ErrUserinfo reports a URL carrying credentials; such links are refused
	// because "http://acme.com@evil.net" is a classic phishing disguise and
	// credentials must never end up in logs or the crawl queue.
	ErrUserinfo = errors.New("URL contains userinfo")
	// ErrNoHost reports a URL without a host.
	ErrNoHost = errors.New("URL has no host")
	// ErrBadHost reports a host that is not a valid DNS name or IP literal.
	ErrBadHost = errors.New("invalid host")
	// ErrBadPort reports a port outside 0-65535.
	ErrBadPort = errors.New("invalid port")
)

// trackingParams are query keys that only identify a visitor or campaign,
// never the page, so two URLs differing only in them are the same page.
var trackingParams = map[string]bool{
	"gclid": true, "fbclid": true, "mc_cid": true, "mc_eid": true,
	"ref": true, "ref_src": true,
}

// Normalize returns the canonical form of an absolute http(s) URL so that
// different spellings of one page deduplicate to a single string.
//
// It lower-cases scheme and host, converts IDN hosts to punycode, drops the
// default port, fragment and tracking query parameters (utm_*, gclid,
// fbclid, mc_cid, mc_eid, ref, ref_src), sorts the remaining parameters by
// key (keeping the relative order of repeated keys, which can matter),
// resolves dot segments, and normalises percent-encoding (upper-case hex,
// unreserved characters decoded, per RFC 3986 §6.2.2). A trailing slash is
// kept because "/docs" and "/docs/" may be different resources; the empty
// path becomes "/". URLs with userinfo or a scheme other than http/https are
// rejected with a wrapped sentinel error.
func Normalize(raw string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return "", fmt.Errorf("normalize %q: %w", raw, err)
	}
	// url.Parse already lower-cases the scheme.
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", fmt.Errorf("normalize %q: %w", raw, ErrUnsupportedScheme)
	}
	if u.User != nil {
		return "", fmt.Errorf("normalize %q: %w", raw, ErrUserinfo)
	}
	if u.Opaque != "" || u.Host == "" {
		return "", fmt.Errorf("normalize %q: %w", raw, ErrNoHost)
	}
	host, err := canonicalHost(u.Hostname())
	if err != nil {
		return "", fmt.Errorf("normalize %q: %w", raw, err)
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || n > 65535 {
			return "", fmt.Errorf("normalize %q: %w", raw, ErrBadPort)
		}
		if !(u.Scheme == "http" && n == 80) && !(u.Scheme == "https" && n == 443) {
			// Re-format so "0080" and "80" cannot diverge.
			host += ":" + strconv.Itoa(n)
		}
	}

	var b strings.Builder
	b.WriteString(u.Scheme)
	b.WriteString("://")
	b.WriteString(host)
	b.WriteString(normalizePath(u.EscapedPath()))
	if q := normalizeQuery(u.RawQuery); q != "" {
		b.WriteByte('?')
		b.WriteString(q)
	}
	return b.String(), nil
}

// canonicalHost lower-cases a host, strips the root-zone trailing dot,
// converts IDNs to their ASCII (punycode) form and canonicalises IP
// literals, so "ACME.com.", "acme.com" and "ａｃｍｅ.com" compare equal.
func canonicalHost(h string) (string, error) {
	if addr, err := netip.ParseAddr(h); err == nil {
		if addr.Is6() {
			// Brackets are required around IPv6 literals in URLs; the
			// canonical text form also fixes case and zero compression.
			return "[" + addr.String() + "]", nil
		}
		return addr.String(), nil
	}
	h = strings.TrimSuffix(h, ".")
	if h == "" {
		return "", ErrNoHost
	}
	if isASCII(h) {
		return strings.ToLower(h), nil
	}
	// Only non-ASCII names go through IDNA: the Lookup profile enforces
	// STD3 rules, which would reject the underscores some real ASCII
	// hostnames contain.
	a, err := idna.Lookup.ToASCII(h)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrBadHost, err)
	}
	return strings.ToLower(a), nil
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// normalizePath resolves dot segments in an escaped path while preserving
// a meaningful trailing slash.
func normalizePath(escaped string) string {
	if escaped == "" {
		return "/"
	}
	p := normalizeEscapes(escaped)
	// "/a/b/.." means the directory "/a/", per RFC 3986 remove_dot_segments.
	trailing := strings.HasSuffix(p, "/") || strings.HasSuffix(p, "/.") || strings.HasSuffix(p, "/..")
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	c := path.Clean(p)
	if trailing && c != "/" {
		c += "/"
	}
	return c
}

// normalizeQuery drops tracking parameters and sorts the rest by key. It
// works on the raw "k=v" pieces instead of url.ParseQuery because the
// latter silently drops pairs containing ';' and re-encodes values, which
// could merge two genuinely different pages.
func normalizeQuery(raw string) string {
	if raw == "" {
		return ""
	}
	type pair struct{ key, piece string }
	var kept []pair
	for piece := range strings.SplitSeq(raw, "&") {
		if piece == "" {
			continue
		}
		piece = normalizeEscapes(piece)
		k, _, _ := strings.Cut(piece, "=")
		dk, err := url.QueryUnescape(k)
		if err != nil {
			dk = k
		}
		dk = strings.ToLower(dk)
		if strings.HasPrefix(dk, "utm_") || trackingParams[dk] {
			continue
		}
		kept = append(kept, pair{k, piece})
	}
	slices.SortStableFunc(kept, func(a, b pair) int { return strings.Compare(a.key, b.key) })
	pieces := make([]string, len(kept))
	for i, p := range kept {
		pieces[i] = p.piece
	}
	return strings.Join(pieces, "&")
}

// normalizeEscapes upper-cases percent-encoding hex digits and decodes
// escaped unreserved characters (RFC 3986 §2.3), which are equivalent to
// their literal form. Malformed escapes are left untouched.
func normalizeEscapes(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			c := unhex(s[i+1])<<4 | unhex(s[i+2])
			if isUnreserved(c) {
				b.WriteByte(c)
			} else {
				b.WriteByte('%')
				b.WriteString(strings.ToUpper(s[i+1 : i+3]))
			}
			i += 2
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

func isUnreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}
