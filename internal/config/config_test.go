package config

import (
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestLoadDefaults(t *testing.T) {
	c, err := Load(env(map[string]string{
		"DATABASE_URL":           "postgres://x",
		"GROUNDWORK_SIGNING_KEY": strings.Repeat("ab", 32),
	}), RoleAPI)
	if err != nil {
		t.Fatal(err)
	}
	if c.HTTPAddr != ":8080" || c.BlobURL != "file://.data/blobs" || c.RatePerSec != 10 || c.RatePerMin != 100 ||
		c.ExportTTL != 24*time.Hour || c.MaxFileBytes != 10<<20 || len(c.SigningKey) != 32 {
		t.Fatalf("defaults: %+v", c)
	}
}

func TestLoadNamesMissingAndBadSettings(t *testing.T) {
	_, err := Load(env(map[string]string{
		"GROUNDWORK_JWT_SECRET":      "short",
		"GROUNDWORK_RATE_PER_SECOND": "many",
		"GROUNDWORK_EXPORT_TTL":      "soon",
	}), RoleAPI)
	if err == nil {
		t.Fatal("want an error")
	}
	for _, name := range []string{"DATABASE_URL", "GROUNDWORK_SIGNING_KEY", "GROUNDWORK_JWT_SECRET", "GROUNDWORK_RATE_PER_SECOND", "GROUNDWORK_EXPORT_TTL"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error does not name %s: %v", name, err)
		}
	}
	// A worker needs no signing key.
	if _, err := Load(env(map[string]string{"DATABASE_URL": "postgres://x"}), RoleWorker); err != nil {
		t.Errorf("worker config: %v", err)
	}
}
