package discover

import (
	"net/netip"
	"net/url"
	"strings"

	"golang.org/x/net/publicsuffix"
)

// SameSite reports whether u belongs to the same site as root, where a
// site is a registrable domain (eTLD+1 from the Public Suffix List): so
// www.acme.com, acme.com and docs.acme.com are one site, while
// acme.com.evil.net, acme.co.uk vs other.co.uk, and alice.github.io vs
// bob.github.io are not. Scheme and port are ignored because companies
// routinely mix http/https and serve docs on other ports of the same
// domain. IP hosts and hosts with no registrable domain (localhost, a bare
// public suffix) match only themselves. Invalid or non-http(s) URLs are
// never same-site.
func SameSite(root, u string) bool {
	a, ok := siteOf(root)
	if !ok {
		return false
	}
	b, ok := siteOf(u)
	return ok && a == b
}

// siteOf returns the registrable domain of an absolute http(s) URL, or its
// canonical host when it has none.
func siteOf(raw string) (string, bool) {
	n, err := Normalize(raw)
	if err != nil {
		return "", false
	}
	u, err := url.Parse(n)
	if err != nil {
		return "", false
	}
	host := u.Hostname()
	if _, err := netip.ParseAddr(host); err == nil {
		return host, true
	}
	site, err := publicsuffix.EffectiveTLDPlusOne(host)
	if err != nil {
		// "localhost", "co.uk" itself, etc.: no registrable domain, so
		// only an exact host match is safe.
		return host, true
	}
	return strings.ToLower(site), true
}
