package groundwork

import "time"

// ExportInput starts an Export. The request body itself stays in Postgres
// (run_inputs) so large tables never travel through workflow history.
type ExportInput struct {
	RunID   string `json:"run_id"`
	OwnerID string `json:"owner_id"`
}

// ExportPlan is what ExportPrepare learned from the stored request.
type ExportPlan struct {
	Format   string `json:"format"`
	Filename string `json:"filename"`
	Rows     int64  `json:"rows"`
	Columns  int64  `json:"columns"`
	// Local is set for a table small enough to render inside the
	// workflow task (a local activity) instead of on the render queue:
	// the whole run then takes one workflow task.
	Local bool `json:"local,omitempty"`
}

// LocalRenderCells is the most cells (rows × columns) a table may have to
// be rendered as a local activity: a few milliseconds of work, where the
// render queue's dispatch and second workflow task cost more than the
// render itself.
const LocalRenderCells = 20_000

// ExportRenderInput tells ExportRender which run to render.
type ExportRenderInput struct {
	RunID string `json:"run_id"`
}

// RenderedFile describes an uploaded file.
type RenderedFile struct {
	BlobKey     string `json:"blob_key"`
	ContentType string `json:"content_type"`
	SizeBytes   int64  `json:"size_bytes"`
	SHA256      string `json:"sha256"`
	Rows        int64  `json:"rows"`
	Pages       int64  `json:"pages"`
	// Warnings says what could not be rendered faithfully.
	Warnings []string `json:"warnings,omitempty"`
}

// RenderProgress is the heartbeat detail of ExportRender; the API shows it
// as the run's progress while the workflow is in its rendering stage, so a
// long render reports "page n of m" without a workflow task per page.
type RenderProgress struct {
	Done  int64  `json:"done"`
	Total int64  `json:"total"`
	Unit  string `json:"unit"`
}

// ExportRecordInput is what ExportRecord stores.
type ExportRecordInput struct {
	RunID   string       `json:"run_id"`
	OwnerID string       `json:"owner_id"`
	Plan    ExportPlan   `json:"plan"`
	File    RenderedFile `json:"file"`
	// Progress is the run's final progress, stored with the result.
	Progress Progress `json:"progress"`
}

// ExportResult is the result of a succeeded Export; the API adds a fresh
// signed download_url when it serves it.
type ExportResult struct {
	ExportID    string    `json:"export_id"`
	Format      string    `json:"format"`
	Filename    string    `json:"filename"`
	ContentType string    `json:"content_type"`
	SizeBytes   int64     `json:"size_bytes"`
	Rows        int64     `json:"rows,omitempty"`
	Pages       int64     `json:"pages,omitempty"`
	ExpiresAt   time.Time `json:"expires_at"`
	Warnings    []string  `json:"warnings,omitempty"`
}

// CleanupResult counts what a cleanup deleted.
type CleanupResult struct {
	Deleted int   `json:"deleted"`
	Bytes   int64 `json:"bytes"`
	// Orphans counts files no export references that were swept: what a
	// render killed mid-upload left behind.
	Orphans int `json:"orphans,omitempty"`
}
