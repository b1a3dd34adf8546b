package ssrf

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"testing"
)

func TestCheckURLBlocksInternalTargetsInEveryNotation(t *testing.T) {
	var p Policy // no allowlist: the guard as production runs it
	for _, u := range []string{
		"http://127.0.0.1/", "http://127.1/", "http://2130706433/", "http://0x7f000001/", "http://0x7f.1/",
		"http://0177.0.0.1/", "http://0177.0.0.01/", "http://017700000001/", "http://127.0.0.1.:8080/",
		"http://0/", "http://0.0.0.0/", "http://[::]/", "http://[::1]/", "http://[0:0:0:0:0:0:0:1]/",
		"http://[::ffff:127.0.0.1]/", "http://[::ffff:7f00:1]/", "http://[::ffff:169.254.169.254]/",
		"http://169.254.169.254/latest/meta-data/", "http://[fd00:ec2::254]/", "http://metadata.google.internal/",
		"http://10.0.0.1/", "http://172.16.5.4/", "http://192.168.1.1/", "http://100.64.0.1/", "http://[fc00::1]/",
		"http://[fe80::1%25eth0]/", "http://224.0.0.1/", "http://[ff02::1]/", "http://255.255.255.255/",
		"http://[64:ff9b::7f00:1]/", "http://[2002:7f00:1::]/", "http://localhost/", "http://api.localhost./",
		"http://LOCALHOST:8080/", "ftp://example.com/", "file:///etc/passwd", "gopher://example.com/",
		"javascript:alert(1)", "http://user:pass@example.com/", "http:///nohost",
	} {
		if err := p.CheckURL(u); !errors.Is(err, ErrBlocked) {
			t.Errorf("%s: not blocked (%v)", u, err)
		}
	}
	for _, u := range []string{"https://example.com/about", "http://93.184.215.14/", "https://[2606:4700::6810:85e5]/", "https://1.1.1.1/"} {
		if err := p.CheckURL(u); err != nil {
			t.Errorf("%s: a public target was blocked: %v", u, err)
		}
	}
}

func TestParseIPLegacyForms(t *testing.T) {
	for in, want := range map[string]string{
		"127.1": "127.0.0.1", "2130706433": "127.0.0.1", "0x7f.0x1": "127.0.0.1", "0177.1": "127.0.0.1",
		"10.1.2": "10.1.0.2", "0": "0.0.0.0", "192.168.0x1.01": "192.168.1.1", "[::1]": "::1",
	} {
		got, ok := ParseIP(in)
		if !ok || got.String() != want {
			t.Errorf("ParseIP(%q) = %v %v, want %s", in, got, ok, want)
		}
	}
	for _, in := range []string{"example.com", "256.1.1.1", "1.2.3.4.5", "0x1g", "1..2", "4294967296"} {
		if a, ok := ParseIP(in); ok {
			t.Errorf("ParseIP(%q) = %v, want no address", in, a)
		}
	}
}

func TestAllowlistOpensOnlyItsRange(t *testing.T) {
	p := Policy{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.2/32")}}
	if err := p.CheckURL("http://127.0.0.2:8080/"); err != nil {
		t.Fatalf("allowlisted address blocked: %v", err)
	}
	if err := p.CheckURL("http://127.0.0.1/"); !errors.Is(err, ErrBlocked) {
		t.Fatalf("an address outside the allowlist passed: %v", err)
	}
}

// TestDialerChecksTheDialledAddress resolves a name (localhost) that no
// pre-flight check of an IP literal would catch; the dialer refuses the
// address it was about to connect to.
func TestDialerChecksTheDialledAddress(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "internal") }))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	d := Dialer{}
	for _, target := range []string{"127.0.0.1:" + port, "localhost:" + port, "[::ffff:127.0.0.1]:" + port} {
		if _, err := d.DialContext(context.Background(), "tcp", target); !errors.Is(err, ErrBlocked) {
			t.Errorf("dial %s: %v, want blocked", target, err)
		}
	}
	// The Control hook itself refuses, whatever name got there.
	p := Policy{}
	nd := Dialer{Policy: p}
	if _, err := nd.DialContext(context.Background(), "tcp", "127.0.0.1:"+port); err == nil {
		t.Fatal("loopback dialled")
	}
	open := Dialer{Policy: Policy{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}}
	c, err := open.DialContext(context.Background(), "tcp", "localhost:"+port)
	if err != nil {
		t.Fatalf("allowlisted dial: %v", err)
	}
	_ = c.Close()
}

// listenOn starts a server on a specific loopback address (Linux routes all
// of 127.0.0.0/8 to lo), so one can be allowed and another not.
func listenOn(t *testing.T, addr string, h http.Handler) *httptest.Server {
	t.Helper()
	l, err := net.Listen("tcp", addr+":0")
	if err != nil {
		t.Skipf("cannot listen on %s: %v", addr, err)
	}
	srv := &httptest.Server{Listener: l, Config: &http.Server{Handler: h}}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

func proxyClient(t *testing.T, p *Proxy) *http.Client {
	t.Helper()
	ps := httptest.NewServer(p)
	t.Cleanup(ps.Close)
	pu, _ := url.Parse(ps.URL)
	return &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(pu)}}
}

func TestProxyEnforcesThePolicyOnRedirectsAndTunnels(t *testing.T) {
	internal := listenOn(t, "127.0.0.1", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "secret")
	}))
	public := listenOn(t, "127.0.0.2", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/redirect" {
			http.Redirect(w, r, internal.URL+"/", http.StatusFound)
			return
		}
		// A page must not be able to pass itself off as blocked.
		w.Header().Set(BlockedHeader, "1")
		_, _ = io.WriteString(w, "hello")
	}))
	var mu sync.Mutex
	var refused []string
	p := &Proxy{
		// 127.0.0.2 stands in for the public internet.
		Dialer: Dialer{Policy: Policy{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.2/32")}}},
		OnBlocked: func(target string, _ error) {
			mu.Lock()
			refused = append(refused, target)
			mu.Unlock()
		},
	}
	c := proxyClient(t, p)

	resp, err := c.Get(public.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "hello" || resp.Header.Get(BlockedHeader) != "" {
		t.Fatalf("allowed page: %d %q", resp.StatusCode, body)
	}

	for _, u := range []string{internal.URL + "/", public.URL + "/redirect", "http://localhost" + internal.URL[len("http://127.0.0.1"):] + "/"} {
		resp, err := c.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden || resp.Header.Get(BlockedHeader) != "1" || strings.Contains(string(body), "secret") {
			t.Errorf("%s: %d %q, want 403 blocked", u, resp.StatusCode, body)
		}
	}

	// CONNECT (https, WebSockets) to an internal address is refused before
	// any byte reaches it.
	for _, target := range []string{internal.Listener.Addr().String(), "[::1]:443", "169.254.169.254:80"} {
		if code := connect(t, p, target); code != http.StatusForbidden {
			t.Errorf("CONNECT %s: %d, want 403", target, code)
		}
	}
	if code := connect(t, p, public.Listener.Addr().String()); code != http.StatusOK {
		t.Errorf("CONNECT to an allowed target: %d", code)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(refused) < 6 {
		t.Fatalf("OnBlocked saw %d refusals: %v", len(refused), refused)
	}
}

func connect(t *testing.T, p *Proxy, target string) int {
	t.Helper()
	ps := httptest.NewServer(p)
	defer ps.Close()
	conn, err := net.Dial("tcp", ps.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", target, target)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode
}

func FuzzParseIPNeverPanics(f *testing.F) {
	for _, s := range []string{"127.1", "0x7f.1", "[::1]", "0177.0.0.1", "1.2.3.4.5", "fe80::1%eth0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if a, ok := ParseIP(s); ok && !a.IsValid() {
			t.Fatalf("ParseIP(%q) returned an invalid address", s)
		}
	})
}
