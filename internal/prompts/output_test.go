package prompts

import (
	"reflect"
	"strings"
	"testing"
)

const summaryJSON = `{"summary": "Northwind runs cold-chain freight.", "industry": "Logistics", "products": ["FreshTrack: live pallet tracking"], "customers": [], "key_facts": ["Founded in 2011."]}`

func TestParseOutput(t *testing.T) {
	want := map[string]any{
		"summary":   "Northwind runs cold-chain freight.",
		"industry":  "Logistics",
		"products":  []any{"FreshTrack: live pallet tracking"},
		"customers": []any{},
		"key_facts": []any{"Founded in 2011."},
	}
	tests := map[string]string{
		"bare":                  summaryJSON,
		"whitespace":            "\n  " + summaryJSON + "\n",
		"fenced":                "```json\n" + summaryJSON + "\n```",
		"plain fence":           "```\n" + summaryJSON + "\n```",
		"prose":                 "Here is the brief you asked for:\n\n" + summaryJSON + "\n\nLet me know if you need more.",
		"prose and fence":       "Sure! {as requested} below:\n```json\n" + summaryJSON + "\n```\nThe notes did not name customers.",
		"example before answer": `Keys look like {"summary": "..."}. Answer: ` + summaryJSON,
		"extra key dropped":     strings.Replace(summaryJSON, `{`, `{"confidence": "high", `, 1),
	}
	tm, _ := Get("company-summary")
	for name, text := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := tm.ParseOutput(text)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("ParseOutput:\n got %#v\nwant %#v", got, want)
			}
		})
	}
}

func TestParseOutputErrors(t *testing.T) {
	tests := []struct {
		name, template, text string
		want                 []string
	}{
		{"no JSON", "company-summary", "I cannot help with that.", []string{"no JSON object"}},
		{"empty", "company-summary", "", []string{"no JSON object"}},
		{"array, not object", "company-summary", `["summary"]`, []string{"no JSON object"}},
		{"truncated", "company-summary", `{"summary": "Northwind runs`, []string{"cut off at max_tokens"}},
		{"missing field", "company-summary", strings.Replace(summaryJSON, `"industry": "Logistics", `, "", 1),
			[]string{`missing field "industry"`}},
		{"wrong type", "company-summary", strings.Replace(summaryJSON, `"products": ["FreshTrack: live pallet tracking"]`, `"products": "FreshTrack"`, 1),
			[]string{"products is a string, expected array of strings"}},
		{"null", "company-summary", strings.Replace(summaryJSON, `"Logistics"`, `null`, 1),
			[]string{"industry is null, expected string"}},
		{"wrong item type", "company-summary", strings.Replace(summaryJSON, `"customers": []`, `"customers": ["Baltic Dairy", {"name": "x"}]`, 1),
			[]string{"customers[1] is an object, expected string"}},
		{"several problems", "icp-analysis", `{"firmographics": 1, "pain_points": []}`,
			[]string{"firmographics is a number, expected string", `missing field "buying_triggers"`, `missing field "disqualifiers"`, `missing field "summary"`}},
		{"nested missing", "email-sequence", `{"emails": [{"step": 1, "day": 1, "subject": "s", "body": "b"}, {"step": 2, "day": 4, "body": "b"}]}`,
			[]string{`emails[1]: missing field "subject"`}},
		{"nested wrong type", "email-sequence", `{"emails": [{"step": "1", "day": 1, "subject": "s", "body": "b"}, "second email"]}`,
			[]string{"emails[0].step is a string, expected number", "emails[1] is a string, expected object"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tm, _ := Get(tt.template)
			got, err := tm.ParseOutput(tt.text)
			if err == nil {
				t.Fatalf("ParseOutput succeeded: %v", got)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestParseOutputEmailSequence(t *testing.T) {
	tm, _ := Get("email-sequence")
	text := "```json\n" + `{"emails": [{"step": 1, "day": 1, "subject": "cold chain audits", "body": "Hi {{first_name}},\n\n..."}]}` + "\n```"
	got, err := tm.ParseOutput(text)
	if err != nil {
		t.Fatal(err)
	}
	emails, _ := got["emails"].([]any)
	if len(emails) != 1 || emails[0].(map[string]any)["subject"] != "cold chain audits" {
		t.Errorf("ParseOutput = %v", got)
	}
}

func TestParseOutputLimitsProblems(t *testing.T) {
	tm, _ := Get("company-summary")
	text := strings.Replace(summaryJSON, `"customers": []`, `"customers": [`+strings.Repeat("1,", 30)+`1]`, 1)
	_, err := tm.ParseOutput(text)
	if err == nil || !strings.Contains(err.Error(), "and 21 more") {
		t.Errorf("err = %v; want 10 problems and \"and 21 more\"", err)
	}
}

func TestParseOutputUnstructured(t *testing.T) {
	if _, err := (Template{Name: "free-text", Version: 1}).ParseOutput(summaryJSON); err == nil {
		t.Error("ParseOutput of a template without output fields succeeded")
	}
}

// TestParseOutputManyBraces checks that pathological answers are bounded:
// each '{' opens an object that never closes.
func TestParseOutputManyBraces(t *testing.T) {
	tm, _ := Get("company-summary")
	text := strings.Repeat(`{"a":`, 200000)
	if _, err := tm.ParseOutput(text); err == nil {
		t.Error("ParseOutput of unclosed braces succeeded")
	}
}

func FuzzParseOutput(f *testing.F) {
	f.Add(summaryJSON)
	f.Add("```json\n" + summaryJSON + "\n```")
	f.Add("prose {" + summaryJSON)
	f.Add(`{"emails": [{"step": 1}]}`)
	f.Add(`{"summary": {"summary": [null, true, 1e400]}}`)
	f.Add("{{{{")
	f.Add("")
	templates := All()
	f.Fuzz(func(t *testing.T, text string) {
		for _, tm := range templates {
			got, err := tm.ParseOutput(text)
			if err != nil {
				continue
			}
			// Success promises every field, with its type.
			for _, field := range tm.OutputFields {
				v, ok := got[field.Name]
				if !ok || jsonType(v) != field.Type {
					t.Fatalf("%s: ParseOutput(%q) succeeded but %s = %#v", tm.Name, text, field.Name, v)
				}
			}
			if len(got) != len(tm.OutputFields) {
				t.Fatalf("%s: ParseOutput returned extra keys: %v", tm.Name, got)
			}
		}
	})
}
