package config

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/groundwork-dev/groundwork"
)

// Airtable holds the Airtable sync settings.
type Airtable struct {
	// Token is the default Airtable personal access token; a mapping may
	// carry its own (stored encrypted).
	Token string
	// APIURL is Airtable's API origin (tests point it at a fake).
	APIURL string
	// Tables are the Postgres tables the operator opened for syncing
	// (GROUNDWORK_AIRTABLE_TABLES: schema.table or schema.table@workspace),
	// besides those managed with `groundwork airtable allow-table`.
	Tables []groundwork.SyncTable
	// Bases are the bases the worker's Token may be used for
	// (GROUNDWORK_AIRTABLE_BASES); any other needs the mapping's own token.
	Bases []string
	// PerBase and PerToken are Airtable's request limits per second, which
	// every worker shares through Postgres.
	PerBase  float64
	PerToken float64
	// Lockout is how long Airtable refuses a caller after a 429 (30 s).
	Lockout time.Duration
	// EncryptionKey seals mappings' own tokens (GROUNDWORK_ENCRYPTION_KEY).
	EncryptionKey []byte
}

func loadAirtable(getenv func(string) string, errs *[]error) Airtable {
	a := Airtable{
		Token:    getenv("AIRTABLE_TOKEN"),
		APIURL:   strings.TrimRight(or(getenv("AIRTABLE_API_URL"), DefaultAirtableAPIURL), "/"),
		PerBase:  float64(intVar(getenv, "GROUNDWORK_AIRTABLE_REQUESTS_PER_BASE", DefaultAirtablePerBase, errs)),
		PerToken: float64(intVar(getenv, "GROUNDWORK_AIRTABLE_REQUESTS_PER_TOKEN", DefaultAirtablePerToken, errs)),
		Lockout:  durVar(getenv, "GROUNDWORK_AIRTABLE_LOCKOUT", DefaultAirtableLockout, errs),
	}
	for _, s := range strings.Split(getenv("GROUNDWORK_AIRTABLE_TABLES"), ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		t, err := groundwork.ParseSyncTable(s)
		if err != nil {
			*errs = append(*errs, fmt.Errorf("GROUNDWORK_AIRTABLE_TABLES: %w", err))
			continue
		}
		a.Tables = append(a.Tables, t)
	}
	for _, s := range strings.Split(getenv("GROUNDWORK_AIRTABLE_BASES"), ",") {
		if s = strings.TrimSpace(s); s != "" {
			a.Bases = append(a.Bases, s)
		}
	}
	if getenv("GROUNDWORK_AIRTABLE_SCHEMAS") != "" {
		*errs = append(*errs, errors.New("GROUNDWORK_AIRTABLE_SCHEMAS is gone: open each table with GROUNDWORK_AIRTABLE_TABLES=schema.table[@workspace] instead"))
	}
	if a.PerBase == 0 || a.PerToken == 0 {
		*errs = append(*errs, fmt.Errorf("GROUNDWORK_AIRTABLE_REQUESTS_PER_BASE and GROUNDWORK_AIRTABLE_REQUESTS_PER_TOKEN must be positive"))
	}
	if s := getenv("GROUNDWORK_ENCRYPTION_KEY"); s != "" {
		key, err := decodeKey(s)
		if err != nil {
			*errs = append(*errs, fmt.Errorf("GROUNDWORK_ENCRYPTION_KEY: %w", err))
		}
		a.EncryptionKey = key
	}
	return a
}
