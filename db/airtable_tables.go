package db

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/groundwork-dev/groundwork"
	"github.com/groundwork-dev/groundwork/db/sqlc"
)

// PostgresTable describes the mapped table as the database has it.
type PostgresTable struct {
	Schema, Name string
	// Key is the key column, by which records are matched.
	Key string
	// Types maps each mapped column (key, fields, updated_at) to its type.
	Types map[string]string
	// WorkspaceColumn, when set, confines every read and write of the
	// sync to the rows whose column holds Workspace.
	WorkspaceColumn string
	Workspace       string
}

// CheckPostgresTable checks the mapped table for a mapping of workspace:
// the operator must have opened it for syncing (in opened, from
// GROUNDWORK_AIRTABLE_TABLES, or in airtable_sync_tables), to this
// workspace alone or to several with the mapping naming its workspace
// column; it must not be one of Groundwork's own tables, and must have a
// single-column primary key, a unique key column, a timestamptz updated_at
// column, and every mapped column. What the mapping gets wrong is in the
// field errors; err is a failure to ask the database.
func CheckPostgresTable(ctx context.Context, pool *pgxpool.Pool, m groundwork.AirtableMapping, workspace string, opened []groundwork.SyncTable) (_ PostgresTable, _ []groundwork.FieldError, err error) {
	schema, name, _ := strings.Cut(m.Postgres.Table, ".")
	fail := func(field, format string, args ...any) (PostgresTable, []groundwork.FieldError, error) {
		return PostgresTable{}, []groundwork.FieldError{{Field: field, Message: fmt.Sprintf(format, args...)}}, nil
	}
	if schema == "public" && isInternalTable(name) {
		return fail("postgres.table", "%s is one of Groundwork's own tables", m.Postgres.Table)
	}
	st, found, err := openedTable(ctx, pool, m.Postgres.Table, opened)
	if err != nil {
		return PostgresTable{}, nil, err
	}
	// The same answer whether the table is closed, another workspace's or
	// missing: a mapping must not tell one workspace what another syncs.
	if !found || (st.Workspace != "" && st.Workspace != workspace) {
		return fail("postgres.table", "%s is not a table the operator opened for syncing by this workspace (GROUNDWORK_AIRTABLE_TABLES or groundwork airtable allow-table)", m.Postgres.Table)
	}
	if st.Workspace == "" && st.WorkspaceColumn == "" {
		return fail("postgres.table", "%s is opened without a workspace or a workspace column; the operator must reopen it as %s@workspace or %s:column", m.Postgres.Table, m.Postgres.Table, m.Postgres.Table)
	}
	if m.Postgres.WorkspaceColumn != "" && m.Postgres.WorkspaceColumn != st.WorkspaceColumn {
		return fail("postgres.workspace_column", "%s's workspace column is the one the operator named, not %q", m.Postgres.Table, m.Postgres.WorkspaceColumn)
	}
	// The operator's column, whatever the mapping says.
	m.Postgres.WorkspaceColumn = st.WorkspaceColumn
	for i, f := range m.Fields {
		if st.WorkspaceColumn != "" && f.Postgres == st.WorkspaceColumn {
			return fail(fmt.Sprintf("fields[%d].postgres", i), "is the workspace column, which the sync maintains")
		}
	}
	t := PostgresTable{Schema: schema, Name: name, Key: m.Key.Postgres, Types: map[string]string{}, WorkspaceColumn: st.WorkspaceColumn, Workspace: workspace}
	rows, err := pool.Query(ctx, `SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2`, schema, name)
	if err != nil {
		return PostgresTable{}, nil, fmt.Errorf("read the columns of %s: %w", m.Postgres.Table, err)
	}
	cols, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) ([2]string, error) {
		var c [2]string
		return c, r.Scan(&c[0], &c[1])
	})
	if err != nil {
		return PostgresTable{}, nil, fmt.Errorf("read the columns of %s: %w", m.Postgres.Table, err)
	}
	if len(cols) == 0 {
		return fail("postgres.table", "no table %s", m.Postgres.Table)
	}
	types := map[string]string{}
	for _, c := range cols {
		types[c[0]] = c[1]
	}
	var errs []groundwork.FieldError
	need := func(field, col string) {
		typ, ok := types[col]
		if !ok {
			errs = append(errs, groundwork.FieldError{Field: field, Message: fmt.Sprintf("%s has no column %q", m.Postgres.Table, col)})
			return
		}
		t.Types[col] = typ
	}
	need("postgres.updated_at", m.Postgres.UpdatedAt)
	if typ := t.Types[m.Postgres.UpdatedAt]; typ != "" && typ != "timestamp with time zone" {
		errs = append(errs, groundwork.FieldError{Field: "postgres.updated_at", Message: "must be a timestamptz column, is " + typ})
	}
	need("key.postgres", m.Key.Postgres)
	if c := m.Postgres.WorkspaceColumn; c != "" {
		need("postgres.workspace_column", c)
		if typ := t.Types[c]; typ != "" && typ != "text" && typ != "character varying" {
			errs = append(errs, groundwork.FieldError{Field: "postgres.workspace_column", Message: "must be a text column, is " + typ})
		}
	}
	for i, f := range m.Fields {
		need(fmt.Sprintf("fields[%d].postgres", i), f.Postgres)
	}
	var pk []string
	err = pool.QueryRow(ctx, `
		SELECT coalesce(array_agg(a.attname ORDER BY a.attnum), '{}')
		FROM pg_index i
		JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
		WHERE i.indrelid = format('%I.%I', $1::text, $2::text)::regclass AND i.indisprimary`, schema, name).Scan(&pk)
	if err != nil {
		return PostgresTable{}, nil, fmt.Errorf("read the primary key of %s: %w", m.Postgres.Table, err)
	}
	if len(pk) != 1 {
		errs = append(errs, groundwork.FieldError{Field: "postgres.table", Message: "needs a single-column primary key"})
	}
	var unique bool
	err = pool.QueryRow(ctx, `
		SELECT EXISTS (
			SELECT 1 FROM pg_index i
			JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
			WHERE i.indrelid = format('%I.%I', $1::text, $2::text)::regclass
			  AND i.indisunique AND i.indnkeyatts = 1 AND i.indpred IS NULL AND a.attname = $3)`, schema, name, m.Key.Postgres).Scan(&unique)
	if err != nil {
		return PostgresTable{}, nil, fmt.Errorf("read the indexes of %s: %w", m.Postgres.Table, err)
	}
	if !unique {
		errs = append(errs, groundwork.FieldError{Field: "key.postgres", Message: fmt.Sprintf("column %q needs a unique index: records are matched by it", m.Key.Postgres)})
	}
	return t, errs, nil
}

// InternalTables are Groundwork's own tables in public, which no mapping
// may sync; a test keeps the list in step with the migrations.
var InternalTables = []string{
	"goose_db_version", "users", "api_keys", "runs", "run_inputs", "exports",
	"generations", "llm_cache", "llm_calls", "rate_buckets", "rate_slots",
	"research_pages", "research_run_pages", "research_reports",
	"airtable_mappings", "airtable_sync_state", "airtable_links", "airtable_staging", "airtable_plan", "airtable_audit",
	"workspaces", "airtable_sync_tables", "sessions", "rate_windows",
	"events", "event_keys", "customer_event_totals", "customer_activity", "customer_activity_daily",
	"milestones", "customer_milestones", "assessment_definitions", "assessments",
	"analytics_rollups", "analytics_watermarks",
	"webhook_endpoints", "webhook_messages", "webhook_attempts", "dead_letters",
	"webhook_sources", "webhook_source_secrets", "webhook_inbox",
	"notification_preferences", "email_messages", "customer_stalled", "workspace_members",
}

// SyncableTables are Groundwork's own tables shaped for Airtable sync (one
// key column and updated_at): the operator may open them, with
// workspace_id as the workspace column.
var SyncableTables = []string{"customers"}

// eventPartitionPrefix names the events table's monthly partitions, which
// the EventPartitions schedule creates.
const eventPartitionPrefix = "events_p"

func isInternalTable(name string) bool {
	return slices.Contains(InternalTables, name) || strings.HasPrefix(name, eventPartitionPrefix)
}

// openedTable finds table among the operator's opened tables: the
// configured list first, then airtable_sync_tables.
func openedTable(ctx context.Context, pool *pgxpool.Pool, table string, opened []groundwork.SyncTable) (groundwork.SyncTable, bool, error) {
	for _, o := range opened {
		if o.Table == table {
			return o, true, nil
		}
	}
	row, err := sqlc.New(pool).AirtableSyncTableGet(ctx, table)
	if IsNotFound(err) {
		return groundwork.SyncTable{}, false, nil
	}
	if err != nil {
		return groundwork.SyncTable{}, false, fmt.Errorf("read the opened tables: %w", err)
	}
	st := groundwork.SyncTable{Table: row.TableName}
	if row.WorkspaceID != nil {
		st.Workspace = *row.WorkspaceID
	}
	if row.WorkspaceColumn != nil {
		st.WorkspaceColumn = *row.WorkspaceColumn
	}
	return st, true, nil
}
