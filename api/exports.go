package api

import (
	"context"
	"encoding/hex"
	"fmt"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humachi"
	"gocloud.dev/gcerrors"

	"github.com/groundwork-dev/groundwork"
	"github.com/groundwork-dev/groundwork/db"
	"github.com/groundwork-dev/groundwork/db/sqlc"
	"github.com/groundwork-dev/groundwork/internal/document"
)

// Export request size: large tables are accepted, stored in Postgres and
// referenced by ID from the workflow.
const maxExportBody = 16 << 20

// downloadLinkTTL is how long a signed download link works.
const downloadLinkTTL = 15 * time.Minute

type startExportInput struct {
	StartHeaders
	Body    document.Export
	RawBody []byte
}

type startRunOutput struct {
	// Status is 202, or 200 when a Prefer: wait saw the run end.
	Status            int
	Location          string `header:"Location"`
	PreferenceApplied string `header:"Preference-Applied"`
	Body              Run
}

type downloadInput struct {
	ID        string `path:"id" maxLength:"100"`
	Expires   string `query:"expires" doc:"Set by signed download links."`
	Signature string `query:"signature" doc:"Set by signed download links."`
}

func (s *Server) registerExports() {
	huma.Register(s.api, huma.Operation{
		OperationID:   "start-export",
		Method:        http.MethodPost,
		Path:          "/v1/exports",
		Summary:       "Start an export",
		Description:   "Renders a table (csv, pdf, docx), a document (pdf, docx) or a source run's result in the background. Poll the returned run, then follow result.download_url. Refused with quota_exceeded when the caller's unexpired exports fill their quota.",
		Tags:          []string{"exports"},
		DefaultStatus: http.StatusAccepted,
		MaxBodyBytes:  maxExportBody,
		Errors:        []int{400, 401, 409, 413, 422, 429, 503},
	}, func(ctx context.Context, in *startExportInput) (*startRunOutput, error) {
		if errs := in.Body.Validate(); len(errs) > 0 {
			return nil, problem(http.StatusUnprocessableEntity, groundwork.SlugValidation, "the export request is invalid", errs...)
		}
		p, _ := PrincipalFrom(ctx)
		if err := s.checkExportSource(ctx, p.UserID, in.Body.Source); err != nil {
			return nil, err
		}
		if err := s.checkQuota(ctx, p.UserID); err != nil {
			return nil, err
		}
		return s.startOutput(ctx, groundwork.KindExport, in.StartHeaders, in.RawBody)
	})

	huma.Register(s.api, huma.Operation{
		OperationID: "download-export",
		Method:      http.MethodGet,
		Path:        "/v1/exports/{id}/download",
		Summary:     "Download an export's file",
		Description: "With the bearer token of the owner, or with the signed query of result.download_url (valid 15 minutes). Supports Range and conditional requests.",
		Tags:        []string{"exports"},
		Errors:      []int{401, 404, 416, 429, 503},
		Responses: map[string]*huma.Response{
			"200": {Description: "The file.", Content: map[string]*huma.MediaType{
				"text/csv":        {Schema: &huma.Schema{Type: "string"}},
				"application/pdf": {Schema: &huma.Schema{Type: "string", Format: "binary"}},
				"application/vnd.openxmlformats-officedocument.wordprocessingml.document": {Schema: &huma.Schema{Type: "string", Format: "binary"}},
				"application/octet-stream": {Schema: &huma.Schema{Type: "string", Format: "binary"}},
			}},
			"206": {Description: "Part of the file (Range)."},
			"304": {Description: "Not modified (If-None-Match)."},
		},
	}, func(ctx context.Context, in *downloadInput) (*huma.StreamResponse, error) {
		exp, err := s.exportFor(ctx, in.ID)
		if err != nil {
			return nil, err
		}
		return &huma.StreamResponse{Body: func(hctx huma.Context) {
			r, w := humachi.Unwrap(hctx)
			s.serveExport(w, r, exp)
		}}, nil
	})
}

// checkExportSource refuses a source the caller does not own or that cannot
// be rendered, before any work starts.
func (s *Server) checkExportSource(ctx context.Context, owner string, src *document.Source) error {
	if src == nil {
		return nil
	}
	invalid := func(msg string) error {
		return problem(http.StatusUnprocessableEntity, groundwork.SlugValidation, "the export request is invalid",
			document.FieldError{Field: "source.run_id", Message: msg})
	}
	if _, _, err := groundwork.ParseRunID(src.RunID); err != nil {
		return invalid("no run with this ID")
	}
	run, err := s.q.RunGetForOwner(ctx, sqlc.RunGetForOwnerParams{ID: src.RunID, OwnerID: owner})
	if db.IsNotFound(err) {
		return invalid("no run with this ID")
	}
	if err != nil {
		return dependencyError("postgres", err)
	}
	if msg := groundwork.ExportSourceRefusal(run.Kind, string(run.Status)); msg != "" {
		return invalid(msg)
	}
	return nil
}

// checkQuota refuses an export when the caller's unexpired exports already
// fill the quota; the record step enforces it exactly once the size is known.
func (s *Server) checkQuota(ctx context.Context, owner string) error {
	if s.d.QuotaBytes <= 0 {
		return nil
	}
	used, err := s.q.ExportUsageForOwner(ctx, sqlc.ExportUsageForOwnerParams{OwnerID: owner, Now: s.d.Now()})
	if err != nil {
		return dependencyError("postgres", err)
	}
	if used >= s.d.QuotaBytes {
		return problem(http.StatusUnprocessableEntity, groundwork.SlugQuotaExceeded, groundwork.QuotaMessage(used, 0, s.d.QuotaBytes))
	}
	return nil
}

// exportFor loads an export the caller may download: its owner's, or the
// one a signed link names.
func (s *Server) exportFor(ctx context.Context, id string) (sqlc.Export, error) {
	if _, _, err := groundwork.ParseRunID(id); err != nil {
		return sqlc.Export{}, notFound("export")
	}
	var (
		exp sqlc.Export
		err error
	)
	if signed := signedExportID(ctx); signed != "" {
		if signed != id {
			return sqlc.Export{}, notFound("export")
		}
		exp, err = s.q.ExportGet(ctx, id)
	} else {
		p, _ := PrincipalFrom(ctx)
		exp, err = s.q.ExportGetForOwner(ctx, sqlc.ExportGetForOwnerParams{ID: id, OwnerID: p.UserID})
	}
	if db.IsNotFound(err) {
		return sqlc.Export{}, notFound("export")
	}
	if err != nil {
		return sqlc.Export{}, dependencyError("postgres", err)
	}
	if s.d.Now().After(exp.ExpiresAt) {
		return sqlc.Export{}, notFound("export")
	}
	return exp, nil
}

// serveExport streams the blob with http.ServeContent, which answers Range,
// If-Range, If-None-Match and If-Modified-Since correctly.
func (s *Server) serveExport(w http.ResponseWriter, r *http.Request, exp sqlc.Export) {
	rd, err := s.d.Bucket.NewReader(r.Context(), exp.BlobKey, nil)
	if err != nil {
		if gcerrors.Code(err) == gcerrors.NotFound {
			writeProblem(w, notFound("export file"))
			return
		}
		s.d.Log.ErrorContext(r.Context(), "open export blob", "export_id", exp.ID, "error", err)
		writeProblem(w, dependencyError("blob store", err))
		return
	}
	defer rd.Close()
	h := w.Header()
	h.Set("Content-Type", exp.ContentType)
	h.Set("Content-Disposition", contentDisposition(exp.Filename))
	h.Set("ETag", `"`+hex.EncodeToString(exp.Sha256)+`"`)
	h.Set("Cache-Control", "private, no-cache")
	h.Set("X-Content-Type-Options", "nosniff")
	http.ServeContent(w, r, "", exp.CreatedAt, rd)
}

// contentDisposition builds an RFC 6266 attachment header with an ASCII
// fallback name and the exact UTF-8 name in filename*.
func contentDisposition(name string) string {
	fallback := strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' || r == '%' {
			return '_'
		}
		return r
	}, name)
	v := mime.FormatMediaType("attachment", map[string]string{"filename": fallback})
	if v == "" {
		v = "attachment"
	}
	if fallback != name {
		v += "; filename*=UTF-8''" + rfc5987Escape(name)
	}
	return v
}

// rfc5987Escape percent-encodes every byte that is not an RFC 5987 attr-char.
func rfc5987Escape(s string) string {
	const attrChars = "!#$&+-.^_`|~"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte(attrChars, c) >= 0 {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}

// downloadURL is a signed link to an export, valid for downloadLinkTTL.
func (s *Server) downloadURL(exportID string) string {
	path := fmt.Sprintf("/v1/exports/%s/download", exportID)
	return s.d.PublicURL + path + "?" + s.d.Signer.Sign(path, linkExpiry(s.d.Now()))
}

// linkWindow rounds the expiry of signed links, so a run read twice in a
// window answers the same link — and the same ETag to a poll.
const linkWindow = 5 * time.Minute

// linkExpiry is when a link signed at now expires: at least
// downloadLinkTTL, at most linkWindow more.
func linkExpiry(now time.Time) time.Time {
	return now.Truncate(linkWindow).Add(downloadLinkTTL + linkWindow)
}
