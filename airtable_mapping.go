package groundwork

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Airtable mapping choices.
const (
	DirectionPull = "pull"
	DirectionPush = "push"
	DirectionBoth = "both"

	ConflictAirtableWins = "airtable_wins"
	ConflictPostgresWins = "postgres_wins"
	ConflictLatestWins   = "latest_wins"

	DeletesNone               = "none"
	DeletesAirtableToPostgres = "airtable_to_postgres"
	DeletesPostgresToAirtable = "postgres_to_airtable"
	DeletesBoth               = "both"

	// MinSyncSchedule is the shortest schedule interval: Airtable's 5
	// requests/s per base leave room for little more on a large table.
	MinSyncSchedule = time.Minute
)

// AirtableMapping pairs an Airtable table with a Postgres table: the body of
// POST/PUT /v1/airtable/mappings, stored as the mapping's config (its token
// apart, encrypted).
type AirtableMapping struct {
	Name     string         `json:"name" minLength:"1" maxLength:"100" doc:"Unique per user." example:"customers"`
	Airtable AirtableSide   `json:"airtable"`
	Postgres PostgresSide   `json:"postgres"`
	Key      MappingKey     `json:"key" doc:"The field that identifies a record on both sides; records are matched by it before any create."`
	Fields   []MappingField `json:"fields" minItems:"1" maxItems:"100"`
	Conflict string         `json:"conflict" enum:"airtable_wins,postgres_wins,latest_wins" doc:"Who wins a field changed on both sides since the last sync; latest_wins compares Airtable's modified_field with Postgres's updated_at."`
	Deletes  string         `json:"deletes,omitempty" enum:"none,airtable_to_postgres,postgres_to_airtable,both" doc:"Which deletions propagate (default none)."`
	Schedule string         `json:"schedule,omitempty" maxLength:"20" doc:"Sync this often, e.g. 5m (at least 1m), as a Temporal Schedule; empty for on demand only." example:"5m"`
}

// AirtableSide names the Airtable table of a mapping.
type AirtableSide struct {
	BaseID        string `json:"base_id" pattern:"^app[A-Za-z0-9]{3,30}$" doc:"The base, app…." example:"appAbc123def456gh"`
	Table         string `json:"table" minLength:"1" maxLength:"200" doc:"Table name or ID (tbl…)." example:"Customers"`
	ModifiedField string `json:"modified_field" minLength:"1" maxLength:"200" doc:"A \"Last modified time\" field of the table: Airtable reports a record's modification time only through one." example:"Last Modified"`
	// Token is write-only: stored encrypted and never returned; without it
	// the worker's AIRTABLE_TOKEN is used.
	Token string `json:"token,omitempty" maxLength:"500" writeOnly:"true" doc:"This mapping's Airtable token; stored encrypted, never returned. Default: the worker's AIRTABLE_TOKEN."`
}

// PostgresSide names the Postgres table of a mapping.
type PostgresSide struct {
	Table     string `json:"table" minLength:"1" maxLength:"127" doc:"schema.table with a primary key and an updated_at column." example:"public.customers"`
	UpdatedAt string `json:"updated_at,omitempty" maxLength:"63" doc:"The column that changes with every row update (default updated_at)." example:"updated_at"`
	// WorkspaceColumn, when given, must be the column the operator named
	// for a shared table; the operator's is used either way.
	WorkspaceColumn string `json:"workspace_column,omitempty" maxLength:"63" doc:"For a table the operator opened to several workspaces, the column holding each row's workspace, as the operator named it (it may be left out). The sync reads, writes, deletes and samples only the rows of the mapping's workspace, and rows it creates get that value." example:"workspace_id"`
}

// MappingKey names the matching key on both sides.
type MappingKey struct {
	Airtable string `json:"airtable" minLength:"1" maxLength:"200" example:"Email"`
	Postgres string `json:"postgres" minLength:"1" maxLength:"63" example:"email"`
}

// MappingField pairs an Airtable field with a Postgres column.
type MappingField struct {
	Airtable  string `json:"airtable" minLength:"1" maxLength:"200" example:"Name"`
	Postgres  string `json:"postgres" minLength:"1" maxLength:"63" example:"name"`
	Direction string `json:"direction" enum:"pull,push,both" doc:"pull: Airtable → Postgres only; push: Postgres → Airtable only; both."`
	Conflict  string `json:"conflict,omitempty" enum:"airtable_wins,postgres_wins,latest_wins" doc:"Overrides the mapping's conflict policy for this field."`
}

var ident = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,62}$`)

// Normalize fills the defaults.
func (m *AirtableMapping) Normalize() {
	m.Name = strings.TrimSpace(m.Name)
	if m.Deletes == "" {
		m.Deletes = DeletesNone
	}
	if m.Postgres.UpdatedAt == "" {
		m.Postgres.UpdatedAt = "updated_at"
	}
	if !strings.Contains(m.Postgres.Table, ".") && m.Postgres.Table != "" {
		m.Postgres.Table = "public." + m.Postgres.Table
	}
}

// Validate checks what can be checked without a database. Field names are
// those of the JSON body.
func (m AirtableMapping) Validate() []FieldError {
	var errs []FieldError
	fail := func(field, format string, args ...any) {
		errs = append(errs, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
	}
	if m.Name == "" {
		fail("name", "is required")
	}
	schema, table, ok := strings.Cut(m.Postgres.Table, ".")
	if !ok || !ident.MatchString(schema) || !ident.MatchString(table) {
		fail("postgres.table", "must be schema.table of plain identifiers, e.g. public.customers")
	}
	if !ident.MatchString(m.Postgres.UpdatedAt) {
		fail("postgres.updated_at", "must be a plain column name")
	}
	if m.Postgres.WorkspaceColumn != "" && !ident.MatchString(m.Postgres.WorkspaceColumn) {
		fail("postgres.workspace_column", "must be a plain column name")
	}
	if !ident.MatchString(m.Key.Postgres) {
		fail("key.postgres", "must be a plain column name")
	}
	if m.Key.Airtable == m.Airtable.ModifiedField {
		fail("key.airtable", "cannot be the modified field")
	}
	if len(m.Fields) == 0 {
		fail("fields", "map at least one field")
	}
	seenPG, seenAT := map[string]bool{m.Key.Postgres: true}, map[string]bool{m.Key.Airtable: true}
	for i, f := range m.Fields {
		at := fmt.Sprintf("fields[%d]", i)
		if !ident.MatchString(f.Postgres) {
			fail(at+".postgres", "must be a plain column name")
		}
		if f.Postgres == m.Postgres.UpdatedAt {
			fail(at+".postgres", "is the updated_at column, which the sync maintains")
		}
		if f.Postgres == m.Postgres.WorkspaceColumn {
			fail(at+".postgres", "is the workspace column, which the sync maintains")
		}
		if seenPG[f.Postgres] {
			fail(at+".postgres", "column %q is mapped twice (or is the key)", f.Postgres)
		}
		if seenAT[f.Airtable] {
			fail(at+".airtable", "field %q is mapped twice (or is the key)", f.Airtable)
		}
		if f.Airtable == m.Airtable.ModifiedField {
			fail(at+".airtable", "is the modified field, which Airtable computes")
		}
		seenPG[f.Postgres], seenAT[f.Airtable] = true, true
		if !slices.Contains([]string{DirectionPull, DirectionPush, DirectionBoth}, f.Direction) {
			fail(at+".direction", "must be pull, push or both")
		}
		if f.Conflict != "" && !validConflict(f.Conflict) {
			fail(at+".conflict", "must be airtable_wins, postgres_wins or latest_wins")
		}
	}
	if !validConflict(m.Conflict) {
		fail("conflict", "must be airtable_wins, postgres_wins or latest_wins")
	}
	if !slices.Contains([]string{DeletesNone, DeletesAirtableToPostgres, DeletesPostgresToAirtable, DeletesBoth}, m.Deletes) {
		fail("deletes", "must be none, airtable_to_postgres, postgres_to_airtable or both")
	}
	if m.Schedule != "" {
		if d, err := time.ParseDuration(m.Schedule); err != nil || d < MinSyncSchedule {
			fail("schedule", "must be a duration of at least 1m, like 5m or 1h")
		}
	}
	return errs
}

// Every is the schedule's interval, 0 for on demand only.
func (m AirtableMapping) Every() time.Duration {
	d, _ := time.ParseDuration(m.Schedule)
	return d
}

func validConflict(c string) bool {
	return slices.Contains([]string{ConflictAirtableWins, ConflictPostgresWins, ConflictLatestWins}, c)
}

// SyncRequest is the body of POST /v1/airtable-syncs.
type SyncRequest struct {
	MappingID string `json:"mapping_id" minLength:"1" maxLength:"40" doc:"One of your mappings."`
	DryRun    bool   `json:"dry_run,omitempty" doc:"Only compute the diff: the run's result lists creates, updates, deletes and conflicts per side, with samples; nothing is written."`
}

// SyncTable is a Postgres table the operator opened for Airtable sync.
type SyncTable struct {
	// Table is schema.table.
	Table string
	// Workspace, when set, is the only workspace whose mappings may name
	// the table, which then needs no workspace column.
	Workspace string
	// WorkspaceColumn is the text column that holds each row's workspace
	// in a table shared by several workspaces. The operator names it, not
	// a mapping: a mapping choosing it could pick any column that happens
	// to hold its workspace's name.
	WorkspaceColumn string
}

// ParseSyncTable reads "schema.table@workspace" (one workspace's table) or
// "schema.table:column" (shared, each row's workspace in column); a table
// without a schema is in public.
func ParseSyncTable(s string) (SyncTable, error) {
	s = strings.TrimSpace(s)
	if table, col, shared := strings.Cut(s, ":"); shared {
		if strings.Contains(table, "@") || !ident.MatchString(col) {
			return SyncTable{}, fmt.Errorf("%q: a shared table is schema.table:column, the column a plain identifier", s)
		}
		t, err := ParseSyncTable(table + "@-")
		if err != nil {
			return SyncTable{}, err
		}
		return SyncTable{Table: t.Table, WorkspaceColumn: col}, nil
	}
	table, ws, one := strings.Cut(s, "@")
	if !one {
		return SyncTable{}, fmt.Errorf("%q names neither its workspace (schema.table@workspace) nor, for a shared table, its workspace column (schema.table:column)", s)
	}
	if !strings.Contains(table, ".") {
		table = "public." + table
	}
	schema, name, _ := strings.Cut(table, ".")
	if !ident.MatchString(schema) || !ident.MatchString(name) {
		return SyncTable{}, fmt.Errorf("%q is not schema.table[@workspace] of plain identifiers", s)
	}
	if ws == "" || len(ws) > 255 || strings.ContainsAny(ws, " \t,") {
		return SyncTable{}, fmt.Errorf("%q names no usable workspace after @", s)
	}
	return SyncTable{Table: table, Workspace: ws}, nil
}
