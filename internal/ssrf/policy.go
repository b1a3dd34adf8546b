// Package ssrf decides which network addresses Groundwork may fetch on a
// user's behalf and enforces it where it counts: on the address actually
// dialled. User-supplied URLs (company research) could otherwise reach the
// loopback interface, the private network or a cloud metadata service.
package ssrf

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// ErrBlocked is wrapped by every refusal.
var ErrBlocked = errors.New("blocked by the SSRF policy")

// blocked lists every range a public fetch must never reach. IPv4-mapped
// IPv6 addresses are unmapped before the check, and addresses that embed
// an IPv4 address (NAT64, 6to4) are checked for it too.
var blocked = []struct {
	prefix netip.Prefix
	why    string
}{
	{netip.MustParsePrefix("0.0.0.0/8"), "the unspecified network"},
	{netip.MustParsePrefix("10.0.0.0/8"), "a private network"},
	{netip.MustParsePrefix("100.64.0.0/10"), "carrier-grade NAT"},
	{netip.MustParsePrefix("127.0.0.0/8"), "loopback"},
	{netip.MustParsePrefix("169.254.0.0/16"), "link-local (cloud metadata)"},
	{netip.MustParsePrefix("172.16.0.0/12"), "a private network"},
	{netip.MustParsePrefix("192.0.0.0/24"), "IETF protocol assignments"},
	{netip.MustParsePrefix("192.0.2.0/24"), "documentation"},
	{netip.MustParsePrefix("192.88.99.0/24"), "6to4 relay anycast"},
	{netip.MustParsePrefix("192.168.0.0/16"), "a private network"},
	{netip.MustParsePrefix("198.18.0.0/15"), "benchmarking"},
	{netip.MustParsePrefix("198.51.100.0/24"), "documentation"},
	{netip.MustParsePrefix("203.0.113.0/24"), "documentation"},
	{netip.MustParsePrefix("224.0.0.0/4"), "multicast"},
	{netip.MustParsePrefix("240.0.0.0/4"), "reserved (and broadcast)"},
	{netip.MustParsePrefix("::/128"), "the unspecified address"},
	{netip.MustParsePrefix("::1/128"), "loopback"},
	{netip.MustParsePrefix("::/96"), "IPv4-compatible (deprecated)"},
	{netip.MustParsePrefix("::ffff:0:0:0/96"), "IPv4-translated (SIIT)"},
	{netip.MustParsePrefix("100::/64"), "discard-only"},
	{netip.MustParsePrefix("2001::/23"), "IETF protocol assignments (Teredo, ORCHID…)"},
	{netip.MustParsePrefix("2001:db8::/32"), "documentation"},
	{netip.MustParsePrefix("fc00::/7"), "unique local (cloud metadata fd00:ec2::254)"},
	{netip.MustParsePrefix("fe80::/10"), "link-local"},
	{netip.MustParsePrefix("fec0::/10"), "site-local (deprecated)"},
	{netip.MustParsePrefix("ff00::/8"), "multicast"},
}

// embedded are IPv6 ranges that carry an IPv4 address in their low bits
// (NAT64) or bits 16–48 (6to4); the carried address is checked as well.
var (
	nat64     = []netip.Prefix{netip.MustParsePrefix("64:ff9b::/96"), netip.MustParsePrefix("64:ff9b:1::/48")}
	sixToFour = netip.MustParsePrefix("2002::/16")
)

// blockedNames are host names that always mean "this machine" or "the
// cloud's metadata service", whatever DNS says.
var blockedNames = []string{"localhost", "metadata.google.internal", "metadata.goog", "instance-data"}

// Policy is the set of addresses a fetch may reach.
type Policy struct {
	// Allow lets ranges through that the policy would block, on any port.
	// Only tests and `groundwork dev` set it (GROUNDWORK_RESEARCH_ALLOW_CIDRS)
	// to reach pages on loopback.
	Allow []netip.Prefix
	// Ports are the destination ports a fetch may use
	// (GROUNDWORK_RESEARCH_PORTS); none means any.
	Ports []uint16
}

// CheckPort refuses a destination port outside Ports, unless addr is in an
// allowed range.
func (p Policy) CheckPort(addr netip.Addr, port uint16) error {
	if len(p.Ports) == 0 || slices.Contains(p.Ports, port) {
		return nil
	}
	addr = addr.Unmap().WithZone("")
	for _, al := range p.Allow {
		if addr.IsValid() && al.Contains(addr) {
			return nil
		}
	}
	return fmt.Errorf("%w: port %d is not one research fetches (GROUNDWORK_RESEARCH_PORTS)", ErrBlocked, port)
}

// CheckAddr refuses an address in a blocked range that Allow does not cover.
func (p Policy) CheckAddr(a netip.Addr) error {
	a = a.Unmap().WithZone("")
	for _, al := range p.Allow {
		if al.Contains(a) {
			return nil
		}
	}
	if !a.IsValid() {
		return fmt.Errorf("%w: invalid address", ErrBlocked)
	}
	for _, b := range blocked {
		if b.prefix.Contains(a) {
			return fmt.Errorf("%w: the address is %s", ErrBlocked, b.why)
		}
	}
	if v4, ok := embeddedIPv4(a); ok {
		if err := p.CheckAddr(v4); err != nil {
			return fmt.Errorf("%w: the address embeds a blocked IPv4 address", ErrBlocked)
		}
	}
	return nil
}

func embeddedIPv4(a netip.Addr) (netip.Addr, bool) {
	if !a.Is6() {
		return netip.Addr{}, false
	}
	b := a.As16()
	for _, n := range nat64 {
		if n.Contains(a) {
			return netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]}), true
		}
	}
	if sixToFour.Contains(a) {
		return netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]}), true
	}
	return netip.Addr{}, false
}

// CheckURL refuses what can be refused before any connection: a scheme
// other than http(s), credentials in the URL, a blocked host name, and an
// IP literal in a blocked range in any notation browsers accept
// (0x7f.1, 2130706433, 0177.0.0.1, [::ffff:127.0.0.1]…). Names that
// resolve to a blocked address are caught when dialled (Dialer).
func (p Policy) CheckURL(raw string) error {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return fmt.Errorf("%w: not a URL: %v", ErrBlocked, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("%w: only http and https URLs can be fetched, not %q", ErrBlocked, u.Scheme)
	}
	if u.User != nil {
		return fmt.Errorf("%w: URLs with credentials are not fetched", ErrBlocked)
	}
	if err := p.CheckHost(u.Hostname()); err != nil {
		return err
	}
	port := uint16(80)
	if u.Scheme == "https" {
		port = 443
	}
	if s := u.Port(); s != "" {
		n, err := strconv.ParseUint(s, 10, 16)
		if err != nil {
			return fmt.Errorf("%w: invalid port %q", ErrBlocked, s)
		}
		port = uint16(n)
	}
	a, _ := ParseIP(strings.Trim(u.Hostname(), "[]"))
	return p.CheckPort(a, port)
}

// CheckHost refuses a blocked name or IP literal; other names pass (their
// addresses are checked when dialled).
func (p Policy) CheckHost(host string) error {
	h := strings.TrimSuffix(strings.ToLower(strings.Trim(host, "[]")), ".")
	if h == "" {
		return fmt.Errorf("%w: no host", ErrBlocked)
	}
	if a, ok := ParseIP(h); ok {
		return p.CheckAddr(a)
	}
	for _, n := range blockedNames {
		if h == n || strings.HasSuffix(h, "."+n) {
			if len(p.Allow) > 0 && n == "localhost" && p.CheckAddr(netip.MustParseAddr("127.0.0.1")) == nil {
				return nil
			}
			return fmt.Errorf("%w: %s is a local name", ErrBlocked, host)
		}
	}
	return nil
}
