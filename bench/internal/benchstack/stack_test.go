package benchstack

import (
	"slices"
	"testing"
)

// The API must never see the shell's settings for its dependencies or for
// Airtable: bench/load once let AIRTABLE_TOKEN through.
func TestCleanEnv(t *testing.T) {
	in := []string{
		"PATH=/usr/bin",
		"GROUNDWORK_RATE_PER_SECOND=1",
		"TEMPORAL_ADDRESS=elsewhere:7233",
		"DATABASE_URL=postgres://elsewhere",
		"AIRTABLE_TOKEN=secret",
		"AIRTABLE_API_URL=https://api.airtable.com",
		"DATABASE_URL_RO=kept", // only DATABASE_URL itself is the API's
		"HOME=/root",
	}
	want := []string{"PATH=/usr/bin", "DATABASE_URL_RO=kept", "HOME=/root"}
	if got := cleanEnv(in); !slices.Equal(got, want) {
		t.Errorf("cleanEnv = %q, want %q", got, want)
	}
}
