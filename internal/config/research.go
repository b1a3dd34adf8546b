package config

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Research holds the company-research settings.
type Research struct {
	// ChromePath is the Chrome or Chromium binary (default: chromium from PATH).
	ChromePath string
	// UserAgent is sent with every request and matched against robots.txt.
	UserAgent string
	// Tabs bounds the pages one worker renders at once.
	Tabs int
	// PageTimeout bounds one page from navigation until it settled.
	PageTimeout time.Duration
	// RestartAfter restarts Chrome after this many pages.
	RestartAfter int
	// DomainRate is the requests per second to one domain, shared by
	// every worker; 0 turns the limit off.
	DomainRate float64
	// ChromeNoSandbox runs Chrome without its sandbox (containers).
	ChromeNoSandbox bool
	// Allow lets address ranges through the SSRF guard. Tests only.
	Allow []netip.Prefix
}

func loadResearch(getenv func(string) string, errs *[]error) Research {
	r := Research{
		ChromePath:      getenv("GROUNDWORK_CHROME_PATH"),
		UserAgent:       or(getenv("GROUNDWORK_RESEARCH_USER_AGENT"), DefaultResearchUserAgent),
		Tabs:            intVar(getenv, "GROUNDWORK_RESEARCH_TABS", DefaultResearchTabs, errs),
		PageTimeout:     durVar(getenv, "GROUNDWORK_RESEARCH_PAGE_TIMEOUT", DefaultResearchPageTimeout, errs),
		RestartAfter:    intVar(getenv, "GROUNDWORK_RESEARCH_CHROME_RESTART_AFTER", DefaultResearchChromeRestartAfter, errs),
		DomainRate:      DefaultResearchDomainRate,
		ChromeNoSandbox: getenv("GROUNDWORK_CHROME_NO_SANDBOX") == "true",
	}
	if r.Tabs == 0 {
		*errs = append(*errs, fmt.Errorf("GROUNDWORK_RESEARCH_TABS must be at least 1"))
	}
	if s := getenv("GROUNDWORK_RESEARCH_DOMAIN_RATE"); s != "" {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil || v < 0 {
			*errs = append(*errs, fmt.Errorf("GROUNDWORK_RESEARCH_DOMAIN_RATE must be requests per second ≥ 0, got %q", s))
		} else {
			r.DomainRate = v
		}
	}
	for _, s := range strings.Split(getenv("GROUNDWORK_RESEARCH_ALLOW_CIDRS"), ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		p, err := netip.ParsePrefix(s)
		if err != nil {
			*errs = append(*errs, fmt.Errorf("GROUNDWORK_RESEARCH_ALLOW_CIDRS: %q is not a CIDR range like 127.0.0.0/8", s))
			continue
		}
		r.Allow = append(r.Allow, p.Masked())
	}
	return r
}
