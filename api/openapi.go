package api

import (
	"fmt"
	"maps"
	"net/http"
	"reflect"
	"slices"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"github.com/groundwork-dev/groundwork"
)

// ExportRunResult is a succeeded export's result as a run read shows it.
type ExportRunResult struct {
	groundwork.ExportResult
	DownloadURL string `json:"download_url,omitempty" doc:"A signed link to the file, valid 15–20 minutes; absent once the export expired."`
	Expired     bool   `json:"expired,omitempty" doc:"The file passed its TTL and was deleted."`
}

// runResults are the result types of the kinds, in the order of Run.kind's enum.
var runResults = []struct {
	kind string
	typ  reflect.Type
}{
	{"export", reflect.TypeFor[ExportRunResult]()},
	{"generation", reflect.TypeFor[groundwork.GenerationResult]()},
	{"research", reflect.TypeFor[groundwork.ResearchResult]()},
	{"airtable", reflect.TypeFor[groundwork.AirtableSyncResult]()},
	{"assessment", reflect.TypeFor[groundwork.AssessmentResult]()},
}

// polledReads are the operations answering If-None-Match with 304.
var polledReads = []string{"get-run", "list-runs"}

// documentContract adds to the generated document what huma cannot see
// from the handlers' types: the headers of a 202, a 429 and the polled
// reads, their 304, and the problem types a client may switch on. A
// generated client is only as good as this document.
func documentContract(o *huma.OpenAPI) {
	str := &huma.Schema{Type: huma.TypeString}
	integer := &huma.Schema{Type: huma.TypeInteger}
	for _, item := range o.Paths {
		for _, op := range []*huma.Operation{item.Get, item.Post, item.Put, item.Patch, item.Delete} {
			if op == nil {
				continue
			}
			// A RawBody field (kept for the request hash) makes huma list an
			// octet-stream body beside the JSON one; the API reads JSON only.
			if rb := op.RequestBody; rb != nil && rb.Content["application/json"] != nil {
				delete(rb.Content, "application/octet-stream")
			}
			// Any operation answers 400 to a request it cannot parse (a bad
			// path or query value, malformed JSON).
			if _, ok := op.Responses["400"]; !ok {
				for _, code := range []string{"401", "404", "422"} {
					if r := op.Responses[code]; r != nil {
						op.Responses["400"] = &huma.Response{Description: "Bad Request", Content: r.Content}
						break
					}
				}
			}
			// Publishing an unchanged definition answers 200 with the latest version.
			if op.OperationID == "publish-assessment-definition" && op.Responses["201"] != nil && op.Responses["200"] == nil {
				created := *op.Responses["201"]
				created.Description = "Unchanged: the latest version, as it was."
				op.Responses["200"] = &created
			}
			if r := op.Responses["202"]; r != nil {
				addHeader(r, "Location", "The run's URL: GET it, or its /events stream, to follow it.", str)
				// Prefer: wait turns the 202 into a 200 with the ended run;
				// Preference-Applied marks only that answer.
				if pa := r.Headers["Preference-Applied"]; pa != nil {
					delete(r.Headers, "Preference-Applied")
					done := &huma.Response{Description: "The run ended within the Prefer: wait time: the run as GET /v1/runs/{id} shows it, with its result or error.",
						Content: r.Content, Headers: maps.Clone(r.Headers)}
					done.Headers["Preference-Applied"] = &huma.Param{Description: "wait=N: the wait preference that let the run end in this answer.", Schema: str}
					op.Responses["200"] = done
				}
			}
			if r := op.Responses["503"]; r != nil {
				addHeader(r, "Retry-After", "Seconds to wait before retrying, when a retry can help (a dependency failing over).", integer)
			}
			if r := op.Responses["429"]; r != nil {
				addHeader(r, "Retry-After", "Seconds to wait before retrying.", integer)
				addHeader(r, "RateLimit-Policy", "The limits in force (IETF draft RateLimit headers), e.g. 10;w=1, 100;w=60.", str)
			}
			for code, r := range op.Responses {
				if strings.HasPrefix(code, "2") {
					addHeader(r, "RateLimit", "The caller's remaining requests in the tightest window and when it resets (IETF draft).", str)
				}
			}
			if slices.Contains(polledReads, op.OperationID) {
				op.Parameters = append(op.Parameters, &huma.Param{Name: "If-None-Match", In: "header", Schema: str,
					Description: "The ETag of a previous answer: 304 Not Modified, without a body, while it still holds."})
				if r := op.Responses["200"]; r != nil {
					addHeader(r, "ETag", "A strong validator of this answer, for If-None-Match.", str)
				}
				op.Responses["304"] = &huma.Response{Description: "Not Modified: the If-None-Match tag still matches; no body.",
					Headers: map[string]*huma.Param{"ETag": {Schema: str, Description: "The answer's validator, unchanged."}}}
			}
		}
	}
	typedRuns(o)
	if p := o.Components.Schemas.Map()["Problem"]; p != nil && p.Properties["type"] != nil {
		t := p.Properties["type"]
		var lines []string
		for _, slug := range slices.Sorted(maps.Keys(groundwork.ProblemTypes)) {
			t.Enum = append(t.Enum, groundwork.ProblemBase+slug)
			lines = append(lines, fmt.Sprintf("- `%s`: %s", slug, groundwork.ProblemTypes[slug]))
		}
		t.Description = "Stable URI of the problem type, " + groundwork.ProblemBase + "<slug>; switch on the slug:\n" + strings.Join(lines, "\n")
	}
	o.Info.Description += "\n\nErrors are RFC 9457 problem documents (`application/problem+json`); the `Problem` schema lists every `type`. " +
		"Every authenticated answer carries the caller's `RateLimit` headers; a 429 says in `Retry-After` when to retry (" + http.StatusText(http.StatusTooManyRequests) + ")."
}

// typedRuns makes Run a oneOf of one schema per kind (ExportRun,
// GenerationRun…), told apart by `kind`, so a generated client narrows a
// run's result by its kind. huma derives one Run from the Go type, whose
// result is untyped; the API sends null for the error until the run fails
// and for the result until it succeeds, and huma cannot mark a $ref
// nullable.
func typedRuns(o *huma.OpenAPI) {
	schemas := o.Components.Schemas.Map()
	run := schemas["Run"]
	if run == nil || run.Properties["error"] == nil || run.Properties["error"].Ref == "" {
		return
	}
	errRef := run.Properties["error"]
	kinds := &huma.Discriminator{PropertyName: "kind", Mapping: map[string]string{}}
	var variants []*huma.Schema
	for _, r := range runResults {
		result := o.Components.Schemas.Schema(r.typ, true, "")
		name := strings.ToUpper(r.kind[:1]) + r.kind[1:] + "Run"
		v := *run
		v.Description = fmt.Sprintf("A run of kind %s; once it succeeded, its result has the shape %s.", r.kind, strings.TrimPrefix(result.Ref, "#/components/schemas/"))
		v.Properties = maps.Clone(run.Properties)
		v.Properties["kind"] = &huma.Schema{Type: huma.TypeString, Enum: []any{r.kind}}
		v.Properties["error"] = &huma.Schema{Description: errRef.Description, OneOf: []*huma.Schema{{Ref: errRef.Ref}, {Type: "null"}}}
		v.Properties["result"] = &huma.Schema{Description: "Null until the run succeeds.", OneOf: []*huma.Schema{result, {Type: "null"}}}
		schemas[name] = &v
		ref := "#/components/schemas/" + name
		kinds.Mapping[r.kind] = ref
		variants = append(variants, &huma.Schema{Ref: ref})
	}
	*run = huma.Schema{
		Description:   "A run: one durable job. Its `kind` says which of the shapes below it has, and so the type of its `result`.",
		OneOf:         variants,
		Discriminator: kinds,
	}
}

func addHeader(r *huma.Response, name, doc string, s *huma.Schema) {
	if r.Headers == nil {
		r.Headers = map[string]*huma.Param{}
	}
	if _, ok := r.Headers[name]; !ok {
		r.Headers[name] = &huma.Param{Description: doc, Schema: s}
	}
}
