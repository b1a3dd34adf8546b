package prompts

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
)

var update = flag.Bool("update", false, "add the fingerprints of new template versions to testdata/fingerprints.json")

// required is the set of templates the product depends on.
var required = []string{"buyer-persona", "company-profile", "company-summary", "email-sequence", "icp-analysis", "value-proposition"}

func TestAllSortedAndGet(t *testing.T) {
	all := All()
	var got []string
	for _, tm := range all {
		got = append(got, tm.Name)
	}
	if !slices.IsSorted(got) {
		t.Errorf("All() is not sorted by name: %v", got)
	}
	for _, name := range required {
		if !slices.Contains(got, name) {
			t.Errorf("template %q is missing; have %v", name, got)
		}
		tm, ok := Get(name)
		if !ok || tm.Name != name || tm.tmpl == nil || tm.schema == nil {
			t.Errorf("Get(%q) = %q, %v; want the loaded template", name, tm.Name, ok)
		}
	}
	if _, ok := Get("no-such-template"); ok {
		t.Error(`Get("no-such-template") found a template`)
	}
}

// TestEmbeddedTemplatesLoad loads the embedded files again, so a broken
// template is reported as a test failure with its error rather than only as
// an init panic.
func TestEmbeddedTemplatesLoad(t *testing.T) {
	ts, err := load(embedded)
	if err != nil {
		t.Fatal(err)
	}
	if len(ts) != len(All()) {
		t.Fatalf("load found %d templates, All() has %d", len(ts), len(All()))
	}
}

func TestTemplateMetadata(t *testing.T) {
	for _, tm := range All() {
		t.Run(tm.Name, func(t *testing.T) {
			if tm.Version < 1 || tm.MaxTokens < 1 || tm.Title == "" || tm.Description == "" {
				t.Errorf("incomplete metadata: version %d, max_tokens %d, title %q, description %q", tm.Version, tm.MaxTokens, tm.Title, tm.Description)
			}
			// The frontend reads the schema itself, so check the raw JSON,
			// not huma's view of it.
			var schema struct {
				Type                 string                     `json:"type"`
				Properties           map[string]json.RawMessage `json:"properties"`
				Required             []string                   `json:"required"`
				AdditionalProperties *bool                      `json:"additionalProperties"`
			}
			if err := json.Unmarshal(tm.InputSchema, &schema); err != nil {
				t.Fatalf("input_schema: %v", err)
			}
			if schema.Type != "object" || schema.AdditionalProperties == nil || *schema.AdditionalProperties {
				t.Errorf("input_schema must be an object with additionalProperties false")
			}
			if len(schema.Required) == 0 {
				t.Errorf("input_schema requires nothing")
			}
			// An example that sets every input documents every field and lets
			// the rendering test check that every input reaches the prompt.
			for name := range schema.Properties {
				if _, ok := tm.Example[name]; !ok {
					t.Errorf("example does not set input %q", name)
				}
			}
			if !tm.Structured() {
				t.Errorf("template has no output_fields")
			}
		})
	}
}

func TestExampleValidatesAndRenders(t *testing.T) {
	for _, tm := range All() {
		t.Run(tm.Name, func(t *testing.T) {
			if errs := tm.Validate(tm.Example); errs != nil {
				t.Fatalf("example is invalid: %v", errs)
			}
			system, user, err := tm.Render(tm.Example)
			if err != nil {
				t.Fatal(err)
			}
			if system == "" || user == "" {
				t.Fatalf("empty prompt: system %d bytes, user %d bytes", len(system), len(user))
			}
			for _, v := range inputStrings(tm.Example) {
				if !strings.Contains(user, v) {
					t.Errorf("the user prompt does not contain the input %q", v)
				}
			}
			checkClean(t, system, user)
			if tm.Structured() {
				if !strings.Contains(user, "exactly one JSON object") {
					t.Error("the user prompt does not ask for exactly one JSON object")
				}
				for _, f := range tm.OutputFields {
					if !strings.Contains(user, fmt.Sprintf("%q", f.Name)) {
						t.Errorf("the user prompt does not name output field %q", f.Name)
					}
				}
			}
		})
	}
}

// TestRenderRequiredOnly renders each template with only its required
// inputs: absent optional inputs must read naturally, not as "<no value>".
func TestRenderRequiredOnly(t *testing.T) {
	for _, tm := range All() {
		t.Run(tm.Name, func(t *testing.T) {
			inputs := map[string]any{}
			for _, name := range tm.schema.Required {
				inputs[name] = tm.Example[name]
			}
			if len(inputs) == len(tm.Example) {
				t.Skip("every input is required")
			}
			system, user, err := tm.Render(inputs)
			if err != nil {
				t.Fatal(err)
			}
			checkClean(t, system, user)
			full, _ := Get(tm.Name)
			_, fullUser, _ := full.Render(full.Example)
			if user == fullUser {
				t.Error("leaving out the optional inputs does not change the prompt")
			}
		})
	}
}

func checkClean(t *testing.T, prompts ...string) {
	t.Helper()
	for _, p := range prompts {
		for _, bad := range []string{"<no value>", "%!", "map["} {
			if strings.Contains(p, bad) {
				t.Errorf("prompt contains %q:\n%s", bad, p)
			}
		}
	}
}

// inputStrings returns the string inputs (and array elements) of inputs.
func inputStrings(inputs map[string]any) []string {
	var out []string
	for _, v := range inputs {
		switch v := v.(type) {
		case string:
			out = append(out, v)
		case []any:
			for _, e := range v {
				if s, ok := e.(string); ok {
					out = append(out, s)
				}
			}
		}
	}
	return out
}

func TestRenderDeterministic(t *testing.T) {
	for _, tm := range All() {
		t.Run(tm.Name, func(t *testing.T) {
			system, user, err := tm.Render(tm.Example)
			if err != nil {
				t.Fatal(err)
			}
			// Rebuild the inputs in reverse key order each time: Go
			// randomises map iteration, so an order-dependent template would
			// show up over a few renders.
			keys := sortedKeys(tm.Example)
			slices.Reverse(keys)
			for range 20 {
				inputs := map[string]any{}
				for _, k := range keys {
					inputs[k] = tm.Example[k]
				}
				s, u, err := tm.Render(inputs)
				if err != nil {
					t.Fatal(err)
				}
				if s != system || u != user {
					t.Fatal("rendering the same inputs twice gave different prompts")
				}
			}
		})
	}
}

func TestRenderEmailSequenceDefaultsAndSender(t *testing.T) {
	tm, _ := Get("email-sequence")
	inputs := map[string]any{
		"company": "Northwind", "product": "FreshTrack", "persona": "Head of Supply Chain", "value_proposition": "Less spoilage",
	}
	system, user, err := tm.Render(inputs)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Number of emails: 3,", "Tone: professional:", "{{sender_name}}", "{{first_name}}"} {
		if !strings.Contains(system+"\n"+user, want) {
			t.Errorf("user prompt lacks %q", want)
		}
	}
	inputs["steps"], inputs["tone"], inputs["sender_name"] = 1.0, "direct", "Maja"
	_, user, err = tm.Render(inputs)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Number of emails: 1,", "Tone: direct:", "sign every email as Maja, Northwind"} {
		if !strings.Contains(user, want) {
			t.Errorf("user prompt lacks %q", want)
		}
	}
}

func TestRenderRejectsInvalidInputs(t *testing.T) {
	tm, _ := Get("company-summary")
	_, _, err := tm.Render(map[string]any{"notes": "text"})
	var ie *InputError
	if !errors.As(err, &ie) || len(ie.Errors) != 1 || ie.Errors[0].Field != "inputs.company" {
		t.Fatalf("Render without company: err = %v; want an InputError for inputs.company", err)
	}
	if _, _, err := (Template{}).Render(nil); err == nil {
		t.Error("rendering the zero Template succeeded")
	}
}

func TestKey(t *testing.T) {
	tm, _ := Get("company-summary")
	if got, want := tm.Key(), fmt.Sprintf("company-summary@v%d", tm.Version); got != want {
		t.Errorf("Key() = %q, want %q", got, want)
	}
	next := tm
	next.Version++
	if next.Key() == tm.Key() {
		t.Errorf("Key() did not change with the version: %q", tm.Key())
	}
}

func TestAllAndGetReturnCopies(t *testing.T) {
	tm, _ := Get("value-proposition")
	tm.Example["company"] = "changed"
	tm.Example["differentiators"].([]any)[0] = "changed"
	tm.InputSchema[0] = 'X'
	tm.OutputFields[0].Name = "changed"
	all := All()
	all[0].Name = "changed"

	again, _ := Get("value-proposition")
	if again.Example["company"] == "changed" || again.Example["differentiators"].([]any)[0] == "changed" ||
		again.InputSchema[0] == 'X' || again.OutputFields[0].Name == "changed" {
		t.Error("modifying a returned Template changed the registry")
	}
	if All()[0].Name == "changed" {
		t.Error("modifying All()'s slice changed the registry")
	}
}

// TestConcurrentUse runs templates from many goroutines; with -race it
// checks that the shared parsed schemas and templates are only read.
func TestConcurrentUse(t *testing.T) {
	var wg sync.WaitGroup
	for _, tm := range All() {
		for range 4 {
			wg.Go(func() {
				for range 10 {
					if errs := tm.Validate(tm.Example); errs != nil {
						t.Errorf("%s: %v", tm.Name, errs)
					}
					if _, _, err := tm.Render(tm.WithDefaults(tm.Example)); err != nil {
						t.Errorf("%s: %v", tm.Name, err)
					}
					_ = tm.Validate(map[string]any{"unknown": 1})
				}
			})
		}
	}
	wg.Wait()
}

// TestFingerprintsRequireVersionBump enforces the versioning rule: the
// version is part of the response-cache key, so changing a prompt, schema,
// output fields or max_tokens without bumping it would serve answers to the
// old prompt. testdata/fingerprints.json records each released version's
// fingerprint; -update adds new versions but never overwrites one.
func TestFingerprintsRequireVersionBump(t *testing.T) {
	const file = "testdata/fingerprints.json"
	known := map[string]string{}
	if b, err := os.ReadFile(file); err == nil {
		if err := json.Unmarshal(b, &known); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
	} else if !os.IsNotExist(err) {
		t.Fatal(err)
	}
	added := false
	for _, tm := range All() {
		want, ok := known[tm.Key()]
		switch {
		case !ok && *update:
			known[tm.Key()] = tm.fingerprint
			added = true
		case !ok:
			t.Errorf("%s is new: run go test ./internal/prompts -run TestFingerprints -update and commit %s", tm.Key(), file)
		case want != tm.fingerprint:
			t.Errorf("templates/%s.* changed but the version is still %d: bump \"version\" (it is part of the cache key), then run with -update; "+
				"if v%d was never released, delete its line from %s instead", tm.Name, tm.Version, tm.Version, file)
		}
	}
	if added {
		b, err := json.MarshalIndent(known, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestFingerprintCoversPromptSchemaAndOutput(t *testing.T) {
	tm, _ := Get("company-summary")
	base := fingerprint(tm, []byte("prompt"))
	changed := []Template{tm, tm, tm}
	changed[0].InputSchema = json.RawMessage(`{"type": "object"}`)
	changed[1].OutputFields = nil
	changed[2].MaxTokens++
	for i, c := range changed {
		if fingerprint(c, []byte("prompt")) == base {
			t.Errorf("change %d does not change the fingerprint", i)
		}
	}
	if fingerprint(tm, []byte("prompt!")) == base {
		t.Error("a prompt change does not change the fingerprint")
	}
	// Reformatting the schema is not a change.
	reformatted := tm
	reformatted.InputSchema = json.RawMessage(" " + string(tm.InputSchema) + "\n")
	if fingerprint(reformatted, []byte("prompt")) != base {
		t.Error("whitespace around the schema changes the fingerprint")
	}
}

// fixture returns an FS holding the embedded company-summary files after
// the given edits; each edit must apply, so a stale fixture fails loudly.
func fixture(t *testing.T, jsonEdits, tmplEdits [][2]string) fs.FS {
	t.Helper()
	edit := func(file string, edits [][2]string) []byte {
		b, err := fs.ReadFile(embedded, "templates/"+file)
		if err != nil {
			t.Fatal(err)
		}
		s := string(b)
		for _, e := range edits {
			if !strings.Contains(s, e[0]) {
				t.Fatalf("fixture %s does not contain %q", file, e[0])
			}
			s = strings.Replace(s, e[0], e[1], 1)
		}
		return []byte(s)
	}
	return fstest.MapFS{
		"templates/company-summary.json": {Data: edit("company-summary.json", jsonEdits)},
		"templates/company-summary.tmpl": {Data: edit("company-summary.tmpl", tmplEdits)},
	}
}

func TestLoadRejectsBrokenTemplates(t *testing.T) {
	if _, err := load(fixture(t, nil, nil)); err != nil {
		t.Fatalf("the unedited fixture does not load: %v", err)
	}
	tests := []struct {
		name       string
		json, tmpl [][2]string
		want       string
	}{
		{"bad JSON", [][2]string{{`"version": 1,`, `"version": 1`}}, nil, "company-summary.json"},
		{"unknown metadata key", [][2]string{{`"version": 1,`, `"version": 1, "temperature": 0.2,`}}, nil, `unknown field "temperature"`},
		{"name mismatch", [][2]string{{`"name": "company-summary"`, `"name": "summary"`}}, nil, "does not match the file name"},
		{"version zero", [][2]string{{`"version": 1,`, `"version": 0,`}}, nil, "version must be >= 1"},
		{"no max_tokens", [][2]string{{`"max_tokens": 1500,`, ``}}, nil, "max_tokens"},
		{"unsupported keyword", [][2]string{{`"maxLength": 50000`, `"max_length": 50000`}}, nil, `unsupported keyword "max_length"`},
		{"miscased keyword", [][2]string{{`"maxLength": 50000`, `"MaxLength": 50000`}}, nil, `unsupported keyword "MaxLength"`},
		{"open schema", [][2]string{{`"additionalProperties": false`, `"additionalProperties": true`}}, nil, "additionalProperties"},
		{"required undefined", [][2]string{{`"required": ["company", "notes"]`, `"required": ["company", "notes", "url"]`}}, nil, `required property "url" is not defined`},
		{"bad default", [][2]string{{`"maxLength": 253`, `"maxLength": 253, "default": 5`}}, nil, "default: expected string"},
		{"bad pattern", [][2]string{{`"maxLength": 253`, `"maxLength": 253, "pattern": "("`}}, nil, "pattern"},
		{"property without description", [][2]string{{`"description": "The company's website domain`, `"x-note": "The company's website domain`}}, nil, "properties.domain: description is empty"},
		{"invalid example", [][2]string{{`"company": "Northwind Logistics",`, ``}}, nil, "example: invalid inputs: inputs.company"},
		{"bad output type", [][2]string{{`"name": "summary",
      "type": "string"`, `"name": "summary",
      "type": "text"`}}, nil, `type "text"`},
		{"duplicate output field", [][2]string{{`"name": "industry"`, `"name": "summary"`}}, nil, `duplicate name "summary"`},
		{"template syntax", nil, [][2]string{{`{{line .company}}`, `{{line .company}`}}, "company-summary"},
		{"no user part", nil, [][2]string{{`{{define "user" -}}`, `{{define "usr" -}}`}}, `does not define "user"`},
		{"undefined input", nil, [][2]string{{`{{line .company}}`, `{{line .compnay}}`}}, `compnay`},
		{"no output format", nil, [][2]string{{`{{outputFormat}}`, `Reply in JSON.`}}, "must include {{outputFormat}}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := load(fixture(t, tt.json, tt.tmpl))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("load: err = %v; want one containing %q", err, tt.want)
			}
		})
	}
}

func TestLoadRejectsUnpairedFiles(t *testing.T) {
	tests := map[string]fstest.MapFS{
		"no matching company-summary.tmpl": {"templates/company-summary.json": {Data: []byte(`{}`)}},
		"no matching x.json":               {"templates/x.tmpl": {Data: []byte(``)}},
		"unexpected file":                  {"templates/README.md": {Data: []byte(``)}},
		"no templates found":               {"templates/sub/x": {Data: []byte(``)}},
	}
	for want, fsys := range tests {
		if _, err := load(fsys); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("load: err = %v; want one containing %q", err, want)
		}
	}
}

func TestMustLoadPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("mustLoad of an empty FS did not panic")
		}
	}()
	mustLoad(fstest.MapFS{})
}
