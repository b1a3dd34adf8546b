package groundwork

import (
	"fmt"
	"slices"
	"strings"
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

// Templates is the catalogue of prompt templates a generation request is
// checked against; internal/prompts.Catalog is the one Groundwork ships.
type Templates interface {
	// TemplateNames lists the templates, for the error that names an
	// unknown one.
	TemplateNames() []string
	// CheckInputs returns the errors of inputs against template name's
	// input schema, with fields named from the request body ("inputs.x"),
	// and false when there is no such template.
	CheckInputs(name string, inputs map[string]any) ([]FieldError, bool)
}

// LLMProvider is a configured LLM provider as a request sees it: its name
// and the models a request may ask of it.
type LLMProvider struct {
	Name string
	// Models are the models a request may name (<NAME>_MODELS), the
	// configured model by default: a free-text model would let a caller
	// pick any model of the provider at any price.
	Models []string
}

// Validate checks the request against the template's input schema and the
// configured providers and their allowed models. Field names are those of
// the JSON body.
func (r GenerateRequest) Validate(templates Templates, providers []LLMProvider) []FieldError {
	errs, ok := templates.CheckInputs(r.Template, r.InputsOrEmpty())
	if !ok {
		return []FieldError{{Field: "template", Message: fmt.Sprintf("unknown template %q; one of: %s", r.Template, strings.Join(templates.TemplateNames(), ", "))}}
	}
	names := make([]string, len(providers))
	for i, p := range providers {
		names[i] = p.Name
	}
	if r.Provider != "" && !slices.Contains(names, r.Provider) {
		errs = append(errs, FieldError{Field: "provider", Message: fmt.Sprintf("no provider %q is configured; configured: %s", r.Provider, strings.Join(names, ", "))})
		return errs
	}
	if r.Model != "" && len(providers) > 0 {
		// The model is asked of the provider tried first.
		first := providers[0]
		for _, p := range providers {
			if p.Name == r.Provider {
				first = p
			}
		}
		if !slices.Contains(first.Models, r.Model) {
			errs = append(errs, FieldError{Field: "model", Message: fmt.Sprintf("model %q is not allowed for %s; allowed: %s", r.Model, first.Name, strings.Join(first.Models, ", "))})
		}
	}
	return errs
}

// InputsOrEmpty returns the inputs, an empty map when none were sent, as
// templates validate and render them.
func (r GenerateRequest) InputsOrEmpty() map[string]any {
	if r.Inputs == nil {
		return map[string]any{}
	}
	return r.Inputs
}
