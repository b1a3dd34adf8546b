package discover

import (
	"errors"
	"testing"
)

func TestNormalize(t *testing.T) {
	tests := []struct {
		name, in, want string
		wantErr        error // nil with want == "" means any error
	}{
		{name: "already canonical", in: "https://acme.com/about", want: "https://acme.com/about"},
		{name: "empty path becomes root", in: "https://acme.com", want: "https://acme.com/"},
		{name: "case of scheme and host", in: "HTTPS://WWW.Acme.COM/About", want: "https://www.acme.com/About"},
		{name: "default http port", in: "http://acme.com:80/a", want: "http://acme.com/a"},
		{name: "default https port", in: "https://acme.com:443/a", want: "https://acme.com/a"},
		{name: "non-default port kept", in: "https://acme.com:8443/a", want: "https://acme.com:8443/a"},
		{name: "https port on http kept", in: "http://acme.com:443/", want: "http://acme.com:443/"},
		{name: "leading zero port", in: "http://acme.com:0080/", want: "http://acme.com/"},
		{name: "fragment dropped", in: "https://acme.com/a#team", want: "https://acme.com/a"},
		{name: "dot segments", in: "https://acme.com/a/../b", want: "https://acme.com/b"},
		{name: "dot segments above root", in: "https://acme.com/../../b/./c", want: "https://acme.com/b/c"},
		{name: "trailing dotdot is a directory", in: "https://acme.com/a/b/..", want: "https://acme.com/a/"},
		{name: "trailing slash kept", in: "https://acme.com/docs/", want: "https://acme.com/docs/"},
		{name: "no trailing slash kept", in: "https://acme.com/docs", want: "https://acme.com/docs"},
		{name: "root slash", in: "https://acme.com/", want: "https://acme.com/"},
		{name: "tracking params removed", in: "https://acme.com/p?utm_source=x&utm_Medium=y&gclid=1&fbclid=2&mc_cid=3&mc_eid=4&ref=hn&ref_src=t&id=7", want: "https://acme.com/p?id=7"},
		{name: "only tracking params", in: "https://acme.com/p?utm_campaign=x", want: "https://acme.com/p"},
		{name: "params sorted, repeated keys keep order", in: "https://acme.com/p?b=2&a=9&c=3&a=1", want: "https://acme.com/p?a=9&a=1&b=2&c=3"},
		{name: "lookalike param not tracking", in: "https://acme.com/p?referrer=x&utm=y", want: "https://acme.com/p?referrer=x&utm=y"},
		{name: "empty query dropped", in: "https://acme.com/p?", want: "https://acme.com/p"},
		{name: "percent-encoding normalised", in: "https://acme.com/%7euser/%2fx%c3%a9", want: "https://acme.com/~user/%2Fx%C3%A9"},
		{name: "space escaped", in: "https://acme.com/a b", want: "https://acme.com/a%20b"},
		{name: "trailing dot host", in: "https://acme.com./a", want: "https://acme.com/a"},
		{name: "IDN to punycode", in: "https://Bücher.de/", want: "https://xn--bcher-kva.de/"},
		{name: "punycode untouched", in: "https://xn--bcher-kva.de/", want: "https://xn--bcher-kva.de/"},
		{name: "IPv6 canonical", in: "http://[::FFFF:1.2.3.4]:80/", want: "http://[::ffff:1.2.3.4]/"},
		{name: "IPv4", in: "http://127.0.0.1:8080", want: "http://127.0.0.1:8080/"},
		{name: "surrounding space", in: "  https://acme.com/a \n", want: "https://acme.com/a"},
		{name: "userinfo rejected", in: "https://user:pw@acme.com/", wantErr: ErrUserinfo},
		{name: "empty userinfo rejected", in: "https://@acme.com/", wantErr: ErrUserinfo},
		{name: "phishing userinfo rejected", in: "https://acme.com@evil.net/", wantErr: ErrUserinfo},
		{name: "ftp rejected", in: "ftp://acme.com/", wantErr: ErrUnsupportedScheme},
		{name: "mailto rejected", in: "mailto:ceo@acme.com", wantErr: ErrUnsupportedScheme},
		{name: "javascript rejected", in: "javascript:alert(1)", wantErr: ErrUnsupportedScheme},
		{name: "relative rejected", in: "/about", wantErr: ErrUnsupportedScheme},
		{name: "schemeless rejected", in: "acme.com/about", wantErr: ErrUnsupportedScheme},
		{name: "no host", in: "https:///about", wantErr: ErrNoHost},
		{name: "opaque", in: "http:acme.com", wantErr: ErrNoHost},
		{name: "bad port", in: "https://acme.com:99999/"},
		{name: "unparsable", in: "https://acme.com/%zz"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Normalize(tt.in)
			if tt.want == "" {
				if err == nil {
					t.Fatalf("Normalize(%q) = %q, want error", tt.in, got)
				}
				if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
					t.Fatalf("Normalize(%q) error = %v, want %v", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Normalize(%q) error: %v", tt.in, err)
			}
			if got != tt.want {
				t.Fatalf("Normalize(%q) = %q, want %q", tt.in, got, tt.want)
			}
			// The canonical form must be a fixed point.
			again, err := Normalize(got)
			if err != nil || again != got {
				t.Fatalf("Normalize(%q) = %q, %v; not idempotent", got, again, err)
			}
		})
	}
}

func TestSameSite(t *testing.T) {
	tests := []struct {
		root, u string
		want    bool
	}{
		{"https://acme.com", "https://acme.com/about", true},
		{"https://acme.com", "https://www.acme.com/about", true},
		{"https://www.acme.com", "https://docs.acme.com/", true},
		{"https://acme.com", "http://ACME.com:8080/x", true},
		{"https://acme.com", "https://acme.com.evil.net/", false},
		{"https://acme.com", "https://evilacme.com/", false},
		{"https://acme.com", "https://acme.co/", false},
		{"https://acme.com", "https://user@acme.com/", false},
		{"https://acme.com", "mailto:hi@acme.com", false},
		{"https://acme.com", "/relative", false},
		{"not a url", "https://acme.com/", false},
		{"https://shop.acme.co.uk", "https://www.acme.co.uk/", true},
		{"https://acme.co.uk", "https://other.co.uk/", false},
		{"https://alice.github.io", "https://bob.github.io/", false},
		{"https://alice.github.io", "https://alice.github.io/repo", true},
		{"http://192.0.2.1/", "http://192.0.2.1:8080/a", true},
		{"http://192.0.2.1/", "http://192.0.2.2/", false},
		{"http://[2001:db8::1]/", "http://[2001:DB8:0::1]/a", true},
		{"http://localhost:3000/", "http://localhost/a", true},
		{"http://localhost/", "http://app.localhost/", false},
		{"https://bücher.de", "https://shop.xn--bcher-kva.de/", true},
	}
	for _, tt := range tests {
		if got := SameSite(tt.root, tt.u); got != tt.want {
			t.Errorf("SameSite(%q, %q) = %v, want %v", tt.root, tt.u, got, tt.want)
		}
	}
}
