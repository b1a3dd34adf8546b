package groundwork

import "testing"

// templatesStub is a catalogue of one template without inputs.
type templatesStub struct{}

func (templatesStub) TemplateNames() []string { return []string{"t"} }
func (templatesStub) CheckInputs(name string, _ map[string]any) ([]FieldError, bool) {
	return nil, name == "t"
}

func TestGenerateRequestModelsAreAllowListed(t *testing.T) {
	providers := []LLMProvider{{Name: "openai", Models: []string{"gpt-4.1-mini"}}, {Name: "anthropic", Models: []string{"claude-haiku-4-5", "claude-sonnet-4-5"}}}
	for _, tc := range []struct {
		req   GenerateRequest
		field string
	}{
		{GenerateRequest{Template: "t"}, ""},
		{GenerateRequest{Template: "t", Model: "gpt-4.1-mini"}, ""},
		{GenerateRequest{Template: "t", Model: "o3-pro"}, "model"},
		{GenerateRequest{Template: "t", Provider: "anthropic", Model: "claude-sonnet-4-5"}, ""},
		{GenerateRequest{Template: "t", Provider: "anthropic", Model: "gpt-4.1-mini"}, "model"},
		{GenerateRequest{Template: "t", Provider: "mistral"}, "provider"},
		{GenerateRequest{Template: "nope"}, "template"},
	} {
		errs := tc.req.Validate(templatesStub{}, providers)
		got := ""
		if len(errs) > 0 {
			got = errs[0].Field
		}
		if got != tc.field {
			t.Errorf("%+v: first error on %q (%v), want %q", tc.req, got, errs, tc.field)
		}
	}
}
