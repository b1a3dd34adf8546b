package test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/groundwork-dev/groundwork/internal/apikey"
	"github.com/groundwork-dev/groundwork/internal/config"
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
	if !strings.Contains(limited.Header.Get("RateLimit-Policy"), `"second";q=10;w=1`) ||
		!strings.Contains(limited.Header.Get("RateLimit-Policy"), `"minute";q=100;w=60`) ||
		!strings.Contains(limited.Header.Get("RateLimit"), ";r=0;t=") {
		t.Errorf("rate-limit headers: policy %q, limit %q", limited.Header.Get("RateLimit-Policy"), limited.Header.Get("RateLimit"))
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

// TestJWTWorkspacesAndHardening: issuer, audience, iat and maximum age are
// enforced; the workspace and role come from the configured claim paths,
// an unknown role is a member, a missing workspace claim is a 401 naming
// it; a principal exists before its first write, whatever the route.
func TestJWTWorkspacesAndHardening(t *testing.T) {
	secret := []byte("an-hs256-secret-of-at-least-32-bytes!!")
	s := startStack(t, stackOptions{
		workers: "none", ratePerSec: 1000, ratePerMin: 100000, jwtSecret: secret,
		jwt: config.Config{JWTIssuer: "https://idp.example", JWTAudience: "groundwork", JWTMaxAge: time.Hour,
			JWTWorkspaceClaim: "app_metadata.workspace_id", JWTRoleClaim: "app_metadata.role"},
	}, true)
	now := time.Now()
	token := func(edit func(jwt.MapClaims)) string {
		c := jwt.MapClaims{"sub": "jwt-ws-user", "iss": "https://idp.example", "aud": "groundwork",
			"exp": now.Add(time.Hour).Unix(), "iat": now.Unix(),
			"app_metadata": map[string]any{"workspace_id": "acme", "role": "admin"}}
		if edit != nil {
			edit(c)
		}
		tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(secret)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	call := func(tok, method, path string, body []byte) response {
		return (&apiClient{t: t, base: s.URL, token: tok}).do(method, path, body)
	}
	for _, tc := range []struct {
		name   string
		edit   func(jwt.MapClaims)
		status int
		detail string
	}{
		{"valid", nil, 200, ""},
		{"another audience", func(c jwt.MapClaims) { c["aud"] = "someone-elses-project" }, 401, ""},
		{"another issuer", func(c jwt.MapClaims) { c["iss"] = "https://other.example" }, 401, ""},
		{"no audience", func(c jwt.MapClaims) { delete(c, "aud") }, 401, ""},
		{"issued in the future", func(c jwt.MapClaims) { c["iat"] = now.Add(10 * time.Minute).Unix() }, 401, ""},
		{"older than the maximum age", func(c jwt.MapClaims) { c["iat"] = now.Add(-2 * time.Hour).Unix() }, 401, ""},
		{"no iat", func(c jwt.MapClaims) { delete(c, "iat") }, 401, ""},
		{"no workspace claim", func(c jwt.MapClaims) { c["app_metadata"] = map[string]any{"role": "admin"} }, 401, "app_metadata.workspace_id"},
		{"workspace claim not a string", func(c jwt.MapClaims) { c["app_metadata"] = map[string]any{"workspace_id": 7} }, 401, "app_metadata.workspace_id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := call(token(tc.edit), http.MethodGet, "/v1/runs", nil)
			if r.Status != tc.status || !strings.Contains(string(r.Body), tc.detail) {
				t.Fatalf("%d %s, want %d naming %q", r.Status, r.Body, tc.status, tc.detail)
			}
		})
	}

	// The first request of a fresh subject writes (an API key needs its
	// user and workspace rows): 201, not a foreign-key 500.
	if r := call(token(nil), http.MethodPost, "/v1/api-keys", []byte(`{"name": "first"}`)); r.Status != http.StatusCreated {
		t.Fatalf("first write of a fresh JWT subject: %d %s", r.Status, r.Body)
	}
	// A role that is not exactly "admin" is a member.
	for _, role := range []any{"owner", "Admin", nil, true} {
		tok := token(func(c jwt.MapClaims) {
			c["sub"] = "jwt-ws-member"
			c["app_metadata"] = map[string]any{"workspace_id": "acme", "role": role}
		})
		if r := call(tok, http.MethodGet, "/v1/api-keys", nil); r.Status != http.StatusForbidden || !strings.HasSuffix(problemType(t, r), "/forbidden") {
			t.Errorf("role %v on an admin-only route: %d %s", role, r.Status, r.Body)
		}
	}
	// The admin of acme sees acme's key; the admin of another workspace does not.
	var keys struct {
		Keys []struct {
			Name string `json:"name"`
		} `json:"keys"`
	}
	call(token(nil), http.MethodGet, "/v1/api-keys", nil).json(t, &keys)
	if len(keys.Keys) != 1 || keys.Keys[0].Name != "first" {
		t.Errorf("acme's keys: %+v", keys)
	}
	other := token(func(c jwt.MapClaims) { c["app_metadata"] = map[string]any{"workspace_id": "globex", "role": "admin"} })
	call(other, http.MethodGet, "/v1/api-keys", nil).json(t, &keys)
	if len(keys.Keys) != 0 {
		t.Errorf("globex sees acme's keys: %+v", keys)
	}
}

// TestAPIKeysRevokedAndExpired: a revoked or expired key is refused at
// once; the secret is shown only when the key is created.
func TestAPIKeysRevokedAndExpired(t *testing.T) {
	s := sharedStack(t)
	admin := s.client(t, "keys-admin", "keys-ws", "admin")
	var created struct {
		ID     int64  `json:"id"`
		Secret string `json:"secret"`
		Role   string `json:"role"`
	}
	r := admin.do(http.MethodPost, "/v1/api-keys", []byte(`{"name": "ci", "role": "member"}`))
	if r.Status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	r.json(t, &created)
	if !strings.HasPrefix(created.Secret, "gw_") || created.Role != "member" {
		t.Fatalf("created %+v", created)
	}
	key := &apiClient{t: t, base: s.URL, token: created.Secret}
	if r := key.do(http.MethodGet, "/v1/runs", nil); r.Status != http.StatusOK {
		t.Fatalf("the new key: %d %s", r.Status, r.Body)
	}
	if r := admin.do(http.MethodGet, "/v1/api-keys", nil); strings.Contains(string(r.Body), created.Secret) || r.Status != http.StatusOK {
		t.Fatalf("a listing shows the secret or failed: %d", r.Status)
	}
	if r := admin.do(http.MethodDelete, fmt.Sprintf("/v1/api-keys/%d", created.ID), nil); r.Status != http.StatusNoContent {
		t.Fatalf("revoke: %d %s", r.Status, r.Body)
	}
	if r := key.do(http.MethodGet, "/v1/runs", nil); r.Status != http.StatusUnauthorized {
		t.Fatalf("a revoked key: %d %s", r.Status, r.Body)
	}
	past := time.Now().Add(-time.Second)
	_, expired, err := apikey.Create(context.Background(), s.App.Pool, apikey.Spec{User: "keys-admin", Workspace: "keys-ws", ExpiresAt: &past})
	if err != nil {
		t.Fatal(err)
	}
	if r := (&apiClient{t: t, base: s.URL, token: expired}).do(http.MethodGet, "/v1/runs", nil); r.Status != http.StatusUnauthorized {
		t.Fatalf("an expired key: %d %s", r.Status, r.Body)
	}
}

// TestSessions: a JWT's session claim creates a session; a fourth live
// session revokes the least recently used; an idle session is dead for
// good; a user revokes their own session and an admin any of the
// workspace's; revoked sessions never come back.
func TestSessions(t *testing.T) {
	secret := []byte("an-hs256-secret-of-at-least-32-bytes!!")
	s := startStack(t, stackOptions{
		workers: "none", ratePerSec: 1000, ratePerMin: 100000, jwtSecret: secret,
		jwt: config.Config{JWTWorkspaceClaim: "ws", JWTRoleClaim: "role", SessionClaim: "session_id",
			SessionIdle: 30 * time.Minute, SessionsPerUser: 3},
	}, true)
	token := func(sub, role, session string) *apiClient {
		c := jwt.MapClaims{"sub": sub, "ws": "sess-ws", "role": role, "session_id": session,
			"exp": time.Now().Add(time.Hour).Unix(), "iat": time.Now().Unix()}
		tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(secret)
		if err != nil {
			t.Fatal(err)
		}
		return &apiClient{t: t, base: s.URL, token: tok}
	}
	status := func(c *apiClient) (int, string) {
		r := c.do(http.MethodGet, "/v1/runs", nil)
		if r.Status == http.StatusOK {
			return r.Status, ""
		}
		return r.Status, problemType(t, r)
	}
	want := func(what string, c *apiClient, code int, slug string) {
		t.Helper()
		if got, typ := status(c); got != code || !strings.HasSuffix(typ, slug) {
			t.Errorf("%s: %d %s, want %d %s", what, got, typ, code, slug)
		}
	}
	s1, s2, s3, s4 := token("sess-user", "member", "s1"), token("sess-user", "member", "s2"), token("sess-user", "member", "s3"), token("sess-user", "member", "s4")
	for _, c := range []*apiClient{s1, s2, s3} {
		want("one of three sessions", c, 200, "")
	}
	// s2 and s3 were used after s1; the fourth evicts s1.
	want("s2 again", s2, 200, "")
	want("s3 again", s3, 200, "")
	want("a fourth session", s4, 200, "")
	want("the least recently used session after a fourth", s1, 401, "/session_revoked")
	want("s2 after a fourth", s2, 200, "")

	// Idle for longer than the timeout: dead, and it stays dead.
	if _, err := s.App.Pool.Exec(context.Background(), `UPDATE sessions SET last_seen = now() - interval '31 minutes' WHERE id = 's2'`); err != nil {
		t.Fatal(err)
	}
	want("an idle session", s2, 401, "/session_expired")
	want("an idle session, again", s2, 401, "/session_expired")

	// The user revokes s3; an admin of the workspace revokes s4.
	if r := s4.do(http.MethodDelete, "/v1/sessions/s3", nil); r.Status != http.StatusNoContent {
		t.Fatalf("revoke own session: %d %s", r.Status, r.Body)
	}
	want("a session its user revoked", s3, 401, "/session_revoked")
	other := token("sess-other", "member", "o1")
	if r := other.do(http.MethodDelete, "/v1/sessions/s4", nil); r.Status != http.StatusNotFound {
		t.Fatalf("a member revoking another's session: %d %s", r.Status, r.Body)
	}
	want("s4 after a member's attempt", s4, 200, "")
	admin := token("sess-admin", "admin", "a1")
	if r := admin.do(http.MethodDelete, "/v1/sessions/s4", nil); r.Status != http.StatusNoContent {
		t.Fatalf("an admin revoking a member's session: %d %s", r.Status, r.Body)
	}
	want("a session an admin revoked", s4, 401, "/session_revoked")

	var list struct {
		Sessions []struct {
			ID            string  `json:"id"`
			RevokedReason *string `json:"revoked_reason"`
		} `json:"sessions"`
	}
	token("sess-user", "member", "s5").do(http.MethodGet, "/v1/sessions", nil).json(t, &list)
	reasons := map[string]string{}
	for _, x := range list.Sessions {
		reasons[x.ID] = "live"
		if x.RevokedReason != nil {
			reasons[x.ID] = *x.RevokedReason
		}
	}
	if reasons["s1"] != "evicted" || reasons["s2"] != "idle" || reasons["s3"] != "revoked" || reasons["s4"] != "revoked" || reasons["s5"] != "live" {
		t.Errorf("sessions: %v", reasons)
	}
}
