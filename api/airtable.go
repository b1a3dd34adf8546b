package api

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/oklog/ulid/v2"

	"github.com/groundwork-dev/groundwork"
	"github.com/groundwork-dev/groundwork/db"
	"github.com/groundwork-dev/groundwork/db/sqlc"
	"github.com/groundwork-dev/groundwork/internal/document"
)

// Mapping is an Airtable mapping as the API shows it: never its token.
type Mapping struct {
	ID string `json:"id" example:"map_01JD4X7Q2W6ZC5D3V9N8K1M2P3"`
	groundwork.AirtableMapping
	TokenSet  bool         `json:"token_set" doc:"The mapping has its own (encrypted) Airtable token; otherwise the worker's AIRTABLE_TOKEN is used."`
	CreatedAt time.Time    `json:"created_at"`
	UpdatedAt time.Time    `json:"updated_at"`
	LastSync  *MappingSync `json:"last_sync,omitempty"`
}

// MappingSync is when a mapping last synced.
type MappingSync struct {
	RunID    string     `json:"run_id"`
	SyncedAt *time.Time `json:"synced_at,omitempty"`
}

type mappingBodyInput struct {
	Body groundwork.AirtableMapping
}

type mappingIDInput struct {
	ID string `path:"id" maxLength:"40" doc:"Mapping ID."`
}

type mappingUpdateInput struct {
	ID   string `path:"id" maxLength:"40" doc:"Mapping ID."`
	Body groundwork.AirtableMapping
}

type mappingOutput struct {
	Body Mapping
}

type mappingListOutput struct {
	Body struct {
		Mappings []Mapping `json:"mappings"`
	}
}

type auditInput struct {
	ID     string `path:"id" maxLength:"40" doc:"Mapping ID."`
	Limit  int    `query:"limit" minimum:"1" maximum:"500" default:"100"`
	Cursor string `query:"cursor" maxLength:"30" doc:"next_cursor of the previous page."`
}

// AuditEntry is one changed field.
type AuditEntry struct {
	ID          int64           `json:"id"`
	RunID       string          `json:"run_id"`
	Key         string          `json:"key" doc:"The record's key value."`
	Field       string          `json:"field" doc:"The Postgres column of the field."`
	Action      string          `json:"action" doc:"create, update or delete."`
	WrittenTo   string          `json:"written_to" doc:"airtable or postgres."`
	OldValue    json.RawMessage `json:"old_value,omitempty"`
	NewValue    json.RawMessage `json:"new_value,omitempty"`
	Winner      string          `json:"winner" doc:"The side whose value was kept."`
	Conflict    bool            `json:"conflict" doc:"Both sides changed the field since the last sync."`
	LosingValue json.RawMessage `json:"losing_value,omitempty" doc:"On a conflict, the value that lost."`
	At          time.Time       `json:"at"`
}

type auditOutput struct {
	Body struct {
		Entries    []AuditEntry `json:"entries"`
		NextCursor string       `json:"next_cursor,omitempty" doc:"Absent on the last page."`
	}
}

type startSyncInput struct {
	StartHeaders
	Body    groundwork.SyncRequest
	RawBody []byte
}

func (s *Server) registerAirtable() {
	huma.Register(s.api, huma.Operation{
		OperationID: "create-airtable-mapping", Method: http.MethodPost, Path: "/v1/airtable/mappings",
		Summary:     "Create an Airtable mapping",
		Description: "Pairs an Airtable table with a Postgres table (with a primary key and an updated_at column) for two-way sync. The Postgres side is checked against the database; a schedule becomes a Temporal Schedule.",
		Tags:        []string{"airtable"}, DefaultStatus: http.StatusCreated,
		Errors: []int{400, 401, 403, 409, 422, 429, 503},
	}, func(ctx context.Context, in *mappingBodyInput) (*mappingOutput, error) {
		p, err := requireAdmin(ctx)
		if err != nil {
			return nil, err
		}
		m, err := s.checkMapping(ctx, p, in.Body, false)
		if err != nil {
			return nil, err
		}
		id := "map_" + ulid.MustNew(ulid.Timestamp(s.d.Now()), rand.Reader).String()
		row, err := s.storeMapping(ctx, p, id, m, true)
		if err != nil {
			return nil, err
		}
		return &mappingOutput{Body: s.mappingView(ctx, row)}, nil
	})

	huma.Register(s.api, huma.Operation{
		OperationID: "list-airtable-mappings", Method: http.MethodGet, Path: "/v1/airtable/mappings",
		Summary: "List your workspace's Airtable mappings", Tags: []string{"airtable"}, Errors: []int{401, 429, 503},
	}, func(ctx context.Context, _ *struct{}) (*mappingListOutput, error) {
		p, _ := PrincipalFrom(ctx)
		rows, err := s.q.AirtableMappingList(ctx, sqlc.AirtableMappingListParams{WorkspaceID: p.WorkspaceID, MaxRows: 500})
		if err != nil {
			return nil, dependencyError("postgres", err)
		}
		out := &mappingListOutput{}
		out.Body.Mappings = make([]Mapping, 0, len(rows))
		for _, r := range rows {
			out.Body.Mappings = append(out.Body.Mappings, mappingViewOf(r.AirtableMapping, r.LastRunID, r.SyncedAt))
		}
		return out, nil
	})

	huma.Register(s.api, huma.Operation{
		OperationID: "get-airtable-mapping", Method: http.MethodGet, Path: "/v1/airtable/mappings/{id}",
		Summary: "Get an Airtable mapping", Tags: []string{"airtable"}, Errors: []int{401, 404, 429, 503},
	}, func(ctx context.Context, in *mappingIDInput) (*mappingOutput, error) {
		row, err := s.workspaceMapping(ctx, in.ID)
		if err != nil {
			return nil, err
		}
		return &mappingOutput{Body: s.mappingView(ctx, row)}, nil
	})

	huma.Register(s.api, huma.Operation{
		OperationID: "update-airtable-mapping", Method: http.MethodPut, Path: "/v1/airtable/mappings/{id}",
		Summary:     "Replace an Airtable mapping",
		Description: "Replaces the mapping; leave token out to keep the stored one. Cursors and links are kept when only fields, policy, deletes or schedule change (a new field then syncs from its next change); new tables or a new key start the next sync afresh. 409 sync_running while a sync runs and the tables or key change.",
		Tags:        []string{"airtable"}, Errors: []int{400, 401, 403, 404, 409, 422, 429, 503},
	}, func(ctx context.Context, in *mappingUpdateInput) (*mappingOutput, error) {
		p, err := requireAdmin(ctx)
		if err != nil {
			return nil, err
		}
		old, err := s.workspaceMapping(ctx, in.ID)
		if err != nil {
			return nil, err
		}
		// Leaving the token out keeps the stored one.
		m, err := s.checkMapping(ctx, p, in.Body, len(old.TokenCiphertext) > 0)
		if err != nil {
			return nil, err
		}
		var before groundwork.AirtableMapping
		_ = json.Unmarshal(old.Config, &before)
		repaired := before.Airtable.BaseID != m.Airtable.BaseID || before.Airtable.Table != m.Airtable.Table ||
			before.Postgres.Table != m.Postgres.Table || before.Key != m.Key
		if repaired {
			if err := s.refuseWhileSyncing(ctx, in.ID, "change its tables or key when it finished"); err != nil {
				return nil, err
			}
		}
		row, err := s.storeMapping(ctx, p, in.ID, m, false)
		if err != nil {
			return nil, err
		}
		if repaired {
			// Other tables or another key: the old links and cursors
			// describe records this mapping no longer pairs.
			if err := s.q.AirtableMappingForget(ctx, in.ID); err != nil {
				return nil, dependencyError("postgres", err)
			}
		}
		return &mappingOutput{Body: s.mappingView(ctx, row)}, nil
	})

	huma.Register(s.api, huma.Operation{
		OperationID: "delete-airtable-mapping", Method: http.MethodDelete, Path: "/v1/airtable/mappings/{id}",
		Summary:     "Delete an Airtable mapping",
		Description: "Deletes the mapping, its schedule, links and audit log. Neither table is touched.",
		Tags:        []string{"airtable"}, DefaultStatus: http.StatusNoContent, Errors: []int{401, 403, 404, 429, 503},
	}, func(ctx context.Context, in *mappingIDInput) (*struct{}, error) {
		if _, err := requireAdmin(ctx); err != nil {
			return nil, err
		}
		row, err := s.workspaceMapping(ctx, in.ID)
		if err != nil {
			return nil, err
		}
		if err := s.deleteSyncSchedule(ctx, row.ID); err != nil {
			return nil, dependencyError("temporal", err)
		}
		if _, err := s.q.AirtableMappingDelete(ctx, sqlc.AirtableMappingDeleteParams{ID: row.ID, WorkspaceID: row.WorkspaceID}); err != nil {
			return nil, dependencyError("postgres", err)
		}
		return nil, nil
	})

	huma.Register(s.api, huma.Operation{
		OperationID: "list-airtable-audit", Method: http.MethodGet, Path: "/v1/airtable/mappings/{id}/audit",
		Summary:     "Page through a mapping's audit log",
		Description: "One entry per changed field, newest first: old and new value, the winning side and, on a conflict, the losing value.",
		Tags:        []string{"airtable"}, Errors: []int{401, 404, 422, 429, 503},
	}, func(ctx context.Context, in *auditInput) (*auditOutput, error) {
		row, err := s.workspaceMapping(ctx, in.ID)
		if err != nil {
			return nil, err
		}
		var before *int64
		if in.Cursor != "" {
			n, err := strconv.ParseInt(in.Cursor, 10, 64)
			if err != nil || n <= 0 {
				return nil, problem(http.StatusUnprocessableEntity, groundwork.SlugValidation, "invalid cursor", document.FieldError{Field: "cursor", Message: "use next_cursor of the previous page"})
			}
			before = &n
		}
		rows, err := s.q.AirtableAuditPage(ctx, sqlc.AirtableAuditPageParams{MappingID: row.ID, Before: before, MaxRows: int32(in.Limit) + 1})
		if err != nil {
			return nil, dependencyError("postgres", err)
		}
		out := &auditOutput{}
		out.Body.Entries = []AuditEntry{}
		for i, r := range rows {
			if i == in.Limit {
				out.Body.NextCursor = strconv.FormatInt(rows[i-1].ID, 10)
				break
			}
			out.Body.Entries = append(out.Body.Entries, AuditEntry{
				ID: r.ID, RunID: r.RunID, Key: r.RecordKey, Field: r.Field, Action: r.Action, WrittenTo: r.WrittenTo,
				OldValue: r.OldValue, NewValue: r.NewValue, Winner: r.Winner, Conflict: r.Conflict, LosingValue: r.LosingValue, At: r.At,
			})
		}
		return out, nil
	})

	huma.Register(s.api, huma.Operation{
		OperationID: "start-airtable-sync", Method: http.MethodPost, Path: "/v1/airtable-syncs",
		Summary:     "Sync a mapping now",
		Description: "Starts an AirtableSync run for one of your mappings. With dry_run the run's result is the diff (creates, updates, deletes and conflicts per side, with samples) and nothing is written on either side.",
		Tags:        []string{"airtable"}, DefaultStatus: http.StatusAccepted,
		Errors: []int{400, 401, 403, 404, 409, 413, 422, 429, 503},
	}, func(ctx context.Context, in *startSyncInput) (*startRunOutput, error) {
		if _, err := requireAdmin(ctx); err != nil {
			return nil, err
		}
		if _, err := s.workspaceMapping(ctx, in.Body.MappingID); err != nil {
			return nil, err
		}
		if !in.Body.DryRun {
			if err := s.refuseWhileSyncing(ctx, in.Body.MappingID, "wait for it to finish"); err != nil {
				return nil, err
			}
		}
		return s.startOutput(ctx, groundwork.KindAirtableSync, in.StartHeaders, in.RawBody)
	})
}

// refuseWhileSyncing answers 409 sync_running while a sync of the mapping
// runs, saying what to do instead.
func (s *Server) refuseWhileSyncing(ctx context.Context, mappingID, instead string) error {
	running, err := s.q.AirtableSyncRunning(ctx, mappingID)
	switch {
	case err == nil:
		return problem(http.StatusConflict, groundwork.SlugSyncRunning, fmt.Sprintf("a sync of this mapping is running (%s): %s", running, instead))
	case db.IsNotFound(err):
		return nil
	default:
		return dependencyError("postgres", err)
	}
}

// checkMapping validates a mapping against the rules and the database.
// storedToken says the mapping keeps a token it already has.
func (s *Server) checkMapping(ctx context.Context, p Principal, m groundwork.AirtableMapping, storedToken bool) (groundwork.AirtableMapping, error) {
	m.Normalize()
	if errs := m.Validate(); len(errs) > 0 {
		return m, problem(http.StatusUnprocessableEntity, groundwork.SlugValidation, "the mapping is invalid", errs...)
	}
	_, errs, err := db.CheckPostgresTable(ctx, s.d.Pool, m, p.WorkspaceID, s.d.AirtableTables)
	if err != nil {
		return m, fmt.Errorf("check the mapping's table: %w", err)
	}
	if len(errs) > 0 {
		return m, problem(http.StatusUnprocessableEntity, groundwork.SlugValidation, "the Postgres table cannot be synced as mapped", errs...)
	}
	if m.Airtable.Token == "" && !storedToken && !slices.Contains(s.d.AirtableBases, m.Airtable.BaseID) {
		return m, problem(http.StatusUnprocessableEntity, groundwork.SlugValidation, "the mapping needs its own Airtable token",
			groundwork.FieldError{Field: "airtable.token", Message: "the worker's AIRTABLE_TOKEN is used only for the bases in GROUNDWORK_AIRTABLE_BASES; give this mapping its own token"})
	}
	if m.Airtable.Token != "" && !s.d.Secrets.Enabled() {
		return m, problem(http.StatusUnprocessableEntity, groundwork.SlugValidation, "tokens can only be stored encrypted",
			document.FieldError{Field: "airtable.token", Message: "set GROUNDWORK_ENCRYPTION_KEY on the API to store a mapping's own token, or leave it out to use the worker's AIRTABLE_TOKEN"})
	}
	return m, nil
}

// storeMapping writes the mapping (its token sealed) and its schedule.
func (s *Server) storeMapping(ctx context.Context, p Principal, id string, m groundwork.AirtableMapping, create bool) (sqlc.AirtableMapping, error) {
	var sealed []byte
	if m.Airtable.Token != "" {
		var err error
		if sealed, err = s.d.Secrets.Seal([]byte(m.Airtable.Token), id); err != nil {
			return sqlc.AirtableMapping{}, fmt.Errorf("seal token: %w", err)
		}
		m.Airtable.Token = ""
	}
	cfg, err := json.Marshal(m)
	if err != nil {
		return sqlc.AirtableMapping{}, fmt.Errorf("marshal mapping: %w", err)
	}
	var row sqlc.AirtableMapping
	if create {
		row, err = s.q.AirtableMappingInsert(ctx, sqlc.AirtableMappingInsertParams{ID: id, OwnerID: p.UserID, WorkspaceID: p.WorkspaceID, Name: m.Name, Config: cfg, TokenCiphertext: sealed})
	} else {
		row, err = s.q.AirtableMappingUpdate(ctx, sqlc.AirtableMappingUpdateParams{ID: id, WorkspaceID: p.WorkspaceID, Name: m.Name, Config: cfg, TokenCiphertext: sealed})
	}
	if db.IsUniqueViolation(err) {
		return row, problem(http.StatusConflict, groundwork.SlugConflict, fmt.Sprintf("the workspace already has a mapping named %q", m.Name))
	}
	if err != nil {
		return row, dependencyError("postgres", err)
	}
	if err := s.putSyncSchedule(ctx, row.ID, p.UserID, m.Every()); err != nil {
		s.d.Log.ErrorContext(ctx, "sync schedule", "mapping_id", row.ID, "error", err)
		return row, dependencyError("temporal", err)
	}
	return row, nil
}

// workspaceMapping loads a mapping of the caller's workspace; another
// workspace's is 404.
func (s *Server) workspaceMapping(ctx context.Context, id string) (sqlc.AirtableMapping, error) {
	p, _ := PrincipalFrom(ctx)
	row, err := s.q.AirtableMappingGetInWorkspace(ctx, sqlc.AirtableMappingGetInWorkspaceParams{ID: id, WorkspaceID: p.WorkspaceID})
	if db.IsNotFound(err) {
		return row, notFound("mapping")
	}
	if err != nil {
		return row, dependencyError("postgres", err)
	}
	return row, nil
}

func (s *Server) mappingView(ctx context.Context, r sqlc.AirtableMapping) Mapping {
	var lastRunID *string
	var syncedAt *time.Time
	if st, err := s.q.AirtableSyncStateGet(ctx, r.ID); err == nil {
		lastRunID, syncedAt = st.LastRunID, st.SyncedAt
	}
	return mappingViewOf(r, lastRunID, syncedAt)
}

// mappingViewOf is a mapping as the API shows it, with its last sync when
// it has one (the list reads it in the same query as the mappings).
func mappingViewOf(r sqlc.AirtableMapping, lastRunID *string, syncedAt *time.Time) Mapping {
	v := Mapping{ID: r.ID, TokenSet: len(r.TokenCiphertext) > 0, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
	_ = json.Unmarshal(r.Config, &v.AirtableMapping)
	v.Airtable.Token = ""
	if lastRunID != nil {
		v.LastSync = &MappingSync{RunID: *lastRunID, SyncedAt: syncedAt}
	}
	return v
}
