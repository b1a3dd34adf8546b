package prompts

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// inputs decodes JSON the way the API does, so tests see float64 numbers
// and []any arrays.
func inputs(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestValidate(t *testing.T) {
	long := strings.Repeat("x", 50001)
	tests := []struct {
		name     string
		template string
		inputs   string
		want     []FieldError
	}{
		{"valid", "company-summary", `{"company": "Acme", "notes": "Acme makes anvils."}`, nil},
		{"optional null", "company-summary", `{"company": "Acme", "notes": "n", "domain": null}`, nil},
		{"missing required", "company-summary", `{"notes": "n"}`, []FieldError{
			{"inputs.company", "expected required property company to be present"},
		}},
		{"all missing", "company-summary", `{}`, []FieldError{
			{"inputs.company", "expected required property company to be present"},
			{"inputs.notes", "expected required property notes to be present"},
		}},
		{"required null", "company-summary", `{"company": null, "notes": "n"}`, []FieldError{
			{"inputs.company", "expected string"},
		}},
		{"empty string", "company-summary", `{"company": "", "notes": "n"}`, []FieldError{
			{"inputs.company", "expected length >= 1"},
		}},
		{"wrong type", "company-summary", `{"company": 42, "notes": ["n"]}`, []FieldError{
			{"inputs.company", "expected string"},
			{"inputs.notes", "expected string"},
		}},
		{"max length", "company-summary", `{"company": "Acme", "notes": "` + long + `"}`, []FieldError{
			{"inputs.notes", "expected length <= 50000"},
		}},
		{"unknown property", "company-summary", `{"company": "Acme", "notes": "n", "website": "acme.com"}`, []FieldError{
			{"inputs.website", "unexpected property"},
		}},
		// huma alone would accept "Company" for "company"; rendering would
		// then find no company.
		{"miscased property", "company-summary", `{"Company": "Acme", "notes": "n"}`, []FieldError{
			{"inputs.Company", "unexpected property"},
			{"inputs.company", "expected required property company to be present"},
		}},
		{"enum", "email-sequence", `{"company": "c", "product": "p", "persona": "p", "value_proposition": "v", "tone": "rude"}`, []FieldError{
			{"inputs.tone", `expected value to be one of "professional, friendly, direct"`},
		}},
		{"integer range", "email-sequence", `{"company": "c", "product": "p", "persona": "p", "value_proposition": "v", "steps": 8}`, []FieldError{
			{"inputs.steps", "expected number <= 7"},
		}},
		{"integer fraction", "email-sequence", `{"company": "c", "product": "p", "persona": "p", "value_proposition": "v", "steps": 2.5}`, []FieldError{
			{"inputs.steps", "expected integer"},
		}},
		{"integer as string", "email-sequence", `{"company": "c", "product": "p", "persona": "p", "value_proposition": "v", "steps": "3"}`, []FieldError{
			{"inputs.steps", "expected integer"},
		}},
		{"array item", "icp-analysis", `{"company": "c", "product": "p", "existing_customers": ["ok", 7, ""]}`, []FieldError{
			{"inputs.existing_customers[1]", "expected string"},
			{"inputs.existing_customers[2]", "expected length >= 1"},
		}},
		{"not an array", "icp-analysis", `{"company": "c", "product": "p", "existing_customers": "Acme"}`, []FieldError{
			{"inputs.existing_customers", "expected array"},
		}},
		{"too many items", "value-proposition", `{"company": "c", "product": "p", "audience": "a", "proof_points": ["1","2","3","4","5","6","7","8","9","10","11"]}`, []FieldError{
			{"inputs.proof_points", "expected array length <= 10"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tm, ok := Get(tt.template)
			if !ok {
				t.Fatalf("no template %q", tt.template)
			}
			if got := tm.Validate(inputs(t, tt.inputs)); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Validate:\n got %v\nwant %v", got, tt.want)
			}
		})
	}
}

func TestValidateNilInputs(t *testing.T) {
	tm, _ := Get("buyer-persona")
	got := tm.Validate(nil)
	want := []string{"inputs.company", "inputs.product", "inputs.role"}
	var fields []string
	for _, e := range got {
		fields = append(fields, e.Field)
	}
	if !reflect.DeepEqual(fields, want) {
		t.Errorf("Validate(nil) fields = %v, want %v", fields, want)
	}
	if errs := (Template{}).Validate(nil); len(errs) != 1 {
		t.Errorf("the zero Template validated: %v", errs)
	}
}

func TestValidateDoesNotModifyInputs(t *testing.T) {
	tm, _ := Get("company-summary")
	in := inputs(t, `{"company": "Acme", "Notes": "n", "extra": [1]}`)
	want := inputs(t, `{"company": "Acme", "Notes": "n", "extra": [1]}`)
	_ = tm.Validate(in)
	if !reflect.DeepEqual(in, want) {
		t.Errorf("Validate modified its inputs: %v", in)
	}
}

func TestWithDefaults(t *testing.T) {
	tm, _ := Get("email-sequence")
	in := inputs(t, `{"company": "c", "product": "p", "persona": "p", "value_proposition": "v", "tone": null}`)
	got := tm.WithDefaults(in)
	if got["steps"] != 3.0 || got["tone"] != "professional" {
		t.Errorf("WithDefaults: steps = %v, tone = %v; want 3, professional", got["steps"], got["tone"])
	}
	if _, ok := got["sender_name"]; ok {
		t.Error("WithDefaults added sender_name, which has no default")
	}
	if _, ok := in["steps"]; ok || in["tone"] != nil {
		t.Errorf("WithDefaults modified its argument: %v", in)
	}
	if errs := tm.Validate(got); errs != nil {
		t.Errorf("inputs with defaults are invalid: %v", errs)
	}

	given := tm.WithDefaults(inputs(t, `{"steps": 5, "tone": "direct"}`))
	if given["steps"] != 5.0 || given["tone"] != "direct" {
		t.Errorf("WithDefaults replaced given values: %v", given)
	}
	if empty := tm.WithDefaults(nil); empty["steps"] != 3.0 {
		t.Errorf("WithDefaults(nil) = %v", empty)
	}
}

func TestInputErrorMessage(t *testing.T) {
	err := &InputError{Errors: []FieldError{{"inputs.a", "expected string"}, {"inputs.b", "unexpected property"}}}
	if got, want := err.Error(), "invalid inputs: inputs.a: expected string; inputs.b: unexpected property"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}
