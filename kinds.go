// Package groundwork is the contract every layer of Groundwork shares: the
// kinds of run, the names of workflows, activities and task queues, the
// requests with their validation, each step's input and output, results,
// progress and problem slugs. It holds data and pure functions only; the
// API, the workflows and the activities import it, and it imports none of
// them (see docs/architecture.md and the import-rule test in
// internal/archtest).
package groundwork

import (
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"strings"
	"time"

	"github.com/oklog/ulid/v2"
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
	// KindAssessment scores a customer's assessment answers.
	KindAssessment Kind = "assessment"
)

// KindSpec is what starting a run of one kind needs: the workflow it runs
// and how long the whole run may take.
type KindSpec struct {
	// Workflow is the registered workflow type the run executes.
	Workflow string
	// ExecutionTimeout bounds the run, retries and continue-as-new included.
	ExecutionTimeout time.Duration
	// Exportable says POST /v1/exports can render the run's result through
	// {"source": {"run_id": …}}.
	Exportable bool
}

// kinds is the table of kinds: each run kind's workflow and execution
// timeout, written once. The API starts runs from it and the workflows'
// policy (workflows/policy.go) refers to it.
var kinds = map[Kind]KindSpec{
	KindExport: {Workflow: WorkflowExport, ExecutionTimeout: time.Hour},
	// Room for queueing behind the token budget and for retries through
	// a provider outage.
	KindGeneration: {Workflow: WorkflowGenerate, ExecutionTimeout: time.Hour, Exportable: true},
	// Fifty pages at one request per second per domain, with room for
	// retries and the summary's wait for the token budget.
	KindResearch: {Workflow: WorkflowResearch, ExecutionTimeout: 2 * time.Hour, Exportable: true},
	// Ten thousand records at 5 requests/s take minutes; an outage of
	// Airtable, retried, may take longer.
	KindAirtableSync: {Workflow: WorkflowAirtableSync, ExecutionTimeout: 6 * time.Hour},
	// Scoring takes milliseconds; the recommendations may wait for the
	// token budget like any generation.
	KindAssessment: {Workflow: WorkflowAssessment, ExecutionTimeout: time.Hour, Exportable: true},
}

// Kinds lists every kind, for validation of IDs and filters.
var Kinds = []Kind{KindExport, KindGeneration, KindResearch, KindAirtableSync, KindAssessment}

// Valid reports whether k is a known kind.
func (k Kind) Valid() bool {
	_, ok := kinds[k]
	return ok
}

// Spec returns the kind's row of the table of kinds; the zero KindSpec for
// an unknown kind.
func (k Kind) Spec() KindSpec { return kinds[k] }

// Exportable reports whether a run of kind k can be the source of an export.
func (k Kind) Exportable() bool { return kinds[k].Exportable }

// RunInput is the input every run kind's workflow starts with: the request
// itself stays in Postgres (run_inputs), so large bodies never travel
// through workflow history.
type RunInput struct {
	RunID   string `json:"run_id"`
	OwnerID string `json:"owner_id"`
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

// ExportSourceRefusal says why a run the caller owns, of kind and status,
// cannot be an export's source, or "" when it can. The API checks it at the
// edge and the export activity again when it renders.
func ExportSourceRefusal(kind, status string) string {
	if !Kind(kind).Exportable() {
		return fmt.Sprintf("runs of kind %q cannot be exported", kind)
	}
	if status != RunSucceeded {
		return fmt.Sprintf("the run has not succeeded (status %s)", status)
	}
	return ""
}
