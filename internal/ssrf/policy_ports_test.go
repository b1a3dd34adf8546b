package ssrf

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
)

func TestTranslatedAndNAT64FormsAreBlocked(t *testing.T) {
	var p Policy
	for _, u := range []string{
		"http://[::ffff:0:a00:1]/",   // ::ffff:0:10.0.0.1, IPv4-translated
		"http://[::ffff:0:7f00:1]/",  // ::ffff:0:127.0.0.1
		"http://[64:ff9b:1::a00:1]/", // NAT64 local-use /48 carrying 10.0.0.1
		"http://[64:ff9b::7f00:1]/",  // NAT64 well-known /96 carrying 127.0.0.1
		"http://[::ffff:169.254.169.254]/",
	} {
		if err := p.CheckURL(u); !errors.Is(err, ErrBlocked) {
			t.Errorf("%s passed: %v", u, err)
		}
	}
}

func TestRefusalsNameTheRuleNotTheAddress(t *testing.T) {
	var p Policy
	err := p.CheckAddr(netip.MustParseAddr("10.1.2.3"))
	if err == nil || strings.Contains(err.Error(), "10.1.2.3") || !strings.Contains(err.Error(), "private network") {
		t.Fatalf("refusal %v", err)
	}
}

func TestPortsAreLimited(t *testing.T) {
	p := Policy{Ports: []uint16{80, 443, 8080, 8443}}
	for u, ok := range map[string]bool{
		"https://example.com/": true, "http://example.com/": true, "http://example.com:8080/x": true,
		"https://example.com:8443/": true, "http://example.com:22/": false, "https://example.com:6379/": false,
		"http://93.184.215.14:25/": false,
	} {
		if err := p.CheckURL(u); (err == nil) != ok {
			t.Errorf("%s: %v, want allowed=%v", u, err, ok)
		}
	}
	// An allowed range (tests, groundwork dev) may use any port.
	p.Allow = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	if err := p.CheckPort(netip.MustParseAddr("127.0.0.1"), 54321); err != nil {
		t.Errorf("an allowed range's port: %v", err)
	}
	if err := p.CheckPort(netip.MustParseAddr("93.184.215.14"), 54321); err == nil {
		t.Error("a public address on port 54321 passed")
	}
}
