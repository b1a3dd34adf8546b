package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"

	"github.com/groundwork-dev/groundwork/db"
	"github.com/groundwork-dev/groundwork/db/sqlc"
	"github.com/groundwork-dev/groundwork/internal/apikey"
)

// Principal is the authenticated caller of a request.
type Principal struct {
	// UserID is the JWT subject or the API key's owner.
	UserID string
	// Method is "api_key", "jwt" or "signed_url".
	Method string
}

type principalKey struct{}

// PrincipalFrom returns the caller stored by the auth middleware.
func PrincipalFrom(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok && p.UserID != ""
}

func withPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// errUnauthenticated is the one message every auth failure gets, so a
// caller cannot probe which part of a token was wrong.
var errUnauthenticated = errors.New("missing or invalid bearer token")

// Authenticator checks bearer tokens: API keys against Postgres, JWTs
// against an HS256 secret or a JWKS.
type Authenticator struct {
	q      *sqlc.Queries
	secret []byte
	jwks   keyfunc.Keyfunc
	parser *jwt.Parser
}

// AuthConfig configures JWT validation.
type AuthConfig struct {
	// Secret verifies HS256 tokens when set.
	Secret []byte
	// JWKS verifies RS256/ES256/EdDSA tokens when set.
	JWKS keyfunc.Keyfunc
	// Issuer and Audience are required claims when set.
	Issuer   string
	Audience string
}

// NewAuthenticator builds an Authenticator.
func NewAuthenticator(q *sqlc.Queries, c AuthConfig) *Authenticator {
	var methods []string
	if len(c.Secret) > 0 {
		methods = append(methods, "HS256", "HS384", "HS512")
	}
	if c.JWKS != nil {
		methods = append(methods, "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
	}
	opts := []jwt.ParserOption{
		// Never "none", never a method the key material was not meant for
		// (the RS256-public-key-as-HMAC-secret confusion).
		jwt.WithValidMethods(methods),
		jwt.WithExpirationRequired(),
		jwt.WithLeeway(30 * time.Second),
	}
	if c.Issuer != "" {
		opts = append(opts, jwt.WithIssuer(c.Issuer))
	}
	if c.Audience != "" {
		opts = append(opts, jwt.WithAudience(c.Audience))
	}
	return &Authenticator{q: q, secret: c.Secret, jwks: c.JWKS, parser: jwt.NewParser(opts...)}
}

// Authenticate returns the principal a bearer token stands for.
func (a *Authenticator) Authenticate(ctx context.Context, token string) (Principal, error) {
	if token == "" {
		return Principal{}, errUnauthenticated
	}
	if apikey.Looks(token) {
		k, err := a.q.APIKeyGetByHash(ctx, apikey.Hash(token))
		if db.IsNotFound(err) {
			return Principal{}, errUnauthenticated
		}
		if err != nil {
			return Principal{}, fmt.Errorf("look up api key: %w", err)
		}
		return Principal{UserID: k.UserID, Method: "api_key"}, nil
	}
	if a.secret == nil && a.jwks == nil {
		return Principal{}, errUnauthenticated
	}
	var claims jwt.RegisteredClaims
	_, err := a.parser.ParseWithClaims(token, &claims, a.key)
	if err != nil {
		return Principal{}, errUnauthenticated
	}
	if claims.Subject == "" || len(claims.Subject) > 255 {
		return Principal{}, errUnauthenticated
	}
	return Principal{UserID: claims.Subject, Method: "jwt"}, nil
}

func (a *Authenticator) key(t *jwt.Token) (any, error) {
	if strings.HasPrefix(t.Method.Alg(), "HS") {
		if a.secret == nil {
			return nil, errUnauthenticated
		}
		return a.secret, nil
	}
	if a.jwks == nil {
		return nil, errUnauthenticated
	}
	return a.jwks.Keyfunc(t)
}

// bearerToken extracts the token of an "Authorization: Bearer …" header.
func bearerToken(r *http.Request) string {
	h := r.Header.Get("Authorization")
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(token)
}
