package profile

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/groundwork-dev/groundwork/internal/prompts"
)

// TestPromptContract runs the LLM path without an LLM: Notes renders the
// fixture site into the company-profile template, a canned answer in the
// template's output format goes through ParseOutput, and FromFields keeps
// the cited facts. It fails when the template's output fields and
// FromFields drift apart.
func TestPromptContract(t *testing.T) {
	tm, ok := prompts.Get("company-profile")
	if !ok {
		t.Fatal("template company-profile is missing")
	}
	pages := loadSite(t)
	notes := Notes(pages, 60_000)
	_, user, err := tm.Render(map[string]any{"company": "Northwind Logistics", "domain": "northwind.example", "pages": notes})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(user, `<page url="https://northwind.example/about" title="About Northwind" category="about">`) {
		t.Error("the user prompt lacks the rendered pages")
	}
	// Every output field of the template, and no other, is read by FromFields.
	answer := map[string]any{}
	for _, f := range tm.OutputFields {
		obj := map[string]any{"value": "x " + f.Name, "source": "https://northwind.example/about/"}
		if f.Name == "contacts" {
			obj["kind"] = "email"
		}
		switch f.Type {
		case "object":
			answer[f.Name] = obj
		case "array":
			answer[f.Name] = []any{obj}
		default:
			t.Errorf("output field %s has type %s; FromFields reads objects and arrays of objects", f.Name, f.Type)
		}
	}
	b, _ := json.Marshal(answer)
	fields, err := tm.ParseOutput("Here you go:\n" + string(b))
	if err != nil {
		t.Fatal(err)
	}
	prof, warnings := FromFields(fields, pages)
	if len(warnings) > 0 {
		t.Errorf("warnings: %q", warnings)
	}
	about := "https://northwind.example/about"
	want := Profile{
		Summary:      &Fact{"x summary", about},
		Industry:     &Fact{"x industry", about},
		Products:     []Fact{{"x products", about}},
		Customers:    []Fact{{"x customers", about}},
		PricingModel: &Fact{"x pricing_model", about},
		Size:         &Fact{"x size", about},
		Hiring:       &Fact{"x hiring", about},
		Contacts:     []Contact{{KindEmail, "x contacts", about}},
	}
	if !reflect.DeepEqual(prof, want) {
		got, _ := json.Marshal(prof)
		t.Errorf("profile = %s", got)
	}
}
