// Package archtest checks Groundwork's import rules, the floor plan of
// docs/architecture.md: the root package is the contract and imports no
// project package and no I/O; workflows orchestrate and do no I/O; the API
// starts work and never holds it; libraries under internal/ and db/ know
// nothing of the layers above them; the public Go client needs nothing but
// the contract and the standard library; and no production file imports a
// test rig. TestImportRules runs the check over the repository in
// `make test`.
package archtest

import (
	"fmt"
	"strings"
)

// File is one Go file with what it imports.
type File struct {
	// Pkg is the file's package path relative to the module: "" for the
	// root package, "api", "internal/render"…
	Pkg string
	// Path is the file's path, for the report.
	Path string
	// Test says the file is a _test.go file.
	Test bool
	// Imports are the import paths of the file.
	Imports []string
}

// Violation is one import that breaks a rule.
type Violation struct {
	File   string
	Import string
	Rule   string
}

// String names the file, the import and the rule it breaks.
func (v Violation) String() string { return fmt.Sprintf("%s imports %s: %s", v.File, v.Import, v.Rule) }

// ioPackages are the packages that do I/O the contract and the
// workflows must stay out of: sockets, HTTP, processes, databases,
// Chrome and the Temporal client. Each matches itself and its
// subpackages, except "net", whose pure subpackages (net/url,
// net/netip) parse text and do no I/O.
var ioPackages = []string{
	"net/http", "os/exec", "database/sql",
	"github.com/jackc/pgx", "github.com/chromedp", "go.temporal.io/sdk/client",
}

// rule forbids, to the production files of the packages it applies to,
// imports of the project packages in forbid (module-relative, each with
// its subpackages) and, when noIO is set, of ioPackages.
type rule struct {
	name    string
	applies func(pkg string) bool
	forbid  []string
	noIO    bool
	// allow, when set, forbids every import outside the standard library
	// but these (full paths, each with its subpackages).
	allow []string
	// rootOnly forbids every project package but the root one, so a
	// package that must stay importable from other modules cannot reach
	// internal/ or a layer by accident.
	rootOnly bool
}

var rules = []rule{
	{
		name:    "the root package is the contract: standard library and small pure helpers only",
		applies: func(pkg string) bool { return pkg == "" },
		forbid:  []string{""},
		noIO:    true,
		allow:   []string{"github.com/oklog/ulid"},
	},
	{
		name:    "workflows orchestrate: the root package and the Temporal SDK, no activities, API, database, worker or I/O",
		applies: under("workflows"),
		forbid:  []string{"activities", "api", "db", "worker", "cmd", "internal"},
		noIO:    true,
	},
	{
		name:    "activities do the work: never the workflows that orchestrate them or the API",
		applies: under("activities"),
		forbid:  []string{"workflows", "api", "worker", "cmd"},
	},
	{
		name:    "the API starts work and never holds it: no activities or workflows",
		applies: under("api"),
		forbid:  []string{"activities", "workflows", "worker", "cmd"},
	},
	{
		name:    "the worker wires activities and workflows: never the API or a command",
		applies: under("worker"),
		forbid:  []string{"api", "cmd"},
	},
	{
		name: "db/ and internal/ are libraries: they know nothing of the layers above them",
		applies: func(pkg string) bool {
			return under("db")(pkg) || under("internal")(pkg)
		},
		forbid: []string{"api", "activities", "workflows", "worker", "cmd"},
	},
	{
		name:     "the Go client is public: the root contract and the standard library only",
		applies:  under("client"),
		rootOnly: true,
		allow:    []string{},
	},
}

// testkitRule forbids production files to import the test rigs.
const testkitRule = "internal/testkit holds fakes and test rigs: only tests, benches and other rigs import it"

// under matches dir and its subpackages.
func under(dir string) func(string) bool {
	return func(pkg string) bool { return pkg == dir || strings.HasPrefix(pkg, dir+"/") }
}

// within reports whether path is prefix or one of its subpackages.
func within(path, prefix string) bool {
	return path == prefix || strings.HasPrefix(path, prefix+"/")
}

// Check returns every import of files that breaks a rule; module is the
// module path project imports start with.
func Check(module string, files []File) []Violation {
	var out []Violation
	for _, f := range files {
		for _, imp := range f.Imports {
			project, rel := projectPath(module, imp)
			if project && within(rel, "internal/testkit") && !f.Test && !rigOrBench(f.Pkg) {
				out = append(out, Violation{File: f.Path, Import: imp, Rule: testkitRule})
			}
			if f.Test {
				continue
			}
			for _, r := range rules {
				if !r.applies(f.Pkg) {
					continue
				}
				if broken(r, project, rel, imp) {
					out = append(out, Violation{File: f.Path, Import: imp, Rule: r.name})
				}
			}
		}
	}
	return out
}

// broken reports whether importing imp breaks r.
func broken(r rule, project bool, rel, imp string) bool {
	if project {
		if r.rootOnly && rel != "" {
			return true
		}
		for _, p := range r.forbid {
			if p == "" || within(rel, p) {
				return true
			}
		}
		return false
	}
	if r.noIO {
		if imp == "net" {
			return true
		}
		for _, p := range ioPackages {
			if within(imp, p) {
				return true
			}
		}
	}
	if r.allow != nil && !stdlib(imp) {
		for _, p := range r.allow {
			if within(imp, p) {
				return false
			}
		}
		return true
	}
	return false
}

// projectPath reports whether imp is a package of the module, and its
// path relative to the module root.
func projectPath(module, imp string) (bool, string) {
	if imp == module {
		return true, ""
	}
	if rel, ok := strings.CutPrefix(imp, module+"/"); ok {
		return true, rel
	}
	return false, ""
}

// rigOrBench reports whether pkg is a test rig or a benchmark, which may
// use other rigs.
func rigOrBench(pkg string) bool {
	return within(pkg, "internal/testkit") || within(pkg, "bench")
}

// stdlib reports whether imp is a standard library package: its first
// element has no dot.
func stdlib(imp string) bool {
	first, _, _ := strings.Cut(imp, "/")
	return !strings.Contains(first, ".")
}
