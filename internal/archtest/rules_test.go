package archtest

import (
	"strings"
	"testing"
)

const mod = "github.com/groundwork-dev/groundwork"

// TestImportRules checks the repository itself.
func TestImportRules(t *testing.T) {
	module, files, err := Load("../..")
	if err != nil {
		t.Fatal(err)
	}
	if module != mod {
		t.Fatalf("module %s, want %s", module, mod)
	}
	if len(files) < 100 {
		t.Fatalf("found only %d files: the listing is broken", len(files))
	}
	for _, v := range Check(module, files) {
		t.Error(v)
	}
}

// TestCheckRefusesForbiddenEdges feeds the checker one file per forbidden
// edge and one allowed edge beside each, so the rules can be seen to fail.
func TestCheckRefusesForbiddenEdges(t *testing.T) {
	for _, tc := range []struct {
		name    string
		file    File
		refused bool
	}{
		{"root imports a project package", File{Pkg: "", Imports: []string{mod + "/internal/document"}}, true},
		{"root imports net/http", File{Pkg: "", Imports: []string{"net/http"}}, true},
		{"root imports the Temporal SDK", File{Pkg: "", Imports: []string{"go.temporal.io/sdk/temporal"}}, true},
		{"root imports pgx", File{Pkg: "", Imports: []string{"github.com/jackc/pgx/v5"}}, true},
		{"root imports ulid and net/url", File{Pkg: "", Imports: []string{"github.com/oklog/ulid/v2", "net/url", "time"}}, false},
		{"root imports net", File{Pkg: "", Imports: []string{"net"}}, true},
		{"root imports a third-party module", File{Pkg: "", Imports: []string{"github.com/google/uuid"}}, true},
		{"workflows import activities", File{Pkg: "workflows", Imports: []string{mod + "/activities"}}, true},
		{"workflows import db", File{Pkg: "workflows", Imports: []string{mod + "/db/sqlc"}}, true},
		{"workflows import the Temporal client", File{Pkg: "workflows", Imports: []string{"go.temporal.io/sdk/client"}}, true},
		{"workflows import the root and the SDK", File{Pkg: "workflows", Imports: []string{mod, "go.temporal.io/sdk/workflow"}}, false},
		{"activities import workflows", File{Pkg: "activities", Imports: []string{mod + "/workflows"}}, true},
		{"activities import api", File{Pkg: "activities", Imports: []string{mod + "/api"}}, true},
		{"activities import db and internal", File{Pkg: "activities", Imports: []string{mod + "/db", mod + "/internal/pglimit"}}, false},
		{"api imports activities", File{Pkg: "api", Imports: []string{mod + "/activities"}}, true},
		{"api imports workflows", File{Pkg: "api", Imports: []string{mod + "/workflows"}}, true},
		{"db imports api", File{Pkg: "db", Imports: []string{mod + "/api"}}, true},
		{"internal imports worker", File{Pkg: "internal/render", Imports: []string{mod + "/worker"}}, true},
		{"internal imports cmd", File{Pkg: "internal/config", Imports: []string{mod + "/cmd/groundwork/app"}}, true},
		{"internal imports the root", File{Pkg: "internal/prompts", Imports: []string{mod}}, false},
		{"production imports a rig", File{Pkg: "worker", Imports: []string{mod + "/internal/testkit/llmfake"}}, true},
		{"a test imports a rig", File{Pkg: "worker", Test: true, Imports: []string{mod + "/internal/testkit/llmfake"}}, false},
		{"a bench imports a rig", File{Pkg: "bench/load", Imports: []string{mod + "/internal/testkit/testsite"}}, false},
		{"client imports api", File{Pkg: "client", Imports: []string{mod + "/api"}}, true},
		{"client imports internal", File{Pkg: "client", Imports: []string{mod + "/internal/document"}}, true},
		{"client imports db", File{Pkg: "client", Imports: []string{mod + "/db"}}, true},
		{"client imports a third-party module", File{Pkg: "client", Imports: []string{"github.com/go-chi/chi/v5"}}, true},
		{"client imports the root and net/http", File{Pkg: "client", Imports: []string{mod, "net/http", "encoding/json"}}, false},
		{"a test of client imports a rig", File{Pkg: "client", Test: true, Imports: []string{mod + "/internal/testkit/testenv"}}, false},
		{"a test of workflows imports activities", File{Pkg: "workflows", Test: true, Imports: []string{mod + "/activities"}}, false},
	} {
		tc.file.Path = "x.go"
		got := Check(mod, []File{tc.file})
		if refused := len(got) > 0; refused != tc.refused {
			t.Errorf("%s: refused %v (%v), want %v", tc.name, refused, got, tc.refused)
		}
		for _, v := range got {
			if !strings.Contains(v.String(), "x.go imports ") {
				t.Errorf("%s: the report %q does not name the file", tc.name, v)
			}
		}
	}
}
