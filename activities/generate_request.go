package activities

import (
	"fmt"
	"slices"
	"strings"

	"github.com/groundwork-dev/groundwork/internal/document"
	"github.com/groundwork-dev/groundwork/internal/prompts"
)

// Cache modes of a generation request.
const (
	// CacheUse serves a fresh cached answer when there is one.
	CacheUse = "use"
	// CacheBypass always calls a provider; the fresh answer replaces the
	// cached one.
	CacheBypass = "bypass"
)

// GenerateRequest is the body of POST /v1/generations, stored as the run's
// input and loaded by LLMGenerate.
type GenerateRequest struct {
	Template  string         `json:"template" minLength:"1" maxLength:"100" doc:"A template name from GET /v1/generations/templates." example:"company-summary"`
	Inputs    map[string]any `json:"inputs" doc:"The template's inputs, as its input_schema describes."`
	Provider  string         `json:"provider,omitempty" maxLength:"32" doc:"Try this configured provider first; the rest of the chain stays as fallback."`
	Model     string         `json:"model,omitempty" maxLength:"200" doc:"Model for the first provider tried; fallbacks use their default model."`
	MaxTokens int64          `json:"max_tokens,omitempty" minimum:"1" maximum:"32000" doc:"Most tokens to generate; default the template's."`
	Cache     string         `json:"cache,omitempty" enum:"use,bypass" doc:"use (default): serve a fresh cached answer; bypass: always call a provider."`
}

// Validate checks the request against the template's input schema and the
// configured providers, and returns the template. Field names are those of
// the JSON body.
func (r GenerateRequest) Validate(providers []string) (prompts.Template, []document.FieldError) {
	t, ok := prompts.Get(r.Template)
	if !ok {
		names := make([]string, 0, len(prompts.All()))
		for _, t := range prompts.All() {
			names = append(names, t.Name)
		}
		return t, []document.FieldError{{Field: "template", Message: fmt.Sprintf("unknown template %q; one of: %s", r.Template, strings.Join(names, ", "))}}
	}
	var errs []document.FieldError
	for _, e := range t.Validate(r.inputs()) {
		errs = append(errs, document.FieldError{Field: e.Field, Message: e.Message})
	}
	if r.Provider != "" && !slices.Contains(providers, r.Provider) {
		errs = append(errs, document.FieldError{Field: "provider", Message: fmt.Sprintf("no provider %q is configured; configured: %s", r.Provider, strings.Join(providers, ", "))})
	}
	return t, errs
}

func (r GenerateRequest) inputs() map[string]any {
	if r.Inputs == nil {
		return map[string]any{}
	}
	return r.Inputs
}
