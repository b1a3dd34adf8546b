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

func TestJWKSNeedsIssuerAndAudience(t *testing.T) {
	base := map[string]string{
		"DATABASE_URL":           "postgres://x",
		"GROUNDWORK_SIGNING_KEY": strings.Repeat("ab", 32),
		"GROUNDWORK_JWKS_URL":    "https://idp.example/.well-known/jwks.json",
	}
	with := func(extra map[string]string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	if _, err := Load(env(base), RoleAPI); err == nil || !strings.Contains(err.Error(), "GROUNDWORK_JWT_AUDIENCE") {
		t.Fatalf("a JWKS without issuer and audience: %v", err)
	}
	if _, err := Load(env(with(map[string]string{"GROUNDWORK_JWT_ISSUER": "https://idp.example"})), RoleAPI); err == nil {
		t.Fatal("a JWKS without audience was accepted")
	}
	c, err := Load(env(with(map[string]string{"GROUNDWORK_JWT_ISSUER": "https://idp.example", "GROUNDWORK_JWT_AUDIENCE": "gw"})), RoleAPI)
	if err != nil || c.JWTMaxAge != 24*time.Hour {
		t.Fatalf("issuer and audience set: %v, max age %s", err, c.JWTMaxAge)
	}
	if _, err := Load(env(with(map[string]string{"GROUNDWORK_JWT_ACCEPT_ANY_AUDIENCE": "true"})), RoleAPI); err != nil {
		t.Fatalf("the explicit opt-out: %v", err)
	}
	if _, err := Load(env(with(map[string]string{"GROUNDWORK_JWT_ACCEPT_ANY_AUDIENCE": "true", "GROUNDWORK_JWT_ROLE_CLAIM": "role"})), RoleAPI); err == nil {
		t.Fatal("a role claim without a workspace claim was accepted")
	}
}

func TestAirtableTablesAndBases(t *testing.T) {
	c, err := Load(env(map[string]string{
		"DATABASE_URL": "postgres://x", "GROUNDWORK_SIGNING_KEY": strings.Repeat("ab", 32),
		"GROUNDWORK_AIRTABLE_TABLES": "public.customers:workspace_id, deals@acme", "GROUNDWORK_AIRTABLE_BASES": "appA, appB",
	}), RoleAPI)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Airtable.Tables) != 2 || c.Airtable.Tables[0].Table != "public.customers" || c.Airtable.Tables[0].WorkspaceColumn != "workspace_id" ||
		c.Airtable.Tables[1].Table != "public.deals" || c.Airtable.Tables[1].Workspace != "acme" || len(c.Airtable.Bases) != 2 {
		t.Fatalf("tables %+v bases %v", c.Airtable.Tables, c.Airtable.Bases)
	}
	for _, bad := range []map[string]string{
		{"GROUNDWORK_AIRTABLE_TABLES": "public.x; DROP TABLE users"},
		{"GROUNDWORK_AIRTABLE_TABLES": "public.x@"},
		{"GROUNDWORK_AIRTABLE_TABLES": "public.x"},
		{"GROUNDWORK_AIRTABLE_TABLES": "public.x:a;b"},
		{"GROUNDWORK_AIRTABLE_SCHEMAS": "public"},
	} {
		bad["DATABASE_URL"], bad["GROUNDWORK_SIGNING_KEY"] = "postgres://x", strings.Repeat("ab", 32)
		if _, err := Load(env(bad), RoleAPI); err == nil {
			t.Errorf("accepted %v", bad)
		}
	}
}

func TestResearchAllowListOnlyForDev(t *testing.T) {
	m := map[string]string{
		"DATABASE_URL": "postgres://x", "GROUNDWORK_SIGNING_KEY": strings.Repeat("ab", 32),
		"GROUNDWORK_RESEARCH_ALLOW_CIDRS": "127.0.0.1/32",
	}
	for _, role := range []Role{RoleAPI, RoleWorker, RoleAPI | RoleWorker} {
		if _, err := Load(env(m), role); err == nil || !strings.Contains(err.Error(), "GROUNDWORK_RESEARCH_ALLOW_CIDRS") {
			t.Errorf("role %d accepted the allow-list: %v", role, err)
		}
	}
	c, err := Load(env(m), RoleAPI|RoleWorker|RoleDev)
	if err != nil || len(c.Research.Allow) != 1 {
		t.Fatalf("groundwork dev: %v", err)
	}
	if len(c.Research.Ports) != 4 || c.Research.Ports[0] != 80 || c.Research.Ports[3] != 8443 {
		t.Errorf("default ports %v", c.Research.Ports)
	}
	m["GROUNDWORK_RESEARCH_PORTS"] = "443,http"
	if _, err := Load(env(m), RoleAPI|RoleWorker|RoleDev); err == nil {
		t.Error("a port that is no number was accepted")
	}
}
