// Package config reads Groundwork's settings from the environment, one
// variable per setting, and names any required one that is missing.
package config

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Config holds every setting of the api and worker processes.
type Config struct {
	DatabaseURL  string
	DBMinConns   int32
	DBMaxConns   int32
	HTTPAddr     string
	PublicURL    string
	BlobURL      string
	CORSOrigins  []string
	JWTSecret    []byte
	JWKSURL      string
	JWTIssuer    string
	JWTAudience  string
	SigningKey   []byte
	RatePerSec   int
	RatePerMin   int
	Pollers      int
	EagerStart   bool
	ExportTTL    time.Duration
	MaxFileBytes int64
	QuotaBytes   int64
	CleanupEvery time.Duration
	LLM          LLM
	Research     Research
	Airtable     Airtable
	LogLevel     string
	LogFormat    string
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
)

// Load reads the configuration through getenv (os.Getenv in production).
func Load(getenv func(string) string, role Role) (Config, error) {
	c := Config{
		DatabaseURL: getenv("DATABASE_URL"),
		HTTPAddr:    or(getenv("GROUNDWORK_HTTP_ADDR"), DefaultHTTPAddr),
		PublicURL:   strings.TrimRight(or(getenv("GROUNDWORK_PUBLIC_URL"), DefaultPublicURL), "/"),
		BlobURL:     or(getenv("GROUNDWORK_BLOB_URL"), DefaultBlobURL),
		JWKSURL:     getenv("GROUNDWORK_JWKS_URL"),
		JWTIssuer:   getenv("GROUNDWORK_JWT_ISSUER"),
		JWTAudience: getenv("GROUNDWORK_JWT_AUDIENCE"),
		LogLevel:    or(getenv("GROUNDWORK_LOG_LEVEL"), DefaultLogLevel),
		LogFormat:   or(getenv("GROUNDWORK_LOG_FORMAT"), DefaultLogFormat),
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
	c.DBMinConns = int32(intVar(getenv, "GROUNDWORK_DB_MIN_CONNS", DefaultDBMinConns, &errs))
	c.DBMaxConns = int32(intVar(getenv, "GROUNDWORK_DB_MAX_CONNS", DefaultDBMaxConns, &errs))
	c.RatePerSec = intVar(getenv, "GROUNDWORK_RATE_PER_SECOND", DefaultRatePerSecond, &errs)
	c.RatePerMin = intVar(getenv, "GROUNDWORK_RATE_PER_MINUTE", DefaultRatePerMinute, &errs)
	c.Pollers = intVar(getenv, "GROUNDWORK_WORKER_POLLERS", DefaultPollers, &errs)
	c.MaxFileBytes = int64(intVar(getenv, "GROUNDWORK_EXPORT_MAX_BYTES", DefaultExportMaxBytes, &errs))
	c.EagerStart = getenv("GROUNDWORK_EAGER_START") == "true"
	c.ExportTTL = durVar(getenv, "GROUNDWORK_EXPORT_TTL", DefaultExportTTL, &errs)
	c.QuotaBytes = int64(intVar(getenv, "GROUNDWORK_EXPORT_QUOTA_BYTES", DefaultExportQuotaBytes, &errs))
	c.CleanupEvery = durVar(getenv, "GROUNDWORK_EXPORT_CLEANUP_EVERY", DefaultCleanupEvery, &errs)
	c.LLM = loadLLM(getenv, role, &errs)
	c.Research = loadResearch(getenv, &errs)
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
