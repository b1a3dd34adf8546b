// Package workflows holds Groundwork's deterministic orchestration: one file
// per workflow, plus the names (task queues, IDs, queries) that the API,
// worker and activities share as wire contracts.
package workflows

import (
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"strings"
	"time"

	"github.com/oklog/ulid/v2"
	"go.temporal.io/sdk/temporal"
)

// Task queues, one per kind of limited resource.
const (
	// TaskQueueDefault carries workflows and cheap activities.
	TaskQueueDefault = "groundwork"
	// TaskQueueRender carries CPU-bound rendering activities.
	TaskQueueRender = "render"
	// TaskQueueBrowser carries Chrome activities with bounded concurrency.
	TaskQueueBrowser = "browser"
	// TaskQueueLLM carries rate-limited LLM calls.
	TaskQueueLLM = "llm"
	// TaskQueueAirtable carries Airtable calls (5 req/s per base).
	TaskQueueAirtable = "airtable"
)

// QueryProgress is the query every workflow answers with its Progress.
const QueryProgress = "progress"

// Search attribute names registered on the Temporal namespace.
const (
	// SearchAttrOwnerName is the keyword attribute holding the owning user ID.
	SearchAttrOwnerName = "GroundworkOwner"
	// SearchAttrKindName is the keyword attribute holding the run kind.
	SearchAttrKindName = "GroundworkKind"
)

// Typed keys for the search attributes above.
var (
	// SearchAttrOwner is the typed key of GroundworkOwner.
	SearchAttrOwner = temporal.NewSearchAttributeKeyKeyword(SearchAttrOwnerName)
	// SearchAttrKind is the typed key of GroundworkKind.
	SearchAttrKind = temporal.NewSearchAttributeKeyKeyword(SearchAttrKindName)
)

// Kind names one sort of run; it prefixes the run's workflow ID.
type Kind string

// The kinds of run Groundwork knows.
const (
	// KindExport renders a file for download.
	KindExport Kind = "export"
	// KindGeneration generates text with an LLM from a prompt template.
	KindGeneration Kind = "generation"
	// KindResearch researches a company's website into a profile.
	KindResearch Kind = "research"
	// KindAirtableSync syncs one Airtable mapping both ways.
	KindAirtableSync Kind = "airtable"
)

// Kinds lists every kind, for validation of IDs and filters.
var Kinds = []Kind{KindExport, KindGeneration, KindResearch, KindAirtableSync}

// Valid reports whether k is a known kind.
func (k Kind) Valid() bool {
	for _, known := range Kinds {
		if k == known {
			return true
		}
	}
	return false
}

// RequestHash fingerprints a run's request, its kind and body: a repeated
// Idempotency-Key must come with the same one.
func RequestHash(kind Kind, body []byte) []byte {
	sum := sha256.Sum256(append([]byte(string(kind)+"\n"), body...))
	return sum[:]
}

// NewRunID returns a fresh workflow ID "<kind>-<ULID>". ULIDs sort by time,
// so IDs created later compare greater, which keeps keyset pagination stable.
func NewRunID(kind Kind, now time.Time) string {
	return string(kind) + "-" + ulid.MustNew(ulid.Timestamp(now), rand.Reader).String()
}

// exportable lists the kinds whose results POST /v1/exports can render
// through {"source": {"run_id": …}}.
var exportable = map[Kind]bool{KindResearch: true}

// Exportable reports whether a run of kind k can be the source of an export.
func (k Kind) Exportable() bool { return exportable[k] }

// ParseRunID splits a run ID into its kind and ULID and rejects anything that
// NewRunID could not have produced, so a crafted ID never reaches Temporal.
func ParseRunID(id string) (Kind, ulid.ULID, error) {
	prefix, rest, ok := strings.Cut(id, "-")
	if !ok {
		return "", ulid.ULID{}, fmt.Errorf("run id %q: missing kind prefix", id)
	}
	kind := Kind(prefix)
	if !kind.Valid() {
		return "", ulid.ULID{}, fmt.Errorf("run id %q: unknown kind %q", id, prefix)
	}
	u, err := ulid.ParseStrict(rest)
	if err != nil {
		return "", ulid.ULID{}, fmt.Errorf("run id %q: %w", id, err)
	}
	return kind, u, nil
}
