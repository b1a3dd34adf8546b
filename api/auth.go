package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"

	"github.com/groundwork-dev/groundwork"
	"github.com/groundwork-dev/groundwork/db"
	"github.com/groundwork-dev/groundwork/db/sqlc"
	"github.com/groundwork-dev/groundwork/internal/apikey"
	"github.com/groundwork-dev/groundwork/internal/session"
)

// Principal is the authenticated caller of a request: a user acting in a
// workspace with a role.
type Principal struct {
	// UserID is the JWT subject or the API key's owner.
	UserID string
	// WorkspaceID is the team the request acts for; without workspace
	// claims each user is alone in a workspace named after them.
	WorkspaceID string
	// Role is groundwork.RoleAdmin or groundwork.RoleMember.
	Role string
	// Method is "api_key" or "jwt".
	Method string
}

// Admin reports whether the principal may change the workspace's shared data.
func (p Principal) Admin() bool { return p.Role == groundwork.RoleAdmin }

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

// claimError is a valid token whose workspace claim is missing or
// unusable: its message names the claim, since the token's issuer, not
// the caller, has to fix it.
type claimError struct{ msg string }

func (e *claimError) Error() string { return e.msg }

// Authenticator checks bearer tokens: API keys against Postgres, JWTs
// against an HS256 secret or a JWKS.
type Authenticator struct {
	q      *sqlc.Queries
	cfg    AuthConfig
	parser *jwt.Parser
	now    func() time.Time
	// known remembers principals whose user and workspace rows exist, so
	// ensuring them costs no write per request.
	known sync.Map
}

// AuthConfig configures JWT validation and how claims map to a principal.
type AuthConfig struct {
	// Secret verifies HS256 tokens when set.
	Secret []byte
	// JWKS verifies RS256/ES256/EdDSA tokens when set.
	JWKS keyfunc.Keyfunc
	// Issuer and Audience are required claims when set.
	Issuer   string
	Audience string
	// MaxAge refuses tokens issued longer ago than this (0: no limit);
	// with a limit, tokens must carry iat.
	MaxAge time.Duration
	// WorkspaceClaim and RoleClaim are dotted claim paths (such as
	// app_metadata.workspace_id); unset, each user is the admin of a
	// workspace of their own.
	WorkspaceClaim string
	RoleClaim      string
	// Sessions, when set, checks the session a JWT names in SessionClaim
	// (idle timeout, per-user limit, revocation).
	Sessions     *session.Store
	SessionClaim string
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// Client is what a request tells of its sender, kept with its session.
type Client struct {
	UserAgent, IP string
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
	now := c.Now
	if now == nil {
		now = time.Now
	}
	opts := []jwt.ParserOption{
		// Never "none", never a method the key material was not meant for
		// (the RS256-public-key-as-HMAC-secret confusion).
		jwt.WithValidMethods(methods),
		jwt.WithExpirationRequired(),
		// A token issued in the future is refused.
		jwt.WithIssuedAt(),
		jwt.WithLeeway(jwtLeeway),
		jwt.WithTimeFunc(now),
	}
	if c.Issuer != "" {
		opts = append(opts, jwt.WithIssuer(c.Issuer))
	}
	if c.Audience != "" {
		opts = append(opts, jwt.WithAudience(c.Audience))
	}
	return &Authenticator{q: q, cfg: c, parser: jwt.NewParser(opts...), now: now}
}

// jwtLeeway absorbs clock skew between the identity provider and us.
const jwtLeeway = 30 * time.Second

// Authenticate returns the principal a bearer token stands for, after
// making sure its user and workspace rows exist and, for a JWT naming a
// session, that the session is live (session.ErrExpired or
// session.ErrRevoked otherwise).
func (a *Authenticator) Authenticate(ctx context.Context, token string, from Client) (Principal, error) {
	p, sid, err := a.principal(ctx, token)
	if err != nil {
		return Principal{}, err
	}
	key := p.WorkspaceID + "\x00" + p.UserID
	if _, ok := a.known.Load(key); !ok {
		if err := a.q.PrincipalEnsure(ctx, sqlc.PrincipalEnsureParams{WorkspaceID: p.WorkspaceID, UserID: p.UserID}); err != nil {
			return Principal{}, fmt.Errorf("ensure user and workspace: %w", err)
		}
		a.known.Store(key, struct{}{})
	}
	if sid != "" && a.cfg.Sessions != nil {
		err := a.cfg.Sessions.Check(ctx, session.Seen{UserID: p.UserID, WorkspaceID: p.WorkspaceID, SessionID: sid, UserAgent: from.UserAgent, IP: from.IP})
		if err != nil {
			return Principal{}, err
		}
	}
	return p, nil
}

// principal resolves a token to its principal and, for a JWT with a
// session claim, the session's ID.
func (a *Authenticator) principal(ctx context.Context, token string) (Principal, string, error) {
	if token == "" {
		return Principal{}, "", errUnauthenticated
	}
	if apikey.Looks(token) {
		k, err := a.q.APIKeyGetByHash(ctx, apikey.Hash(token))
		if db.IsNotFound(err) {
			return Principal{}, "", errUnauthenticated
		}
		if err != nil {
			return Principal{}, "", fmt.Errorf("look up api key: %w", err)
		}
		if k.LastUsedAt == nil || a.now().Sub(*k.LastUsedAt) > time.Minute {
			if err := a.q.APIKeyTouch(ctx, k.ID); err != nil {
				return Principal{}, "", fmt.Errorf("touch api key: %w", err)
			}
		}
		return Principal{UserID: k.UserID, WorkspaceID: k.WorkspaceID, Role: k.Role, Method: "api_key"}, "", nil
	}
	if a.cfg.Secret == nil && a.cfg.JWKS == nil {
		return Principal{}, "", errUnauthenticated
	}
	claims := jwt.MapClaims{}
	if _, err := a.parser.ParseWithClaims(token, claims, a.key); err != nil {
		return Principal{}, "", errUnauthenticated
	}
	sub, _ := claims["sub"].(string)
	if sub == "" || len(sub) > 255 {
		return Principal{}, "", errUnauthenticated
	}
	if a.cfg.MaxAge > 0 {
		iat, err := claims.GetIssuedAt()
		if err != nil || iat == nil || a.now().Sub(iat.Time) > a.cfg.MaxAge+jwtLeeway {
			return Principal{}, "", errUnauthenticated
		}
	}
	p := Principal{UserID: sub, WorkspaceID: sub, Role: groundwork.RoleAdmin, Method: "jwt"}
	var sid string
	if a.cfg.SessionClaim != "" {
		sid, _ = claimAt(claims, a.cfg.SessionClaim).(string)
		if len(sid) > 255 {
			return Principal{}, "", errUnauthenticated
		}
	}
	if a.cfg.WorkspaceClaim == "" {
		return p, sid, nil
	}
	ws, ok := claimAt(claims, a.cfg.WorkspaceClaim).(string)
	if !ok || !validWorkspaceID(ws) {
		return Principal{}, "", &claimError{msg: fmt.Sprintf("the token's %s claim (GROUNDWORK_JWT_WORKSPACE_CLAIM) is missing or not a workspace ID of 1-255 printable characters", a.cfg.WorkspaceClaim)}
	}
	p.WorkspaceID = ws
	// Only an explicit "admin" is an admin: a missing, unknown or
	// misspelt role is a member, never more.
	p.Role = groundwork.RoleMember
	if a.cfg.RoleClaim != "" {
		if role, _ := claimAt(claims, a.cfg.RoleClaim).(string); role == groundwork.RoleAdmin {
			p.Role = groundwork.RoleAdmin
		}
	}
	return p, sid, nil
}

// claimAt follows a dotted path (app_metadata.workspace_id) into claims.
func claimAt(claims map[string]any, path string) any {
	var cur any = claims
	for _, part := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[part]
	}
	return cur
}

// validWorkspaceID accepts 1-255 printable ASCII characters without spaces.
func validWorkspaceID(s string) bool {
	if len(s) == 0 || len(s) > 255 {
		return false
	}
	for _, r := range s {
		if r <= ' ' || r > '~' {
			return false
		}
	}
	return true
}

func (a *Authenticator) key(t *jwt.Token) (any, error) {
	if strings.HasPrefix(t.Method.Alg(), "HS") {
		if a.cfg.Secret == nil {
			return nil, errUnauthenticated
		}
		return a.cfg.Secret, nil
	}
	if a.cfg.JWKS == nil {
		return nil, errUnauthenticated
	}
	return a.cfg.JWKS.Keyfunc(t)
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

// requireAdmin returns the caller when it is an admin of its workspace,
// else 403 forbidden.
func requireAdmin(ctx context.Context) (Principal, error) {
	p, _ := PrincipalFrom(ctx)
	if !p.Admin() {
		return p, problem(http.StatusForbidden, groundwork.SlugForbidden, "only an admin of the workspace may do this")
	}
	return p, nil
}
