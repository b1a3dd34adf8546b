package prompts

import "github.com/groundwork-dev/groundwork"

// Catalog is the shipped templates as the groundwork.Templates a
// generation request is validated against.
var Catalog groundwork.Templates = catalog{}

type catalog struct{}

// TemplateNames lists every template's name, sorted.
func (catalog) TemplateNames() []string {
	names := make([]string, len(registry))
	for i, t := range registry {
		names[i] = t.Name
	}
	return names
}

// CheckInputs validates inputs against the named template's input schema.
func (catalog) CheckInputs(name string, inputs map[string]any) ([]groundwork.FieldError, bool) {
	t, ok := Get(name)
	if !ok {
		return nil, false
	}
	var errs []groundwork.FieldError
	for _, e := range t.Validate(inputs) {
		errs = append(errs, groundwork.FieldError{Field: e.Field, Message: e.Message})
	}
	return errs, true
}
