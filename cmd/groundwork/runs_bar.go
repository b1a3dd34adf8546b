package main

import (
	"fmt"
	"io"

	"github.com/schollz/progressbar/v3"

	"github.com/groundwork-dev/groundwork/client"
)

// runBar draws one bar per stage: a new stage or total starts a new line,
// so finished stages stay visible above the current one.
type runBar struct {
	w       io.Writer
	bar     *progressbar.ProgressBar
	stage   string
	total   int64
	version int64
}

// update draws the run's progress.
func (b *runBar) update(r *client.Run) {
	p := r.Progress
	if b.bar != nil && p.Version < b.version {
		return // stale: an older state seen after a reconnect
	}
	b.version = p.Version
	desc := clip(describeProgress(p, false), maxBarDescription)
	if b.bar == nil || p.Stage != b.stage || p.Total != b.total {
		b.close()
		b.bar, b.stage, b.total = newStageBar(b.w, p.Total, desc), p.Stage, p.Total
	}
	b.bar.Describe(desc)
	if p.Total > 0 {
		_ = b.bar.Set64(min(max(p.Done, 0), p.Total))
	}
}

// close ends the current line. A spinner must be finished, or its
// goroutine keeps drawing; a bar is left where it stood, so a failed run
// does not show 100%.
func (b *runBar) close() {
	if b.bar == nil {
		return
	}
	if b.total > 0 {
		_ = b.bar.Exit()
	} else {
		_ = b.bar.Finish()
	}
	_, _ = fmt.Fprintln(b.w)
	b.bar = nil
}

// maxBarDescription keeps the bar on one line of a narrow terminal; a
// wrapped line cannot be redrawn in place.
const maxBarDescription = 48

// clip shortens s to n runes, marking the cut.
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// newStageBar is a counting bar, or a spinner while the total is unknown.
func newStageBar(w io.Writer, total int64, desc string) *progressbar.ProgressBar {
	opts := []progressbar.Option{
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(desc),
		progressbar.OptionSetWidth(30),
		// Rendering at once sets the start time before the spinner's
		// goroutine begins reading it.
		progressbar.OptionSetRenderBlankState(true),
	}
	if total <= 0 {
		return progressbar.NewOptions64(-1, append(opts, progressbar.OptionSpinnerType(14))...)
	}
	return progressbar.NewOptions64(total, append(opts, progressbar.OptionShowCount())...)
}
