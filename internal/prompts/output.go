package prompts

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// maxCandidates bounds how many '{' positions ParseOutput tries to decode
// from, keeping it linear on pathological answers (thousands of unclosed
// braces) while leaving room for prose that mentions braces.
const maxCandidates = 64

// maxProblems bounds the problems an error lists, so a long broken array
// does not produce a kilobyte-long warning.
const maxProblems = 10

// ParseOutput extracts the JSON object from a model answer, tolerating
// ```json fences and prose around it, checks that every output field is
// present with the right JSON type, and returns the output fields (keys the
// template does not define are dropped). The error says what is wrong.
func (t Template) ParseOutput(text string) (map[string]any, error) {
	if !t.Structured() {
		return nil, fmt.Errorf("template %s has no output fields", t.Key())
	}
	obj, err := findObject(text, t.OutputFields)
	if err != nil {
		return nil, err
	}
	var problems []string
	out := make(map[string]any, len(t.OutputFields))
	for _, f := range t.OutputFields {
		v, ok := obj[f.Name]
		if !ok {
			problems = append(problems, fmt.Sprintf("missing field %q", f.Name))
			continue
		}
		if p := checkValue(f, f.Name, v); len(p) > 0 {
			problems = append(problems, p...)
			continue
		}
		out[f.Name] = v
	}
	if len(problems) > 0 {
		if len(problems) > maxProblems {
			problems = append(problems[:maxProblems], fmt.Sprintf("and %d more", len(problems)-maxProblems))
		}
		return nil, errors.New("the answer's JSON does not match the template: " + strings.Join(problems, "; "))
	}
	return out, nil
}

// findObject returns the first JSON object in text that has every output
// field's key, or else the first JSON object (so the caller can report what
// is missing). Models wrap JSON in fences or a sentence despite being told
// not to; decoding from each '{' handles both without parsing Markdown.
func findObject(text string, fields []OutputField) (map[string]any, error) {
	var first map[string]any
	truncated := false
	for i, attempts := 0, 0; i < len(text) && attempts < maxCandidates; attempts++ {
		j := strings.IndexByte(text[i:], '{')
		if j < 0 {
			break
		}
		i += j
		dec := json.NewDecoder(strings.NewReader(text[i:]))
		var obj map[string]any
		if err := dec.Decode(&obj); err != nil {
			truncated = truncated || errors.Is(err, io.ErrUnexpectedEOF)
			i++
			continue
		}
		if hasKeys(obj, fields) {
			return obj, nil
		}
		if first == nil {
			first = obj
		}
		// Skip the object's own nested braces.
		i += max(int(dec.InputOffset()), 1)
	}
	switch {
	case first != nil:
		return first, nil
	case truncated:
		return nil, errors.New("the answer holds no complete JSON object; it may have been cut off at max_tokens")
	default:
		return nil, errors.New("the answer holds no JSON object")
	}
}

func hasKeys(obj map[string]any, fields []OutputField) bool {
	for _, f := range fields {
		if _, ok := obj[f.Name]; !ok {
			return false
		}
	}
	return true
}

// checkValue checks v against f and returns the problems found, each
// naming the value's path, e.g. `emails[1].subject is a number, expected
// string`.
func checkValue(f OutputField, at string, v any) []string {
	if jsonType(v) != f.Type {
		return []string{fmt.Sprintf("%s is %s, expected %s", at, article(jsonType(v)), typeLabel(f))}
	}
	var problems []string
	switch v := v.(type) {
	case []any:
		for i, e := range v {
			p := fmt.Sprintf("%s[%d]", at, i)
			if f.Items != "" && jsonType(e) != f.Items {
				problems = append(problems, fmt.Sprintf("%s is %s, expected %s", p, article(jsonType(e)), f.Items))
				continue
			}
			if m, ok := e.(map[string]any); ok && len(f.Fields) > 0 {
				problems = append(problems, checkObject(f.Fields, p, m)...)
			}
		}
	case map[string]any:
		problems = checkObject(f.Fields, at, v)
	}
	return problems
}

func checkObject(fields []OutputField, at string, m map[string]any) []string {
	var problems []string
	for _, f := range fields {
		v, ok := m[f.Name]
		if !ok {
			problems = append(problems, fmt.Sprintf("%s: missing field %q", at, f.Name))
			continue
		}
		problems = append(problems, checkValue(f, at+"."+f.Name, v)...)
	}
	return problems
}

// jsonType names the JSON type of a value decoded by encoding/json.
func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "boolean"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	default:
		return fmt.Sprintf("%T", v)
	}
}

func article(typ string) string {
	switch typ {
	case "null":
		return "null"
	case "array", "object":
		return "an " + typ
	default:
		return "a " + typ
	}
}
