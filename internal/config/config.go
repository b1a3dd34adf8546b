// Package config reads Groundwork's settings from the environment, one
// variable per setting, and names any required one that is missing.
package config

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/groundwork-dev/groundwork/internal/notify"
)

// Config holds every setting of the api and worker processes.
type Config struct {
	DatabaseURL string
	DBMinConns  int32
	DBMaxConns  int32
	HTTPAddr    string
	// MetricsAddr is where /metrics and /healthz are served, apart from
	// the API (GROUNDWORK_METRICS_ADDR).
	MetricsAddr string
	PublicURL   string
	BlobURL     string
	CORSOrigins []string
	JWTSecret   []byte
	JWKSURL     string
	JWTIssuer   string
	JWTAudience string
	// JWTAcceptAnyAudience lets a JWKS be used without issuer and
	// audience checks (GROUNDWORK_JWT_ACCEPT_ANY_AUDIENCE=true).
	JWTAcceptAnyAudience bool
	// JWTMaxAge refuses tokens issued longer ago (GROUNDWORK_JWT_MAX_AGE).
	JWTMaxAge time.Duration
	// JWTWorkspaceClaim and JWTRoleClaim are dotted claim paths; unset,
	// each user is the admin of a workspace of their own.
	JWTWorkspaceClaim string
	JWTRoleClaim      string
	// SessionClaim names the JWT claim holding the provider's session ID
	// (GROUNDWORK_SESSION_CLAIM); a token without it has no session.
	SessionClaim string
	// SessionIdle ends a session unused this long (GROUNDWORK_SESSION_IDLE).
	SessionIdle time.Duration
	// SessionsPerUser caps a user's live sessions (GROUNDWORK_SESSIONS_PER_USER).
	SessionsPerUser int
	SigningKey      []byte
	RatePerSec      int
	RatePerMin      int
	// MaxStreamsPerUser and MaxOpenRuns cap a user's event streams and
	// unfinished runs.
	MaxStreamsPerUser int
	MaxOpenRuns       int
	// SignedRatePerSec and SignedRatePerMin limit each signed link.
	SignedRatePerSec, SignedRatePerMin int
	// IPRatePerSec is the per-process limit by client IP before
	// authentication; AuthFailuresPerMin failures from one IP refuse it
	// for the rest of the minute.
	IPRatePerSec, AuthFailuresPerMin int
	// TrustedProxies name the proxies whose X-Forwarded-For is believed
	// (GROUNDWORK_TRUSTED_PROXIES).
	TrustedProxies []netip.Prefix
	Pollers        int
	// RenderConcurrency bounds a worker's renders (GROUNDWORK_RENDER_CONCURRENCY).
	RenderConcurrency int
	EagerStart        bool
	ExportTTL         time.Duration
	MaxFileBytes      int64
	QuotaBytes        int64
	CleanupEvery      time.Duration
	// TemporalUIURL is the Temporal Web UI dead letters link to
	// (GROUNDWORK_TEMPORAL_UI_URL); TemporalNamespace the namespace
	// (TEMPORAL_NAMESPACE).
	TemporalUIURL, TemporalNamespace string
	// DatabaseReadURL is a read replica analytics reads go to
	// (DATABASE_READ_URL); empty: the primary.
	DatabaseReadURL string
	// EventRetention is how long tracked events are kept
	// (GROUNDWORK_EVENT_RETENTION).
	EventRetention time.Duration
	// StalledAfter is how long without an event makes a customer stalled
	// (GROUNDWORK_STALLED_AFTER).
	StalledAfter time.Duration
	// RollupHourlyEvery and RollupDailyEvery are the analytics rollup
	// schedules' intervals.
	RollupHourlyEvery, RollupDailyEvery time.Duration
	// TracesEndpoint is the OTLP/HTTP URL spans go to, from
	// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT
	// (+ /v1/traces); empty: tracing is off.
	TracesEndpoint string
	// TracesBatchTimeout is how long spans wait to be sent (0: the SDK's
	// 5 s, or OTEL_BSP_SCHEDULE_DELAY).
	TracesBatchTimeout time.Duration
	// SMTP is the mail server (GROUNDWORK_SMTP_URL) and sender
	// (GROUNDWORK_MAIL_FROM); nil: no e-mail is sent.
	SMTP      *notify.SMTP
	LLM       LLM
	Research  Research
	Airtable  Airtable
	LogLevel  string
	LogFormat string
}

// Role says which settings a process needs.
type Role int

// Roles of a process.
const (
	// RoleAPI serves HTTP.
	RoleAPI Role = 1 << iota
	// RoleWorker polls task queues.
	RoleWorker
	// RoleDB only talks to Postgres (migrate, apikey).
	RoleDB
	// RoleDev is `groundwork dev`, a developer's machine: the only role
	// that may open internal addresses to research.
	RoleDev
)

// Load reads the configuration through getenv (os.Getenv in production).
func Load(getenv func(string) string, role Role) (Config, error) {
	c := Config{
		DatabaseURL:          getenv("DATABASE_URL"),
		HTTPAddr:             or(getenv("GROUNDWORK_HTTP_ADDR"), DefaultHTTPAddr),
		MetricsAddr:          or(getenv("GROUNDWORK_METRICS_ADDR"), DefaultMetricsAddr),
		PublicURL:            strings.TrimRight(or(getenv("GROUNDWORK_PUBLIC_URL"), DefaultPublicURL), "/"),
		BlobURL:              or(getenv("GROUNDWORK_BLOB_URL"), DefaultBlobURL),
		JWKSURL:              getenv("GROUNDWORK_JWKS_URL"),
		JWTIssuer:            getenv("GROUNDWORK_JWT_ISSUER"),
		JWTAudience:          getenv("GROUNDWORK_JWT_AUDIENCE"),
		JWTAcceptAnyAudience: getenv("GROUNDWORK_JWT_ACCEPT_ANY_AUDIENCE") == "true",
		JWTWorkspaceClaim:    strings.TrimSpace(getenv("GROUNDWORK_JWT_WORKSPACE_CLAIM")),
		JWTRoleClaim:         strings.TrimSpace(getenv("GROUNDWORK_JWT_ROLE_CLAIM")),
		LogLevel:             or(getenv("GROUNDWORK_LOG_LEVEL"), DefaultLogLevel),
		LogFormat:            or(getenv("GROUNDWORK_LOG_FORMAT"), DefaultLogFormat),
	}
	var errs []error
	if c.DatabaseURL == "" {
		errs = append(errs, errors.New("DATABASE_URL is required (e.g. postgres://user:pass@localhost:5432/groundwork)"))
	}
	for _, o := range strings.Split(getenv("GROUNDWORK_CORS_ORIGINS"), ",") {
		if o = strings.TrimSpace(o); o != "" {
			c.CORSOrigins = append(c.CORSOrigins, o)
		}
	}
	if s := getenv("GROUNDWORK_JWT_SECRET"); s != "" {
		c.JWTSecret = []byte(s)
		if len(c.JWTSecret) < 32 {
			errs = append(errs, errors.New("GROUNDWORK_JWT_SECRET must be at least 32 bytes"))
		}
	}
	if s := getenv("GROUNDWORK_SIGNING_KEY"); s != "" {
		key, err := decodeKey(s)
		if err != nil {
			errs = append(errs, fmt.Errorf("GROUNDWORK_SIGNING_KEY: %w", err))
		}
		c.SigningKey = key
	} else if role&RoleAPI != 0 {
		errs = append(errs, errors.New("GROUNDWORK_SIGNING_KEY is required: 32+ random bytes as hex or base64 (e.g. `openssl rand -hex 32`)"))
	}
	c.JWTMaxAge = durVar(getenv, "GROUNDWORK_JWT_MAX_AGE", DefaultJWTMaxAge, &errs)
	c.SessionClaim = or(strings.TrimSpace(getenv("GROUNDWORK_SESSION_CLAIM")), DefaultSessionClaim)
	c.SessionIdle = durVar(getenv, "GROUNDWORK_SESSION_IDLE", DefaultSessionIdle, &errs)
	c.SessionsPerUser = intVar(getenv, "GROUNDWORK_SESSIONS_PER_USER", DefaultSessionsPerUser, &errs)
	if c.SessionsPerUser == 0 {
		errs = append(errs, errors.New("GROUNDWORK_SESSIONS_PER_USER must be at least 1"))
	}
	// A JWKS is often shared by every project of a provider (Firebase,
	// Google securetoken): without issuer and audience, a token minted for
	// someone else's project would be accepted.
	if c.JWKSURL != "" && (c.JWTIssuer == "" || c.JWTAudience == "") && !c.JWTAcceptAnyAudience {
		errs = append(errs, errors.New("GROUNDWORK_JWKS_URL needs GROUNDWORK_JWT_ISSUER and GROUNDWORK_JWT_AUDIENCE (or GROUNDWORK_JWT_ACCEPT_ANY_AUDIENCE=true to accept tokens of any project the JWKS signs for)"))
	}
	if c.JWTRoleClaim != "" && c.JWTWorkspaceClaim == "" {
		errs = append(errs, errors.New("GROUNDWORK_JWT_ROLE_CLAIM needs GROUNDWORK_JWT_WORKSPACE_CLAIM: without it each user is the admin of a workspace of their own"))
	}
	c.SignedRatePerSec = intVar(getenv, "GROUNDWORK_SIGNED_RATE_PER_SECOND", DefaultSignedRatePerSecond, &errs)
	c.SignedRatePerMin = intVar(getenv, "GROUNDWORK_SIGNED_RATE_PER_MINUTE", DefaultSignedRatePerMinute, &errs)
	c.IPRatePerSec = intVar(getenv, "GROUNDWORK_IP_RATE_PER_SECOND", DefaultIPRatePerSecond, &errs)
	c.AuthFailuresPerMin = intVar(getenv, "GROUNDWORK_AUTH_FAILURES_PER_MINUTE", DefaultAuthFailuresPerMinute, &errs)
	for _, s := range strings.Split(getenv("GROUNDWORK_TRUSTED_PROXIES"), ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		p, err := netip.ParsePrefix(s)
		if err != nil {
			errs = append(errs, fmt.Errorf("GROUNDWORK_TRUSTED_PROXIES: %q is not a CIDR range like 10.0.0.0/8", s))
			continue
		}
		c.TrustedProxies = append(c.TrustedProxies, p.Masked())
	}
	c.MaxStreamsPerUser = intVar(getenv, "GROUNDWORK_MAX_STREAMS_PER_USER", DefaultMaxStreamsPerUser, &errs)
	c.MaxOpenRuns = intVar(getenv, "GROUNDWORK_MAX_OPEN_RUNS", DefaultMaxOpenRuns, &errs)
	c.DBMinConns = int32(intVar(getenv, "GROUNDWORK_DB_MIN_CONNS", DefaultDBMinConns, &errs))
	c.DBMaxConns = int32(intVar(getenv, "GROUNDWORK_DB_MAX_CONNS", DefaultDBMaxConns, &errs))
	c.RatePerSec = intVar(getenv, "GROUNDWORK_RATE_PER_SECOND", DefaultRatePerSecond, &errs)
	c.RatePerMin = intVar(getenv, "GROUNDWORK_RATE_PER_MINUTE", DefaultRatePerMinute, &errs)
	c.Pollers = intVar(getenv, "GROUNDWORK_WORKER_POLLERS", DefaultPollers, &errs)
	c.RenderConcurrency = intVar(getenv, "GROUNDWORK_RENDER_CONCURRENCY", DefaultRenderConcurrency, &errs)
	c.MaxFileBytes = int64(intVar(getenv, "GROUNDWORK_EXPORT_MAX_BYTES", DefaultExportMaxBytes, &errs))
	c.EagerStart = getenv("GROUNDWORK_EAGER_START") == "true"
	c.ExportTTL = durVar(getenv, "GROUNDWORK_EXPORT_TTL", DefaultExportTTL, &errs)
	c.QuotaBytes = int64(intVar(getenv, "GROUNDWORK_EXPORT_QUOTA_BYTES", DefaultExportQuotaBytes, &errs))
	c.CleanupEvery = durVar(getenv, "GROUNDWORK_EXPORT_CLEANUP_EVERY", DefaultCleanupEvery, &errs)
	c.DatabaseReadURL = getenv("DATABASE_READ_URL")
	c.TemporalUIURL = or(getenv("GROUNDWORK_TEMPORAL_UI_URL"), DefaultTemporalUIURL)
	c.TemporalNamespace = or(getenv("TEMPORAL_NAMESPACE"), "default")
	c.EventRetention = durVar(getenv, "GROUNDWORK_EVENT_RETENTION", DefaultEventRetention, &errs)
	c.StalledAfter = durVar(getenv, "GROUNDWORK_STALLED_AFTER", DefaultStalledAfter, &errs)
	c.TracesEndpoint = tracesEndpoint(getenv, &errs)
	if u := getenv("GROUNDWORK_SMTP_URL"); u != "" {
		s, err := notify.ParseSMTP(u, or(getenv("GROUNDWORK_MAIL_FROM"), DefaultMailFrom))
		if err != nil {
			errs = append(errs, fmt.Errorf("GROUNDWORK_SMTP_URL / GROUNDWORK_MAIL_FROM: %w", err))
		}
		c.SMTP = &s
		if role&RoleWorker != 0 && c.SigningKey == nil {
			errs = append(errs, errors.New("GROUNDWORK_SMTP_URL needs GROUNDWORK_SIGNING_KEY on workers: every e-mail carries a signed unsubscribe link"))
		}
	}
	c.RollupHourlyEvery = durVar(getenv, "GROUNDWORK_ROLLUP_HOURLY_EVERY", DefaultRollupHourlyEvery, &errs)
	c.RollupDailyEvery = durVar(getenv, "GROUNDWORK_ROLLUP_DAILY_EVERY", DefaultRollupDailyEvery, &errs)
	c.LLM = loadLLM(getenv, role, &errs)
	c.Research = loadResearch(getenv, role, &errs)
	c.Airtable = loadAirtable(getenv, &errs)
	if len(errs) > 0 {
		return Config{}, fmt.Errorf("configuration: %w", errors.Join(errs...))
	}
	return c, nil
}

// decodeKey accepts hex or standard/URL base64 and requires 32 bytes.
func decodeKey(s string) ([]byte, error) {
	if b, err := hex.DecodeString(s); err == nil && len(b) >= 32 {
		return b, nil
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil && len(b) >= 32 {
			return b, nil
		}
	}
	return nil, errors.New("must be 32+ bytes encoded as hex or base64")
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func intVar(getenv func(string) string, name string, def int, errs *[]error) int {
	s := getenv(name)
	if s == "" {
		return def
	}
	v, err := strconv.Atoi(s)
	if err != nil || v < 0 {
		*errs = append(*errs, fmt.Errorf("%s must be a non-negative integer, got %q", name, s))
		return def
	}
	return v
}

func durVar(getenv func(string) string, name string, def time.Duration, errs *[]error) time.Duration {
	s := getenv(name)
	if s == "" {
		return def
	}
	v, err := time.ParseDuration(s)
	if err != nil || v <= 0 {
		*errs = append(*errs, fmt.Errorf("%s must be a positive duration like 24h, got %q", name, s))
		return def
	}
	return v
}

// tracesEndpoint reads the standard OpenTelemetry variables: tracing is on
// when an OTLP endpoint is set, unless OTEL_SDK_DISABLED or
// OTEL_TRACES_EXPORTER=none turn it off. Only http/protobuf is spoken.
func tracesEndpoint(getenv func(string) string, errs *[]error) string {
	if getenv("OTEL_SDK_DISABLED") == "true" || getenv("OTEL_TRACES_EXPORTER") == "none" {
		return ""
	}
	if p := or(getenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"), getenv("OTEL_EXPORTER_OTLP_PROTOCOL")); p != "" && p != "http/protobuf" {
		*errs = append(*errs, fmt.Errorf("OTEL_EXPORTER_OTLP_PROTOCOL %q: Groundwork exports traces over http/protobuf (port 4318 of a collector)", p))
	}
	if u := getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"); u != "" {
		return u
	}
	if u := getenv("OTEL_EXPORTER_OTLP_ENDPOINT"); u != "" {
		return strings.TrimRight(u, "/") + "/v1/traces"
	}
	return ""
}
