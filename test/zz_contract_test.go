package test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/groundwork-dev/groundwork/internal/testkit/testenv"
)

// answer is one JSON answer the API gave an end-to-end test.
type answer struct {
	method, path string
	status       int
	body         []byte
}

var (
	answersMu sync.Mutex
	answers   []answer
	// answerCount bounds the samples kept per method, path and status.
	answerCount = map[string]int{}
)

// recordAnswer keeps a JSON answer of the API for TestAnswersMatchTheDocument.
func recordAnswer(method, path string, status int, contentType string, body []byte) {
	mt, _, _ := mime.ParseMediaType(contentType)
	if mt != "application/json" && mt != "application/problem+json" || len(body) == 0 {
		return
	}
	key := fmt.Sprintf("%s %s %d", method, path, status)
	answersMu.Lock()
	defer answersMu.Unlock()
	if answerCount[key] >= 3 {
		return
	}
	answerCount[key]++
	answers = append(answers, answer{method: method, path: path, status: status, body: bytes.Clone(body)})
}

// TestAnswersMatchTheDocument validates every JSON answer the end-to-end
// tests before it received (it runs last: its file sorts last) against
// the committed OpenAPI document: the operation's schema for that status,
// or the failure that the status is not documented. A generated client
// trusts these schemas.
func TestAnswersMatchTheDocument(t *testing.T) {
	answersMu.Lock()
	got := append([]answer(nil), answers...)
	answersMu.Unlock()
	if len(got) == 0 {
		t.Skip("no answers recorded: run with the end-to-end tests")
	}
	raw, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "api", "openapi.json"))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	var spec struct {
		Paths map[string]map[string]struct {
			OperationID string `json:"operationId"`
			Responses   map[string]struct {
				Content map[string]json.RawMessage `json:"content"`
			} `json:"responses"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(raw, &spec); err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	if err := c.AddResource("openapi.json", doc); err != nil {
		t.Fatal(err)
	}
	routes := routeMatchers(spec.Paths)
	compiled := map[string]*jsonschema.Schema{}
	checked, ops := 0, map[string]bool{}
	for _, a := range got {
		tmpl := ""
		for _, r := range routes {
			if r.re.MatchString(a.path) {
				tmpl = r.template
				break
			}
		}
		item, ok := spec.Paths[tmpl]
		if !ok {
			continue // not an operation of the document (/hooks, downloads' redirects…)
		}
		op, ok := item[strings.ToLower(a.method)]
		if !ok {
			continue
		}
		code := fmt.Sprint(a.status)
		resp, ok := op.Responses[code]
		if !ok {
			if resp, ok = op.Responses["default"]; !ok {
				t.Errorf("%s %s answered %d, which %s does not document", a.method, a.path, a.status, op.OperationID)
				continue
			}
			code = "default"
		}
		ct := "application/json"
		if _, ok := resp.Content[ct]; !ok {
			ct = "application/problem+json"
		}
		if _, ok := resp.Content[ct]; !ok {
			t.Errorf("%s %s %d: %s documents no JSON body", a.method, a.path, a.status, op.OperationID)
			continue
		}
		ptr := "/paths/" + pointerToken(tmpl) + "/" + strings.ToLower(a.method) + "/responses/" + code + "/content/" + pointerToken(ct) + "/schema"
		loc := "openapi.json#" + (&url.URL{Path: ptr}).EscapedPath()
		sch, ok := compiled[loc]
		if !ok {
			if sch, err = c.Compile(loc); err != nil {
				t.Fatalf("compile %s: %v", loc, err)
			}
			compiled[loc] = sch
		}
		inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(a.body))
		if err != nil {
			t.Errorf("%s %s %d: not JSON: %v", a.method, a.path, a.status, err)
			continue
		}
		if err := sch.Validate(inst); err != nil {
			t.Errorf("%s %s %d does not match %s's schema: %v\nbody: %.400s", a.method, a.path, a.status, op.OperationID, err, a.body)
		}
		checked++
		ops[op.OperationID] = true
	}
	t.Logf("%d answers of %d operations validated against api/openapi.json", checked, len(ops))
}

type routeMatcher struct {
	template string
	re       *regexp.Regexp
	params   int
}

// routeMatchers turns the document's path templates into regexps, the
// most literal first, so /v1/runs/{id} does not shadow a fixed route.
func routeMatchers[T any](paths map[string]T) []routeMatcher {
	var out []routeMatcher
	param := regexp.MustCompile(`\{[^}]+\}`)
	for p := range paths {
		quoted := regexp.QuoteMeta(p)
		pattern := param.ReplaceAllString(strings.ReplaceAll(strings.ReplaceAll(quoted, `\{`, "{"), `\}`, "}"), `[^/]+`)
		out = append(out, routeMatcher{template: p, re: regexp.MustCompile("^" + pattern + "$"), params: strings.Count(p, "{")})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].params != out[j].params {
			return out[i].params < out[j].params
		}
		return out[i].template < out[j].template
	})
	return out
}

// pointerToken escapes s as one JSON Pointer token.
func pointerToken(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}
