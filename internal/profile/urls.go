package profile

import (
	"net/url"
	"strings"
)

// normURL returns the form of a URL used to tell whether two URLs name the
// same page: no fragment, lower-case scheme and host, no default port and
// no trailing slash. Models and sites write the same URL in all of these
// ways. Strings that do not parse are only trimmed.
func normURL(raw string) string {
	raw = strings.TrimSpace(raw)
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return strings.TrimRight(strings.SplitN(raw, "#", 2)[0], "/")
	}
	u.Fragment, u.RawFragment = "", ""
	u.Scheme = strings.ToLower(u.Scheme)
	host := strings.ToLower(u.Hostname())
	if strings.Contains(host, ":") {
		host = "[" + host + "]" // IPv6 literal
	}
	if p := u.Port(); p != "" && !(p == "80" && u.Scheme == "http") && !(p == "443" && u.Scheme == "https") {
		host += ":" + p
	}
	u.Host = host
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = strings.TrimRight(u.RawPath, "/")
	if u.RawQuery == "" {
		u.ForceQuery = false
	}
	return u.String()
}
