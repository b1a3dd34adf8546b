// Package prompts holds the versioned prompt templates of the LLM generation
// feature: what each template asks the model, the input schema the API
// validates requests against (and the frontend builds its forms from), and
// the shape of the JSON answer structured templates expect.
//
// Each template is a pair of embedded files, templates/<name>.json (metadata
// and schema) and templates/<name>.tmpl (a text/template defining "system"
// and "user"). They are parsed and checked once at init, so a broken template
// stops the process at start-up rather than failing a customer's request.
package prompts

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"text/template"

	"github.com/danielgtaylor/huma/v2"
)

// Template is one prompt template: its metadata, input schema and parsed
// prompt text. Values returned by All and Get are copies, so callers may
// modify them without affecting other requests.
type Template struct {
	// Name identifies the template in API requests, e.g. "company-summary".
	Name string `json:"name"`
	// Version is bumped whenever the prompt or schema changes; it is part of
	// the response-cache key, so an old answer is never served for a new
	// prompt.
	Version int `json:"version"`
	// Title is the short human-readable name shown in the UI.
	Title string `json:"title"`
	// Description tells users what the template produces and when to use it.
	Description string `json:"description"`
	// MaxTokens is the default max_tokens of a generation with this template.
	MaxTokens int64 `json:"max_tokens"`
	// InputSchema is the JSON Schema of the inputs, served to the frontend
	// verbatim so that it keeps the file's property order for form layout.
	InputSchema json.RawMessage `json:"input_schema"`
	// OutputFields lists the keys of the JSON answer of a structured template;
	// it is empty for templates whose answer is free text.
	OutputFields []OutputField `json:"output_fields,omitempty"`
	// Example is a valid set of inputs, used by tests and documentation.
	Example map[string]any `json:"example"`

	schema      *huma.Schema
	tmpl        *template.Template
	fingerprint string
}

// OutputField is one key of a structured template's JSON answer.
type OutputField struct {
	// Name is the JSON key.
	Name string `json:"name"`
	// Type is the JSON type of the value: "string", "array" or "object" at
	// the top level; nested fields may also be "number" or "boolean".
	Type string `json:"type"`
	// Description tells the model (and the frontend) what the value holds.
	Description string `json:"description"`
	// Items is the JSON type of each element of an array field ("string",
	// "number", "boolean" or "object"); empty allows any element.
	Items string `json:"items,omitempty"`
	// Fields are the keys of an object field, or of each element of an array
	// field whose Items is "object".
	Fields []OutputField `json:"fields,omitempty"`
}

// Key returns "<name>@v<version>", the template's part of a cache key.
func (t Template) Key() string {
	return t.Name + "@v" + strconv.Itoa(t.Version)
}

// Structured reports whether the template asks for a JSON answer with
// OutputFields rather than free text.
func (t Template) Structured() bool {
	return len(t.OutputFields) > 0
}

//go:embed templates
var embedded embed.FS

// registry holds every template, sorted by name. It is built at init so that
// a broken template file fails every test and every start-up, loudly.
var registry = mustLoad(embedded)

func mustLoad(fsys fs.FS) []Template {
	ts, err := load(fsys)
	if err != nil {
		panic("prompts: " + err.Error())
	}
	return ts
}

// All returns every template, sorted by name.
func All() []Template {
	out := make([]Template, len(registry))
	for i, t := range registry {
		out[i] = t.clone()
	}
	return out
}

// Get returns the template with the given name.
func Get(name string) (Template, bool) {
	i, ok := slices.BinarySearchFunc(registry, name, func(t Template, name string) int {
		return strings.Compare(t.Name, name)
	})
	if !ok {
		return Template{}, false
	}
	return registry[i].clone(), true
}

// clone copies the exported reference-typed fields, which callers might
// modify (an API handler adding a field to Example, say); the parsed schema
// and template are only ever read and are shared.
func (t Template) clone() Template {
	t.InputSchema = bytes.Clone(t.InputSchema)
	t.OutputFields = cloneFields(t.OutputFields)
	t.Example, _ = cloneValue(t.Example).(map[string]any)
	return t
}

func cloneFields(fs []OutputField) []OutputField {
	if fs == nil {
		return nil
	}
	out := make([]OutputField, len(fs))
	for i, f := range fs {
		f.Fields = cloneFields(f.Fields)
		out[i] = f
	}
	return out
}

// cloneValue deep-copies a value decoded from JSON.
func cloneValue(v any) any {
	switch v := v.(type) {
	case map[string]any:
		if v == nil {
			return v
		}
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = cloneValue(e)
		}
		return out
	case []any:
		if v == nil {
			return v
		}
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = cloneValue(e)
		}
		return out
	default:
		return v
	}
}

const templateDir = "templates"

// rxName keeps template names URL- and cache-key-safe.
var rxName = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// load reads and checks every template pair under templates/ in fsys.
func load(fsys fs.FS) ([]Template, error) {
	entries, err := fs.ReadDir(fsys, templateDir)
	if err != nil {
		return nil, err
	}
	files := map[string]bool{}
	for _, e := range entries {
		if !e.IsDir() {
			files[e.Name()] = true
		}
	}
	var out []Template
	for _, name := range sortedKeys(files) {
		base, ext := strings.TrimSuffix(name, path.Ext(name)), path.Ext(name)
		switch ext {
		case ".json":
			if !files[base+".tmpl"] {
				return nil, fmt.Errorf("%s/%s has no matching %s.tmpl", templateDir, name, base)
			}
		case ".tmpl":
			if !files[base+".json"] {
				return nil, fmt.Errorf("%s/%s has no matching %s.json", templateDir, name, base)
			}
			continue
		default:
			return nil, fmt.Errorf("%s/%s: unexpected file; templates are <name>.json and <name>.tmpl pairs", templateDir, name)
		}
		t, err := loadOne(fsys, base)
		if err != nil {
			return nil, fmt.Errorf("template %s: %w", base, err)
		}
		out = append(out, t)
	}
	if len(out) == 0 {
		return nil, errors.New("no templates found")
	}
	slices.SortFunc(out, func(a, b Template) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

func loadOne(fsys fs.FS, base string) (Template, error) {
	meta, err := fs.ReadFile(fsys, path.Join(templateDir, base+".json"))
	if err != nil {
		return Template{}, err
	}
	text, err := fs.ReadFile(fsys, path.Join(templateDir, base+".tmpl"))
	if err != nil {
		return Template{}, err
	}

	var t Template
	dec := json.NewDecoder(bytes.NewReader(meta))
	dec.DisallowUnknownFields() // a misspelt key would otherwise be silently dropped
	if err := dec.Decode(&t); err != nil {
		return Template{}, fmt.Errorf("%s.json: %w", base, err)
	}
	switch {
	case t.Name != base:
		return Template{}, fmt.Errorf("name %q does not match the file name %q", t.Name, base)
	case !rxName.MatchString(t.Name):
		return Template{}, fmt.Errorf("name %q must be lowercase words joined by hyphens", t.Name)
	case t.Version < 1:
		return Template{}, fmt.Errorf("version must be >= 1, got %d", t.Version)
	case strings.TrimSpace(t.Title) == "":
		return Template{}, errors.New("title is empty")
	case strings.TrimSpace(t.Description) == "":
		return Template{}, errors.New("description is empty")
	case t.MaxTokens < 1 || t.MaxTokens > 32000:
		return Template{}, fmt.Errorf("max_tokens must be in 1..32000, got %d", t.MaxTokens)
	case t.Example == nil:
		return Template{}, errors.New("example is missing")
	}

	if t.schema, err = parseSchema(t.InputSchema); err != nil {
		return Template{}, fmt.Errorf("input_schema: %w", err)
	}
	if err := checkOutputFields(t.OutputFields, "output_fields", true); err != nil {
		return Template{}, err
	}
	if t.tmpl, err = parseTemplate(base, string(text), t.OutputFields); err != nil {
		return Template{}, err
	}
	if errs := t.Validate(t.Example); len(errs) > 0 {
		return Template{}, fmt.Errorf("example: %w", &InputError{Errors: errs})
	}
	// Rendering the example at load catches template errors that parsing
	// cannot, such as a reference to an input the schema does not define.
	_, user, err := t.Render(t.Example)
	if err != nil {
		return Template{}, fmt.Errorf("example: %w", err)
	}
	if t.Structured() && !strings.Contains(user, outputFormat(t.OutputFields)) {
		return Template{}, errors.New(`the user prompt of a template with output_fields must include {{outputFormat}}`)
	}
	t.fingerprint = fingerprint(t, text)
	return t, nil
}

// fingerprint hashes everything that changes what the model is asked, so a
// test can insist that any such change comes with a version bump.
func fingerprint(t Template, text []byte) string {
	var schema bytes.Buffer
	_ = json.Compact(&schema, t.InputSchema) // already parsed, so valid
	fields, _ := json.Marshal(t.OutputFields)
	h := sha256.New()
	for _, part := range [][]byte{text, schema.Bytes(), fields, []byte(strconv.FormatInt(t.MaxTokens, 10))} {
		// Length-prefix each part so that moving bytes between parts changes
		// the hash.
		fmt.Fprintf(h, "%d:", len(part))
		h.Write(part)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// topLevelTypes are the output types the frontend knows how to display.
var topLevelTypes = []string{"string", "array", "object"}

// nestedTypes are the output types allowed inside arrays and objects.
var nestedTypes = []string{"string", "number", "boolean", "array", "object"}

func checkOutputFields(fields []OutputField, where string, top bool) error {
	seen := map[string]bool{}
	for i, f := range fields {
		at := fmt.Sprintf("%s[%d]", where, i)
		allowed := nestedTypes
		if top {
			allowed = topLevelTypes
		}
		switch {
		case strings.TrimSpace(f.Name) == "":
			return fmt.Errorf("%s: name is empty", at)
		case seen[f.Name]:
			return fmt.Errorf("%s: duplicate name %q", at, f.Name)
		case !slices.Contains(allowed, f.Type):
			return fmt.Errorf("%s (%s): type %q is not one of %s", at, f.Name, f.Type, strings.Join(allowed, ", "))
		case strings.TrimSpace(f.Description) == "":
			return fmt.Errorf("%s (%s): description is empty", at, f.Name)
		case f.Items != "" && (f.Type != "array" || !slices.Contains(nestedTypes, f.Items) || f.Items == "array"):
			return fmt.Errorf("%s (%s): items %q needs type array and one of string, number, boolean, object", at, f.Name, f.Items)
		case len(f.Fields) > 0 && f.Type != "object" && f.Items != "object":
			return fmt.Errorf("%s (%s): fields need type object or items object", at, f.Name)
		}
		seen[f.Name] = true
		if err := checkOutputFields(f.Fields, at+".fields", false); err != nil {
			return err
		}
	}
	return nil
}

// sortedKeys returns a map's keys in order, for deterministic iteration.
func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}
