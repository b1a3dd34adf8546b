package config

import (
	"errors"
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
	// Allow lets address ranges through the SSRF guard, on any port: tests
	// and `groundwork dev` only; any other process refuses to start with it.
	Allow []netip.Prefix
	// Ports are the destination ports research may fetch
	// (GROUNDWORK_RESEARCH_PORTS).
	Ports []uint16
	// Retention expires research reports, pages and screenshots
	// (GROUNDWORK_RESEARCH_RETENTION).
	Retention time.Duration
}

func loadResearch(getenv func(string) string, role Role, errs *[]error) Research {
	r := Research{
		ChromePath:      getenv("GROUNDWORK_CHROME_PATH"),
		UserAgent:       or(getenv("GROUNDWORK_RESEARCH_USER_AGENT"), DefaultResearchUserAgent),
		Tabs:            intVar(getenv, "GROUNDWORK_RESEARCH_TABS", DefaultResearchTabs, errs),
		PageTimeout:     durVar(getenv, "GROUNDWORK_RESEARCH_PAGE_TIMEOUT", DefaultResearchPageTimeout, errs),
		RestartAfter:    intVar(getenv, "GROUNDWORK_RESEARCH_CHROME_RESTART_AFTER", DefaultResearchChromeRestartAfter, errs),
		DomainRate:      DefaultResearchDomainRate,
		Retention:       durVar(getenv, "GROUNDWORK_RESEARCH_RETENTION", DefaultResearchRetention, errs),
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
	if len(r.Allow) > 0 && role&RoleDev == 0 {
		*errs = append(*errs, errors.New("GROUNDWORK_RESEARCH_ALLOW_CIDRS reopens internal addresses to research: only groundwork dev and tests may set it"))
	}
	for _, s := range strings.Split(or(getenv("GROUNDWORK_RESEARCH_PORTS"), DefaultResearchPorts), ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		n, err := strconv.ParseUint(s, 10, 16)
		if err != nil || n == 0 {
			*errs = append(*errs, fmt.Errorf("GROUNDWORK_RESEARCH_PORTS: %q is not a port", s))
			continue
		}
		r.Ports = append(r.Ports, uint16(n))
	}
	return r
}
