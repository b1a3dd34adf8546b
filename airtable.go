package groundwork

import (
	"encoding/json"
	"time"
)

// AirtableSyncInput starts (or continues) an AirtableSync run.
type AirtableSyncInput struct {
	RunID   string `json:"run_id"`
	OwnerID string `json:"owner_id"`
	// State carries a continued run's progress; nil on the first start.
	State *AirtableSyncState `json:"state,omitempty"`
	// Batches overrides the batch sizes (tests); zero values are the
	// defaults.
	Batches AirtableBatches `json:"batches,omitzero"`
}

// AirtableBatches sizes a sync's activity batches.
type AirtableBatches struct {
	PagesPerFetch    int `json:"pages_per_fetch,omitempty"`
	DecisionsPerPass int `json:"decisions_per_pass,omitempty"`
	BatchesPerRun    int `json:"batches_per_run,omitempty"`
}

// AirtableSyncState is what a run has done so far.
type AirtableSyncState struct {
	Prepared AirtablePrepared `json:"prepared"`
	// Offset is the Airtable list offset to continue reading from.
	Offset   string              `json:"offset,omitempty"`
	Fetched  int                 `json:"fetched"`
	ReadDone bool                `json:"read_done"`
	Plan     *AirtablePlanResult `json:"plan,omitempty"`
	Applied  int                 `json:"applied"`
	Failed   int                 `json:"failed"`
}

// AirtablePrepared is the run's mapping and where the last sync stopped.
type AirtablePrepared struct {
	MappingID string `json:"mapping_id"`
	DryRun    bool   `json:"dry_run"`
	// Since is the Airtable cursor: records modified after it are read;
	// nil reads everything (first sync, or deletes to detect).
	Since *time.Time `json:"since,omitempty"`
}

// AirtableFetchInput reads one batch of changed Airtable records.
type AirtableFetchInput struct {
	RunID     string     `json:"run_id"`
	MappingID string     `json:"mapping_id"`
	Since     *time.Time `json:"since,omitempty"`
	Offset    string     `json:"offset,omitempty"`
	MaxPages  int        `json:"max_pages"`
}

// AirtableFetchOutput says how far reading got.
type AirtableFetchOutput struct {
	Records int    `json:"records"`
	Offset  string `json:"offset,omitempty"`
	Done    bool   `json:"done"`
}

// AirtablePlanInput decides a run's writes.
type AirtablePlanInput struct {
	RunID     string `json:"run_id"`
	MappingID string `json:"mapping_id"`
	DryRun    bool   `json:"dry_run"`
	// FullScan says the whole Airtable table was read, so a linked record
	// missing from it was deleted there.
	FullScan bool `json:"full_scan"`
}

// SyncCounts counts a plan's writes per side.
type SyncCounts struct {
	AirtableCreates int `json:"airtable_creates"`
	AirtableUpdates int `json:"airtable_updates"`
	AirtableDeletes int `json:"airtable_deletes"`
	PostgresCreates int `json:"postgres_creates"`
	PostgresUpdates int `json:"postgres_updates"`
	PostgresDeletes int `json:"postgres_deletes"`
	Conflicts       int `json:"conflicts"`
	Unchanged       int `json:"unchanged"`
}

// AirtablePlanResult is a plan's size and the cursors the run will save.
type AirtablePlanResult struct {
	Counts          SyncCounts `json:"counts"`
	Decisions       int        `json:"decisions"`
	ScannedAirtable int        `json:"scanned_airtable"`
	ScannedPostgres int        `json:"scanned_postgres"`
	AirtableCursor  *time.Time `json:"airtable_cursor,omitempty"`
	PostgresCursor  *time.Time `json:"postgres_cursor,omitempty"`
	// Diff is a dry run's diff: counts and sample decisions per kind.
	Diff json.RawMessage `json:"diff,omitempty"`
}

// AirtableApplyInput applies up to Max pending decisions with an Airtable
// write and up to Max without.
type AirtableApplyInput struct {
	RunID     string `json:"run_id"`
	MappingID string `json:"mapping_id"`
	Max       int    `json:"max"`
}

// AirtableApplyOutput counts what one pass applied.
type AirtableApplyOutput struct {
	Applied   int  `json:"applied"`
	Failed    int  `json:"failed"`
	Remaining bool `json:"remaining"`
}

// AirtableFinishInput closes a run.
type AirtableFinishInput struct {
	RunID    string            `json:"run_id"`
	State    AirtableSyncState `json:"state"`
	Progress Progress          `json:"progress"`
}

// AirtableScheduledInput is what a mapping's Temporal Schedule starts.
type AirtableScheduledInput struct {
	MappingID string `json:"mapping_id"`
	OwnerID   string `json:"owner_id"`
}

// AirtableLaunchInput records a scheduled sync's run.
type AirtableLaunchInput struct {
	RunID     string `json:"run_id"`
	MappingID string `json:"mapping_id"`
	OwnerID   string `json:"owner_id"`
}

// AirtableSyncResult is a finished sync run's result.
type AirtableSyncResult struct {
	MappingID       string                `json:"mapping_id"`
	DryRun          bool                  `json:"dry_run"`
	ScannedAirtable int                   `json:"scanned_airtable" doc:"Airtable records read (changed since the last sync, or all)."`
	ScannedPostgres int                   `json:"scanned_postgres" doc:"Postgres rows read as changed since the last sync."`
	Counts          SyncCounts            `json:"counts"`
	Applied         int                   `json:"applied"`
	Failed          int                   `json:"failed"`
	Failures        []AirtableSyncFailure `json:"failures,omitempty" doc:"Records one side refused, with why (at most 50)."`
	Diff            json.RawMessage       `json:"diff,omitempty" doc:"A dry run's diff: totals and sample decisions per kind."`
}

// AirtableSyncFailure is a record that could not be synced.
type AirtableSyncFailure struct {
	Key   string `json:"key"`
	Error string `json:"error"`
}
