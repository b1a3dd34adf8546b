package api

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"go.temporal.io/api/serviceerror"

	"github.com/groundwork-dev/groundwork"
	"github.com/groundwork-dev/groundwork/db"
	"github.com/groundwork-dev/groundwork/db/sqlc"
)

// Run, RunProgress and RunError are the contract's: the public Go client
// (client/) decodes the same structs the API encodes, and the OpenAPI
// schemas keep their names.
type (
	// Run is a run as the API shows it.
	Run = groundwork.Run
	// RunProgress is the workflow's progress with a computed percentage.
	RunProgress = groundwork.RunProgress
	// RunError is why a run failed.
	RunError = groundwork.RunError
)

func progressOf(p groundwork.Progress) RunProgress {
	return RunProgress{
		Stage: p.Stage, Done: p.Done, Total: p.Total, Percent: p.Percent(),
		Message: p.Message, UpdatedAt: p.UpdatedAt, Version: p.Version, Text: p.Text,
	}
}

type runIDInput struct {
	ID string `path:"id" maxLength:"100" doc:"Run ID."`
}

type runOutput struct {
	Body Run
}

type listRunsInput struct {
	Scope  string `query:"scope" enum:"own,workspace" default:"own" doc:"own: the caller's runs; workspace: every member's runs of the workspace (admins only, else 403)."`
	Kind   string `query:"kind" enum:"export,generation,research,airtable,assessment" doc:"Only runs of this kind."`
	Status string `query:"status" enum:"queued,running,succeeded,failed,canceled,timed_out" doc:"Only runs in this status."`
	Limit  int    `query:"limit" minimum:"1" maximum:"100" default:"20"`
	Cursor string `query:"cursor" maxLength:"200" doc:"next_cursor of the previous page."`
}

type listRunsOutput struct {
	Body struct {
		Runs       []Run  `json:"runs"`
		NextCursor string `json:"next_cursor,omitempty" doc:"Absent on the last page."`
	}
}

type cancelOutput struct {
	Body Run
}

func (s *Server) registerRuns() {
	huma.Register(s.api, huma.Operation{
		OperationID: "get-run",
		Method:      http.MethodGet,
		Path:        "/v1/runs/{id}",
		Summary:     "Get a run",
		Description: "Status, progress (from the workflow while it runs), result or error. Another user's run is 404.",
		Tags:        []string{"runs"},
		Errors:      []int{401, 404, 429, 503},
	}, func(ctx context.Context, in *runIDInput) (*runOutput, error) {
		p, _ := PrincipalFrom(ctx)
		run, err := s.readRun(ctx, p.UserID, in.ID)
		if err != nil {
			return nil, err
		}
		return &runOutput{Body: run}, nil
	})

	huma.Register(s.api, huma.Operation{
		OperationID: "list-runs",
		Method:      http.MethodGet,
		Path:        "/v1/runs",
		Summary:     "List the caller's runs, newest first",
		Tags:        []string{"runs"},
		Errors:      []int{400, 401, 403, 422, 429, 503},
	}, func(ctx context.Context, in *listRunsInput) (*listRunsOutput, error) {
		p, _ := PrincipalFrom(ctx)
		if in.Scope == "workspace" {
			if _, err := requireAdmin(ctx); err != nil {
				return nil, err
			}
		}
		return s.listRuns(ctx, p, in)
	})

	huma.Register(s.api, huma.Operation{
		OperationID:   "cancel-run",
		Method:        http.MethodPost,
		Path:          "/v1/runs/{id}/cancel",
		Summary:       "Cancel a run",
		Description:   "Asks the workflow to stop; it removes what it made. Canceling a canceled run is a no-op; a run that already succeeded or failed is 409.",
		Tags:          []string{"runs"},
		DefaultStatus: http.StatusAccepted,
		Errors:        []int{401, 404, 409, 429, 503},
	}, func(ctx context.Context, in *runIDInput) (*cancelOutput, error) {
		p, _ := PrincipalFrom(ctx)
		run, err := s.cancelRun(ctx, p.UserID, in.ID)
		if err != nil {
			return nil, err
		}
		return &cancelOutput{Body: run}, nil
	})

	s.registerEvents()
}

// ownedRun loads a run the caller owns; anything else is 404.
func (s *Server) ownedRun(ctx context.Context, owner, id string) (sqlc.Run, error) {
	if _, _, err := groundwork.ParseRunID(id); err != nil {
		return sqlc.Run{}, notFound("run")
	}
	row, err := s.q.RunGetForOwner(ctx, sqlc.RunGetForOwnerParams{ID: id, OwnerID: owner})
	if db.IsNotFound(err) {
		return sqlc.Run{}, notFound("run")
	}
	if err != nil {
		return sqlc.Run{}, dependencyError("postgres", err)
	}
	return row, nil
}

func (s *Server) listRuns(ctx context.Context, p Principal, in *listRunsInput) (*listRunsOutput, error) {
	params := sqlc.RunListParams{OwnerID: p.UserID, MaxRows: int32(in.Limit + 1)}
	if in.Kind != "" {
		params.Kind = &in.Kind
	}
	if in.Status != "" {
		st := sqlc.RunStatus(in.Status)
		params.Status = &st
	}
	if in.Cursor != "" {
		t, id, err := decodeCursor(in.Cursor)
		if err != nil {
			return nil, problem(http.StatusBadRequest, groundwork.SlugMalformed, "cursor is not one this API returned")
		}
		params.BeforeCreatedAt, params.BeforeID = &t, id
	}
	var rows []sqlc.Run
	var err error
	if in.Scope == "workspace" {
		rows, err = s.q.RunListWorkspace(ctx, sqlc.RunListWorkspaceParams{
			WorkspaceID: p.WorkspaceID, Kind: params.Kind, Status: params.Status,
			BeforeCreatedAt: params.BeforeCreatedAt, BeforeID: params.BeforeID, MaxRows: params.MaxRows,
		})
	} else {
		rows, err = s.q.RunList(ctx, params)
	}
	if err != nil {
		return nil, dependencyError("postgres", err)
	}
	out := &listRunsOutput{}
	out.Body.Runs = make([]Run, 0, len(rows))
	for i, row := range rows {
		if i == in.Limit {
			last := rows[i-1]
			out.Body.NextCursor = encodeCursor(last.CreatedAt, last.ID)
			break
		}
		out.Body.Runs = append(out.Body.Runs, s.runFromRow(row, nil))
	}
	return out, nil
}

func encodeCursor(t time.Time, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(t.UTC().Format(time.RFC3339Nano) + "|" + id))
}

func decodeCursor(c string) (time.Time, string, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return time.Time{}, "", err
	}
	ts, id, ok := strings.Cut(string(b), "|")
	if !ok {
		return time.Time{}, "", errors.New("bad cursor")
	}
	t, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil {
		return time.Time{}, "", err
	}
	return t, id, nil
}

// runFromRow renders a stored run; live, when set, is the workflow's
// current progress for an open run.
func (s *Server) runFromRow(row sqlc.Run, live *groundwork.Progress) Run {
	run := Run{
		ID:        row.ID,
		Kind:      row.Kind,
		Status:    string(row.Status),
		CreatedAt: row.CreatedAt.UTC(),
		UpdatedAt: row.UpdatedAt.UTC(),
	}
	var p groundwork.Progress
	switch {
	case live != nil:
		p = *live
		if p.UpdatedAt.After(run.UpdatedAt) {
			run.UpdatedAt = p.UpdatedAt.UTC()
		}
	case len(row.Progress) > 0:
		_ = json.Unmarshal(row.Progress, &p)
	default:
		p = groundwork.Progress{Stage: string(row.Status), UpdatedAt: row.UpdatedAt}
	}
	run.Progress = progressOf(p)
	if len(row.Result) > 0 && row.Status == sqlc.RunStatusSucceeded {
		var res map[string]any
		if err := json.Unmarshal(row.Result, &res); err == nil {
			s.decorateResult(row, res)
			run.Result = res
		}
	}
	if len(row.Error) > 0 {
		var e RunError
		if err := json.Unmarshal(row.Error, &e); err == nil {
			run.Error = &e
		}
	}
	return run
}

// decorateResult adds what is computed at read time, such as a fresh
// signed download link.
func (s *Server) decorateResult(row sqlc.Run, res map[string]any) {
	if row.Kind == string(groundwork.KindExport) {
		// An export past its TTL has no file left to link to.
		if id, ok := res["export_id"].(string); ok && res["expired"] != true {
			res["download_url"] = s.downloadURL(id)
		}
	}
}

func (s *Server) cancelRun(ctx context.Context, owner, id string) (Run, error) {
	row, err := s.ownedRun(ctx, owner, id)
	if err != nil {
		return Run{}, err
	}
	if row.ClosedAt != nil {
		if row.Status == sqlc.RunStatusCanceled {
			return s.runFromRow(row, nil), nil
		}
		return Run{}, problem(http.StatusConflict, groundwork.SlugRunClosed, fmt.Sprintf("the run already %s", row.Status))
	}
	tctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	err = s.d.Temporal.CancelWorkflow(tctx, id, "")
	var notFoundErr *serviceerror.NotFound
	switch {
	case err == nil:
	case errors.As(err, &notFoundErr):
		// Closed between our read and the cancel: report what it became.
	default:
		return Run{}, dependencyError("temporal", err)
	}
	return s.readRun(ctx, owner, id)
}
