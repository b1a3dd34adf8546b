package ssrf

import (
	"net/netip"
	"strconv"
	"strings"
)

// ParseIP reads an IP literal the way browsers and inet_aton do, so that
// every notation of one address is recognised: dotted quads, IPv6 (with
// or without brackets and zones), and the legacy IPv4 forms with one to
// four parts in decimal, octal (leading 0) or hex (0x), such as 127.1,
// 2130706433, 0x7f000001 and 0177.0.0.01.
func ParseIP(s string) (netip.Addr, bool) {
	s = strings.Trim(s, "[]")
	if a, err := netip.ParseAddr(s); err == nil {
		return a, true
	}
	if i := strings.IndexByte(s, '%'); i >= 0 {
		if a, err := netip.ParseAddr(s[:i]); err == nil {
			return a, true
		}
	}
	return parseLegacyIPv4(strings.TrimSuffix(s, "."))
}

func parseLegacyIPv4(s string) (netip.Addr, bool) {
	parts := strings.Split(s, ".")
	if len(parts) == 0 || len(parts) > 4 {
		return netip.Addr{}, false
	}
	nums := make([]uint64, len(parts))
	for i, p := range parts {
		n, ok := parseIPv4Part(p)
		if !ok {
			return netip.Addr{}, false
		}
		nums[i] = n
	}
	// The last part fills the remaining bytes: a.b.c.d, a.b.(16 bits),
	// a.(24 bits), or (32 bits).
	var v uint64
	for i, n := range nums[:len(nums)-1] {
		if n > 0xff {
			return netip.Addr{}, false
		}
		v |= n << (8 * (3 - i))
	}
	last := nums[len(nums)-1]
	if last >= 1<<(8*(5-len(nums))) {
		return netip.Addr{}, false
	}
	v |= last
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), true
}

func parseIPv4Part(p string) (uint64, bool) {
	if p == "" {
		return 0, false
	}
	base := 10
	switch {
	case strings.HasPrefix(p, "0x") || strings.HasPrefix(p, "0X"):
		base, p = 16, p[2:]
		if p == "" {
			return 0, true // "0x" is 0 to inet_aton
		}
	case len(p) > 1 && p[0] == '0':
		base, p = 8, p[1:]
	}
	n, err := strconv.ParseUint(p, base, 32)
	if err != nil {
		return 0, false
	}
	return n, true
}
