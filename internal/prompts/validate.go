package prompts

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/validation"
)

// FieldError names an invalid input field, e.g. {Field: "inputs.company",
// Message: "expected length >= 1"}; nested paths are dotted and array items
// indexed, as in "inputs.proof_points[2]".
type FieldError struct {
	// Field is the path of the offending value, starting with "inputs".
	Field string `json:"field"`
	// Message says what is wrong, in huma's validation wording.
	Message string `json:"message"`
}

// InputError reports inputs that do not match a template's input schema.
type InputError struct {
	// Errors lists every problem, sorted by field.
	Errors []FieldError
}

// Error lists the field errors on one line, fit for a log or a run's error.
func (e *InputError) Error() string {
	parts := make([]string, len(e.Errors))
	for i, f := range e.Errors {
		parts[i] = f.Field + ": " + f.Message
	}
	return "invalid inputs: " + strings.Join(parts, "; ")
}

// validationRegistry resolves $refs during validation; input schemas have
// none, but huma.Validate needs a registry.
var validationRegistry = huma.NewMapRegistry("#/components/schemas/", huma.DefaultSchemaNamer)

// Validate checks inputs (as decoded from JSON: maps, []any, float64,
// string, bool) against the template's input schema and returns one error
// per problem, sorted by field; nil means the inputs are valid. Unknown
// fields are rejected, and names must match exactly: huma matches them
// case-insensitively, but rendering looks them up by exact name, so a
// "Company" would pass validation and then render as if it were missing.
func (t Template) Validate(inputs map[string]any) []FieldError {
	if t.schema == nil {
		return []FieldError{{Field: "template", Message: "unknown template"}}
	}
	var v any = inputs
	if inputs == nil {
		v = map[string]any{}
	}
	var errs []FieldError
	v = stripUnknown(t.schema, "inputs", v, &errs)

	pb := huma.NewPathBuffer(make([]byte, 0, 64), 0)
	pb.Push("inputs")
	res := &huma.ValidateResult{}
	huma.Validate(validationRegistry, t.schema, pb, huma.ModeWriteToServer, v, res)
	for _, err := range res.Errors {
		errs = append(errs, toFieldError(err))
	}

	slices.SortFunc(errs, func(a, b FieldError) int {
		return cmp.Or(strings.Compare(a.Field, b.Field), strings.Compare(a.Message, b.Message))
	})
	// huma reports a duplicate array item once per duplicate.
	return slices.Compact(errs)
}

// stripUnknown reports, and removes from a copy of v, the object keys that
// the schema does not define exactly, so that huma's case-insensitive
// matching never sees them.
func stripUnknown(s *huma.Schema, at string, v any, errs *[]FieldError) any {
	switch v := v.(type) {
	case map[string]any:
		if s.Type != huma.TypeObject {
			return v
		}
		closed := s.AdditionalProperties == false
		out := make(map[string]any, len(v))
		for _, k := range sortedKeys(v) {
			prop, ok := s.Properties[k]
			switch {
			case ok:
				out[k] = stripUnknown(prop, at+"."+k, v[k], errs)
			case closed:
				*errs = append(*errs, FieldError{Field: at + "." + k, Message: validation.MsgUnexpectedProperty})
			default:
				out[k] = v[k]
			}
		}
		return out
	case []any:
		if s.Type != huma.TypeArray || s.Items == nil {
			return v
		}
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = stripUnknown(s.Items, fmt.Sprintf("%s[%d]", at, i), e, errs)
		}
		return out
	default:
		return v
	}
}

// toFieldError converts a huma error. huma reports a missing required
// property at the enclosing object ("inputs"); the API names the property
// itself ("inputs.company") so the frontend can mark that form field.
func toFieldError(err error) FieldError {
	var d *huma.ErrorDetail
	if !errors.As(err, &d) {
		return FieldError{Field: "inputs", Message: err.Error()}
	}
	f := FieldError{Field: d.Location, Message: d.Message}
	if prefix, suffix, ok := strings.Cut(validation.MsgExpectedRequiredProperty, "%s"); ok &&
		len(d.Message) > len(prefix)+len(suffix) &&
		strings.HasPrefix(d.Message, prefix) && strings.HasSuffix(d.Message, suffix) {
		f.Field += "." + d.Message[len(prefix):len(d.Message)-len(suffix)]
	}
	return f
}

// WithDefaults returns a deep copy of inputs with the schema's defaults
// filled in for absent or null properties; inputs itself is not modified.
func (t Template) WithDefaults(inputs map[string]any) map[string]any {
	out, _ := cloneValue(inputs).(map[string]any)
	if out == nil {
		out = map[string]any{}
	}
	if t.schema != nil {
		applyDefaults(t.schema, out)
	}
	return out
}

func applyDefaults(s *huma.Schema, m map[string]any) {
	for _, name := range sortedKeys(s.Properties) {
		prop := s.Properties[name]
		switch v := m[name].(type) {
		case nil:
			if prop.Default != nil {
				m[name] = cloneValue(prop.Default)
			}
		case map[string]any:
			applyDefaults(prop, v)
		case []any:
			if prop.Items != nil {
				for _, e := range v {
					if e, ok := e.(map[string]any); ok {
						applyDefaults(prop.Items, e)
					}
				}
			}
		}
	}
}

// schemaKeywords are the JSON Schema keywords input schemas may use: those
// both huma and the frontend's form builder understand. Anything else,
// including a keyword in the wrong case (which Go's JSON decoding would
// accept but a browser would not), is rejected at load. Extensions ("x-")
// pass through for the frontend.
var schemaKeywords = map[string]bool{
	"type": true, "title": true, "description": true, "default": true, "examples": true,
	"enum": true, "format": true, "pattern": true, "minLength": true, "maxLength": true,
	"minimum": true, "maximum": true, "exclusiveMinimum": true, "exclusiveMaximum": true, "multipleOf": true,
	"items": true, "minItems": true, "maxItems": true, "uniqueItems": true,
	"properties": true, "required": true, "additionalProperties": true,
}

var schemaTypes = []string{
	huma.TypeString, huma.TypeInteger, huma.TypeNumber, huma.TypeBoolean, huma.TypeArray, huma.TypeObject,
}

// parseSchema decodes and checks an input schema and prepares it for
// validation.
func parseSchema(raw json.RawMessage) (*huma.Schema, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, errors.New("missing")
	}
	var generic any
	if err := json.Unmarshal(raw, &generic); err != nil {
		return nil, err
	}
	if err := checkKeywords(generic, "input_schema"); err != nil {
		return nil, err
	}
	var s huma.Schema
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, err
	}
	if s.Type != huma.TypeObject || s.AdditionalProperties != false || len(s.Properties) == 0 {
		return nil, errors.New(`must be {"type": "object", "additionalProperties": false} with properties`)
	}
	if err := checkSchema(&s, "input_schema"); err != nil {
		return nil, err
	}
	s.PrecomputeMessages()
	if err := checkValues(&s, "input_schema"); err != nil {
		return nil, err
	}
	return &s, nil
}

func checkKeywords(v any, at string) error {
	node, ok := v.(map[string]any)
	if !ok {
		return fmt.Errorf("%s: a schema must be a JSON object", at)
	}
	for _, k := range sortedKeys(node) {
		if strings.HasPrefix(k, "x-") {
			continue
		}
		if !schemaKeywords[k] {
			return fmt.Errorf("%s: unsupported keyword %q", at, k)
		}
		switch k {
		case "items":
			if err := checkKeywords(node[k], at+".items"); err != nil {
				return err
			}
		case "properties":
			props, ok := node[k].(map[string]any)
			if !ok {
				return fmt.Errorf("%s.properties: must be an object", at)
			}
			for _, name := range sortedKeys(props) {
				if err := checkKeywords(props[name], at+".properties."+name); err != nil {
					return err
				}
			}
		case "additionalProperties":
			if _, ok := node[k].(bool); !ok {
				return fmt.Errorf("%s.additionalProperties: must be true or false", at)
			}
		}
	}
	return nil
}

// checkSchema checks the structure of a decoded schema, before
// PrecomputeMessages (which panics on a bad pattern).
func checkSchema(s *huma.Schema, at string) error {
	if !slices.Contains(schemaTypes, s.Type) {
		return fmt.Errorf("%s: type %q is not one of %s", at, s.Type, strings.Join(schemaTypes, ", "))
	}
	if s.Pattern != "" {
		if _, err := regexp.Compile(s.Pattern); err != nil {
			return fmt.Errorf("%s: pattern: %w", at, err)
		}
	}
	switch s.Type {
	case huma.TypeArray:
		if s.Items == nil {
			return fmt.Errorf("%s: an array needs items", at)
		}
		return checkSchema(s.Items, at+".items")
	case huma.TypeObject:
		for _, name := range s.Required {
			if _, ok := s.Properties[name]; !ok {
				return fmt.Errorf("%s: required property %q is not defined", at, name)
			}
		}
		for _, name := range sortedKeys(s.Properties) {
			prop := s.Properties[name]
			// The frontend shows the description as the field's help text.
			if strings.TrimSpace(prop.Description) == "" {
				return fmt.Errorf("%s.properties.%s: description is empty", at, name)
			}
			if err := checkSchema(prop, at+".properties."+name); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkValues checks that defaults and enum values satisfy their own
// schema: a default the API would reject is a bug nobody would notice until
// a user left the field empty.
func checkValues(s *huma.Schema, at string) error {
	if s.Default != nil {
		if err := validateValue(s, s.Default); err != nil {
			return fmt.Errorf("%s: default: %w", at, err)
		}
	}
	for _, e := range s.Enum {
		if err := validateValue(s, e); err != nil {
			return fmt.Errorf("%s: enum value %v: %w", at, e, err)
		}
	}
	if s.Items != nil {
		if err := checkValues(s.Items, at+".items"); err != nil {
			return err
		}
	}
	for _, name := range sortedKeys(s.Properties) {
		if err := checkValues(s.Properties[name], at+".properties."+name); err != nil {
			return err
		}
	}
	return nil
}

func validateValue(s *huma.Schema, v any) error {
	res := &huma.ValidateResult{}
	huma.Validate(validationRegistry, s, huma.NewPathBuffer(nil, 0), huma.ModeWriteToServer, v, res)
	return errors.Join(res.Errors...)
}
