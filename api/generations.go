package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/groundwork-dev/groundwork"
	"github.com/groundwork-dev/groundwork/db"
	"github.com/groundwork-dev/groundwork/db/sqlc"
	"github.com/groundwork-dev/groundwork/internal/prompts"
)

type startGenerationInput struct {
	StartHeaders
	Body    groundwork.GenerateRequest
	RawBody []byte
}

// TemplateInfo describes a prompt template for the frontend's forms.
type TemplateInfo struct {
	Name         string                `json:"name" example:"company-summary"`
	Version      int                   `json:"version" doc:"Bumped whenever the prompt or schema changes; part of the cache key."`
	Title        string                `json:"title"`
	Description  string                `json:"description"`
	MaxTokens    int64                 `json:"max_tokens" doc:"Default max_tokens."`
	InputSchema  json.RawMessage       `json:"input_schema" doc:"JSON Schema of the template's inputs."`
	OutputFields []prompts.OutputField `json:"output_fields,omitempty" doc:"The structured fields of the answer, when the template has them."`
	Example      map[string]any        `json:"example,omitempty" doc:"Valid inputs."`
}

type templatesOutput struct {
	Body struct {
		Templates []TemplateInfo `json:"templates"`
	}
}

// Generation is a succeeded generation's answer.
type Generation struct {
	ID string `json:"id" doc:"The generation's run ID."`
	groundwork.GenerationResult
}

type generationOutput struct {
	Body Generation
}

func (s *Server) registerGenerations() {
	huma.Register(s.api, huma.Operation{
		OperationID:   "start-generation",
		Method:        http.MethodPost,
		Path:          "/v1/generations",
		Summary:       "Start a generation",
		Description:   "Answers a prompt template with an LLM in the background: from the response cache when it can, else from the configured providers in fallback order. Poll the returned run (its progress carries the text streamed so far) or follow its /events. 503 no_llm_provider when no provider is configured.",
		Tags:          []string{"generations"},
		DefaultStatus: http.StatusAccepted,
		Errors:        []int{400, 401, 409, 413, 422, 429, 503},
	}, func(ctx context.Context, in *startGenerationInput) (*startRunOutput, error) {
		// A bad request is told apart from a missing provider: validate first.
		if errs := in.Body.Validate(prompts.Catalog, s.d.LLMProviders); len(errs) > 0 {
			return nil, problem(http.StatusUnprocessableEntity, groundwork.SlugValidation, "the generation request is invalid", errs...)
		}
		if len(s.d.LLMProviders) == 0 {
			return nil, problem(http.StatusServiceUnavailable, groundwork.SlugNoLLMProvider,
				"no LLM provider is configured: set OPENAI_API_KEY or ANTHROPIC_API_KEY, or GROUNDWORK_LLM_PROVIDERS with each provider's <NAME>_BASE_URL, <NAME>_API_KEY and <NAME>_MODEL")
		}
		return s.startOutput(ctx, groundwork.KindGeneration, in.StartHeaders, in.RawBody)
	})

	huma.Register(s.api, huma.Operation{
		OperationID: "list-generation-templates",
		Method:      http.MethodGet,
		Path:        "/v1/generations/templates",
		Summary:     "List the prompt templates",
		Description: "Every template with its version and the JSON Schema of its inputs, so forms can be built from it.",
		Tags:        []string{"generations"},
		Errors:      []int{401, 429},
	}, func(ctx context.Context, _ *struct{}) (*templatesOutput, error) {
		out := &templatesOutput{}
		for _, t := range prompts.All() {
			out.Body.Templates = append(out.Body.Templates, TemplateInfo{
				Name: t.Name, Version: t.Version, Title: t.Title, Description: t.Description,
				MaxTokens: t.MaxTokens, InputSchema: t.InputSchema, OutputFields: t.OutputFields, Example: t.Example,
			})
		}
		return out, nil
	})

	huma.Register(s.api, huma.Operation{
		OperationID: "get-generation",
		Method:      http.MethodGet,
		Path:        "/v1/generations/{id}",
		Summary:     "Get a generation's answer",
		Description: "The text, structured fields, usage, cost, provider, model and whether the cache answered. 409 not_ready while the run has not succeeded; another user's generation is 404.",
		Tags:        []string{"generations"},
		Errors:      []int{401, 404, 409, 429, 503},
	}, func(ctx context.Context, in *runIDInput) (*generationOutput, error) {
		p, _ := PrincipalFrom(ctx)
		if kind, _, err := groundwork.ParseRunID(in.ID); err != nil || kind != groundwork.KindGeneration {
			return nil, notFound("generation")
		}
		run, err := s.readRun(ctx, p.UserID, in.ID)
		if err != nil {
			return nil, err
		}
		if run.Status != string(sqlc.RunStatusSucceeded) {
			detail := fmt.Sprintf("the generation is %s; poll /v1/runs/%s until it succeeds", run.Status, run.ID)
			if run.Error != nil {
				detail = fmt.Sprintf("the generation %s: %s", run.Status, run.Error.Message)
			}
			return nil, problem(http.StatusConflict, groundwork.SlugNotReady, detail)
		}
		g, err := s.q.GenerationGet(ctx, in.ID)
		if db.IsNotFound(err) {
			return nil, notFound("generation")
		}
		if err != nil {
			return nil, dependencyError("postgres", err)
		}
		return &generationOutput{Body: Generation{ID: in.ID, GenerationResult: db.GenerationResultOf(g)}}, nil
	})
}
