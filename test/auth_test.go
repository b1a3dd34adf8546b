package test

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// jwksServer serves one RSA public key as a JWKS, as Supabase and other
// providers do.
func jwksServer(t *testing.T, key *rsa.PrivateKey, kid string) string {
	t.Helper()
	b64 := func(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
	body, _ := json.Marshal(map[string]any{"keys": []map[string]string{{
		"kty": "RSA", "kid": kid, "alg": "RS256", "use": "sig",
		"n": b64(key.PublicKey.N.Bytes()),
		"e": b64(big.NewInt(int64(key.PublicKey.E)).Bytes()),
	}}})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestAuthentication(t *testing.T) {
	secret := []byte("an-hs256-secret-of-at-least-32-bytes!!")
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	s := startStack(t, stackOptions{
		workers: "none", ratePerSec: 1000, ratePerMin: 100000,
		jwtSecret: secret, jwksURL: jwksServer(t, rsaKey, "key-1"),
	}, true)
	apiUser := s.newUser(t, "key-user")

	claims := func(sub string, exp time.Time) jwt.MapClaims {
		return jwt.MapClaims{"sub": sub, "exp": exp.Unix(), "iat": time.Now().Unix()}
	}
	hs := func(c jwt.MapClaims, key []byte) string {
		tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	rs := func(c jwt.MapClaims, kid string) string {
		tk := jwt.NewWithClaims(jwt.SigningMethodRS256, c)
		tk.Header["kid"] = kid
		tok, err := tk.SignedString(rsaKey)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	unsigned := func(c jwt.MapClaims) string {
		tok, err := jwt.NewWithClaims(jwt.SigningMethodNone, c).SignedString(jwt.UnsafeAllowNoneSignatureType)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	hour := time.Now().Add(time.Hour)
	cases := []struct {
		name   string
		header string
		status int
	}{
		{"api key", "Bearer " + apiUser.token, 200},
		{"hs256 jwt", "Bearer " + hs(claims("jwt-user", hour), secret), 200},
		{"rs256 jwt via jwks", "Bearer " + rs(claims("jwks-user", hour), "key-1"), 200},
		{"no header", "", 401},
		{"basic auth", "Basic dXNlcjpwYXNz", 401},
		{"unknown api key", "Bearer gw_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 401},
		{"alg none", "Bearer " + unsigned(claims("jwt-user", hour)), 401},
		{"expired", "Bearer " + hs(claims("jwt-user", time.Now().Add(-time.Hour)), secret), 401},
		{"no expiry", "Bearer " + hs(jwt.MapClaims{"sub": "jwt-user"}, secret), 401},
		{"wrong secret", "Bearer " + hs(claims("jwt-user", hour), []byte("another-secret-another-secret-another")), 401},
		{"unknown kid", "Bearer " + rs(claims("jwks-user", hour), "key-2"), 401},
		{"no subject", "Bearer " + hs(jwt.MapClaims{"exp": hour.Unix()}, secret), 401},
		{"garbage", "Bearer not.a.token", 401},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, s.URL+"/v1/runs", nil)
			if tc.header != "" {
				req.Header.Set("Authorization", tc.header)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.status)
			}
			if tc.status == 401 && !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/problem+json") {
				t.Errorf("401 must be problem+json, got %q", resp.Header.Get("Content-Type"))
			}
		})
	}

	// A JWT user's runs are theirs alone.
	jwtUser := &apiClient{t: t, base: s.URL, token: hs(claims("jwt-user", hour), secret)}
	other := &apiClient{t: t, base: s.URL, token: rs(claims("jwks-user", hour), "key-1")}
	if _, resp := jwtUser.startExport(map[string]any{"format": "csv", "columns": []string{"a"}, "rows": [][]any{{"1"}}}); resp.Status != http.StatusAccepted {
		t.Fatalf("export as a JWT user: %d %s", resp.Status, resp.Body)
	}
	if runs := jwtUser.listRuns(); len(runs) != 1 {
		t.Fatalf("the JWT user lists %d runs, want 1", len(runs))
	}
	if runs := other.listRuns(); len(runs) != 0 {
		t.Fatalf("another JWT user sees %d runs", len(runs))
	}
}

func TestRateLimitsPerUser(t *testing.T) {
	s := startStack(t, stackOptions{workers: "none", ratePerSec: 10, ratePerMin: 100}, true)
	a := s.newUser(t, "limited-a")
	b := s.newUser(t, "limited-b")
	var limited response
	for i := 0; i < 30; i++ {
		resp := a.do(http.MethodGet, "/v1/runs", nil)
		if resp.Status == http.StatusTooManyRequests {
			limited = resp
			break
		}
		if resp.Status != http.StatusOK {
			t.Fatalf("request %d: %d", i, resp.Status)
		}
	}
	if limited.Status != http.StatusTooManyRequests {
		t.Fatal("30 requests in a burst were never limited at 10/s")
	}
	if !isProblem(limited) || !strings.HasSuffix(problemType(t, limited), "/rate_limited") {
		t.Errorf("429 body: %s", limited.Body)
	}
	if ra, err := strconv.Atoi(limited.Header.Get("Retry-After")); err != nil || ra < 1 {
		t.Errorf("Retry-After = %q", limited.Header.Get("Retry-After"))
	}
	if limited.Header.Get("RateLimit-Limit") == "" {
		t.Error("no RateLimit-Limit header")
	}
	// Another user is not affected by a's burst.
	if resp := b.do(http.MethodGet, "/v1/runs", nil); resp.Status != http.StatusOK {
		t.Fatalf("user b limited by user a: %d", resp.Status)
	}
	// Anonymous callers are limited per IP before they are told 401.
	anon := &apiClient{t: t, base: s.URL}
	saw429 := false
	for i := 0; i < 30 && !saw429; i++ {
		saw429 = anon.do(http.MethodGet, "/v1/runs", nil).Status == http.StatusTooManyRequests
	}
	if !saw429 {
		t.Error("anonymous burst never limited")
	}
}
