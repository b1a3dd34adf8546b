package api

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/groundwork-dev/groundwork"
	"github.com/groundwork-dev/groundwork/db"
	"github.com/groundwork-dev/groundwork/db/sqlc"
)

// AssessmentDefinitionVersion is one version of a definition.
type AssessmentDefinitionVersion struct {
	Version    int                             `json:"version"`
	CreatedAt  time.Time                       `json:"created_at"`
	CreatedBy  string                          `json:"created_by"`
	Definition groundwork.AssessmentDefinition `json:"definition"`
}

type definitionInput struct {
	Body groundwork.AssessmentDefinition
}

type definitionGetInput struct {
	Slug    string `path:"slug" maxLength:"64" doc:"The definition's slug."`
	Version int    `query:"version" minimum:"0" maximum:"1000000" doc:"A version; the latest by default."`
}

type definitionOutput struct {
	Status int
	Body   AssessmentDefinitionVersion
}

type definitionListOutput struct {
	Body struct {
		Definitions []AssessmentDefinitionVersion `json:"definitions" doc:"The latest version of each."`
	}
}

type startAssessmentInput struct {
	StartHeaders
	Body groundwork.AssessmentRequest
}

type assessmentIDInput struct {
	ID string `path:"id" maxLength:"100" doc:"Assessment ID (the ID of the run that scored it)."`
}

type assessmentOutput struct {
	Body groundwork.AssessmentResult
}

func definitionView(row sqlc.AssessmentDefinition) (AssessmentDefinitionVersion, error) {
	v := AssessmentDefinitionVersion{Version: int(row.Version), CreatedAt: row.CreatedAt, CreatedBy: row.CreatedBy}
	if err := json.Unmarshal(row.Body, &v.Definition); err != nil {
		return v, fmt.Errorf("definition %s v%d: %w", row.Slug, row.Version, err)
	}
	return v, nil
}

func (s *Server) registerAssessments() {
	huma.Register(s.api, huma.Operation{
		OperationID: "publish-assessment-definition", Method: http.MethodPost, Path: "/v1/assessment-definitions",
		Summary: "Publish an assessment definition", Tags: []string{"assessments"}, DefaultStatus: http.StatusCreated,
		Description: "Admin only. Stores the definition as the next version of its slug (201), or answers the latest version (200) when it is unchanged. Results keep the version they were scored with.",
		Errors:      []int{400, 401, 403, 409, 413, 422, 429, 503},
	}, func(ctx context.Context, in *definitionInput) (*definitionOutput, error) {
		p, err := requireAdmin(ctx)
		if err != nil {
			return nil, err
		}
		d := in.Body
		if errs := d.Validate(); len(errs) > 0 {
			return nil, problem(http.StatusUnprocessableEntity, groundwork.SlugValidation, "the definition is invalid", errs...)
		}
		body, err := json.Marshal(d)
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(body)
		latest, err := s.q.AssessmentDefinitionLatest(ctx, sqlc.AssessmentDefinitionLatestParams{WorkspaceID: p.WorkspaceID, Slug: d.Slug})
		version := int32(1)
		switch {
		case err == nil && string(latest.BodyHash) == string(sum[:]):
			v, err := definitionView(latest)
			return &definitionOutput{Status: http.StatusOK, Body: v}, err
		case err == nil:
			version = latest.Version + 1
		case !db.IsNotFound(err):
			return nil, dependencyError("postgres", err)
		}
		row, err := s.q.AssessmentDefinitionInsert(ctx, sqlc.AssessmentDefinitionInsertParams{WorkspaceID: p.WorkspaceID, Slug: d.Slug,
			Version: version, Body: body, BodyHash: sum[:], CreatedBy: p.UserID})
		if db.IsUniqueViolation(err) {
			return nil, problem(http.StatusConflict, groundwork.SlugConflict, "another version of this definition was published at the same moment; retry")
		}
		if err != nil {
			return nil, dependencyError("postgres", err)
		}
		v, err := definitionView(row)
		return &definitionOutput{Status: http.StatusCreated, Body: v}, err
	})

	huma.Register(s.api, huma.Operation{
		OperationID: "list-assessment-definitions", Method: http.MethodGet, Path: "/v1/assessment-definitions",
		Summary: "List your workspace's assessment definitions", Tags: []string{"assessments"}, Errors: []int{401, 429, 503},
	}, func(ctx context.Context, _ *struct{}) (*definitionListOutput, error) {
		p, _ := PrincipalFrom(ctx)
		rows, err := s.q.AssessmentDefinitionList(ctx, p.WorkspaceID)
		if err != nil {
			return nil, dependencyError("postgres", err)
		}
		out := &definitionListOutput{}
		out.Body.Definitions = make([]AssessmentDefinitionVersion, 0, len(rows))
		for _, r := range rows {
			v, err := definitionView(r)
			if err != nil {
				return nil, err
			}
			out.Body.Definitions = append(out.Body.Definitions, v)
		}
		return out, nil
	})

	huma.Register(s.api, huma.Operation{
		OperationID: "get-assessment-definition", Method: http.MethodGet, Path: "/v1/assessment-definitions/{slug}",
		Summary: "Get an assessment definition", Tags: []string{"assessments"}, Errors: []int{401, 404, 429, 503},
	}, func(ctx context.Context, in *definitionGetInput) (*definitionOutput, error) {
		p, _ := PrincipalFrom(ctx)
		row, err := s.definition(ctx, p.WorkspaceID, in.Slug, in.Version)
		if err != nil {
			return nil, err
		}
		v, err := definitionView(row)
		return &definitionOutput{Status: http.StatusOK, Body: v}, err
	})

	huma.Register(s.api, huma.Operation{
		OperationID: "start-assessment", Method: http.MethodPost, Path: "/v1/assessments",
		Summary: "Score an assessment", Tags: []string{"assessments"}, DefaultStatus: http.StatusAccepted,
		Description: "Checks the answers against the definition version (422 naming each bad answer before any work starts), then starts an Assessment run: score per category and overall, maturity level, percentile in the workspace's cohort of the version, milestones, recommendations. The run's result renders to PDF or DOCX with POST /v1/exports {\"source\": {\"run_id\"}}.",
		Errors:      []int{400, 401, 409, 413, 422, 429, 503},
	}, func(ctx context.Context, in *startAssessmentInput) (*startRunOutput, error) {
		p, _ := PrincipalFrom(ctx)
		req := in.Body
		if _, err := s.q.CustomerGet(ctx, sqlc.CustomerGetParams{ID: req.CustomerID, WorkspaceID: p.WorkspaceID}); db.IsNotFound(err) {
			return nil, problem(http.StatusUnprocessableEntity, groundwork.SlugValidation, "the assessment is invalid",
				groundwork.FieldError{Field: "customer_id", Message: "no such customer in your workspace"})
		} else if err != nil {
			return nil, dependencyError("postgres", err)
		}
		row, err := s.definition(ctx, p.WorkspaceID, req.Definition, req.Version)
		if err != nil {
			if pr, ok := err.(*Problem); ok && pr.Status == http.StatusNotFound {
				return nil, problem(http.StatusUnprocessableEntity, groundwork.SlugValidation, "the assessment is invalid",
					groundwork.FieldError{Field: "definition", Message: "no such definition (or version) in your workspace"})
			}
			return nil, err
		}
		v, err := definitionView(row)
		if err != nil {
			return nil, err
		}
		if errs := v.Definition.CheckAnswers(req.Answers); len(errs) > 0 {
			return nil, problem(http.StatusUnprocessableEntity, groundwork.SlugValidation, fmt.Sprintf("%d answers are invalid", len(errs)), errs...)
		}
		req.Version = v.Version // the stored request names the version it is scored with
		body, err := json.Marshal(req)
		if err != nil {
			return nil, err
		}
		return s.startOutput(ctx, groundwork.KindAssessment, in.StartHeaders, body)
	})

	huma.Register(s.api, huma.Operation{
		OperationID: "get-assessment", Method: http.MethodGet, Path: "/v1/assessments/{id}",
		Summary: "Get a scored assessment", Tags: []string{"assessments"},
		Description: "A scored assessment of your workspace, by the ID of the run that scored it.",
		Errors:      []int{401, 404, 429, 503},
	}, func(ctx context.Context, in *assessmentIDInput) (*assessmentOutput, error) {
		p, _ := PrincipalFrom(ctx)
		res, err := db.AssessmentResultOf(ctx, s.q, in.ID, p.WorkspaceID)
		if db.IsNotFound(err) {
			return nil, notFound("assessment")
		}
		if err != nil {
			return nil, dependencyError("postgres", err)
		}
		return &assessmentOutput{Body: res}, nil
	})
}

// definition loads a definition version of the workspace (its latest for 0).
func (s *Server) definition(ctx context.Context, workspace, slug string, version int) (sqlc.AssessmentDefinition, error) {
	var row sqlc.AssessmentDefinition
	var err error
	if version > 0 {
		row, err = s.q.AssessmentDefinitionGet(ctx, sqlc.AssessmentDefinitionGetParams{WorkspaceID: workspace, Slug: slug, Version: int32(version)})
	} else {
		row, err = s.q.AssessmentDefinitionLatest(ctx, sqlc.AssessmentDefinitionLatestParams{WorkspaceID: workspace, Slug: slug})
	}
	if db.IsNotFound(err) {
		return row, notFound("assessment definition")
	}
	if err != nil {
		return row, dependencyError("postgres", err)
	}
	return row, nil
}
