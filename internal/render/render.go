package render

import (
	"errors"
	"time"

	"github.com/groundwork-dev/groundwork/internal/document"
)

// Options tune a document renderer.
type Options struct {
	// Created is the document's creation date property.
	Created time.Time
	// Progress, when not nil, is called as pages are laid out with the
	// pages done so far and the total when known (0 while unknown); an
	// error from it stops rendering (a canceled activity).
	Progress func(done, total int) error
}

// Result describes a rendered document.
type Result struct {
	// Pages is the page count (PDF; for DOCX an estimate or 0).
	Pages int
	// Warnings lists what could not be rendered faithfully (e.g. glyphs no
	// font has, drawn as a visible replacement). Never silent.
	Warnings []string
}

// ErrCanceled is returned when Options.Progress asked to stop.
var ErrCanceled = errors.New("render canceled")

// ContentType returns the MIME type of a format.
func ContentType(f document.Format) string {
	switch f {
	case document.FormatCSV:
		return "text/csv; charset=utf-8"
	case document.FormatPDF:
		return "application/pdf"
	case document.FormatDOCX:
		return "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
	default:
		return "application/octet-stream"
	}
}
