package groundwork

import (
	"go/ast"
	"go/parser"
	"go/token"
	"strconv"
	"strings"
	"testing"
)

// TestEverySlugHasAMeaning parses problems.go: every Slug constant is in
// ProblemTypes, so the OpenAPI document lists it.
func TestEverySlugHasAMeaning(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "problems.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	ast.Inspect(f, func(node ast.Node) bool {
		vs, ok := node.(*ast.ValueSpec)
		if !ok || len(vs.Names) != 1 || !strings.HasPrefix(vs.Names[0].Name, "Slug") || len(vs.Values) != 1 {
			return true
		}
		lit, ok := vs.Values[0].(*ast.BasicLit)
		if !ok {
			return true
		}
		slug, _ := strconv.Unquote(lit.Value)
		n++
		if ProblemTypes[slug] == "" {
			t.Errorf("%s (%q) has no meaning in ProblemTypes", vs.Names[0].Name, slug)
		}
		return true
	})
	if n != len(ProblemTypes) || n < 20 {
		t.Errorf("%d slugs, %d in ProblemTypes", n, len(ProblemTypes))
	}
}
