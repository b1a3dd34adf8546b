package api

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"github.com/groundwork-dev/groundwork"
)

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
			if r := op.Responses["202"]; r != nil {
				addHeader(r, "Location", "The run's URL: GET it, or its /events stream, to follow it.", str)
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
	// huma cannot mark a $ref nullable; the API sends null for a run's
	// error until it fails.
	if run := o.Components.Schemas.Map()["Run"]; run != nil && run.Properties["error"] != nil && run.Properties["error"].Ref != "" {
		e := run.Properties["error"]
		run.Properties["error"] = &huma.Schema{Description: e.Description, OneOf: []*huma.Schema{{Ref: e.Ref}, {Type: "null"}}}
	}
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

func addHeader(r *huma.Response, name, doc string, s *huma.Schema) {
	if r.Headers == nil {
		r.Headers = map[string]*huma.Param{}
	}
	if _, ok := r.Headers[name]; !ok {
		r.Headers[name] = &huma.Param{Description: doc, Schema: s}
	}
}
