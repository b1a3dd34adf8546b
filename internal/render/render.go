package render

import (
	"errors"
	"time"
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
