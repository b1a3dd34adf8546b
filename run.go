package groundwork

import "time"

// Run is a run as the API shows it (GET /v1/runs/{id}, the list, the start
// answers and the SSE events). It lives in the contract rather than in api/
// so the public Go client decodes the very struct the API encodes.
type Run struct {
	ID        string         `json:"id" doc:"The workflow ID; use it in every /v1/runs/{id} route." example:"export-01JD4X7Q2W6ZC5D3V9N8K1M2P3"`
	Kind      string         `json:"kind" enum:"export,generation,research,airtable,assessment"`
	Status    string         `json:"status" enum:"queued,running,succeeded,failed,canceled,timed_out"`
	CreatedAt time.Time      `json:"created_at"`
	UpdatedAt time.Time      `json:"updated_at"`
	Progress  RunProgress    `json:"progress"`
	Result    map[string]any `json:"result" nullable:"true" doc:"Set when the run succeeded (null before); exports carry download_url."`
	Error     *RunError      `json:"error" doc:"Set when the run failed (null otherwise)."`
}

// RunProgress is the workflow's Progress as the API shows it, with a
// computed percentage.
type RunProgress struct {
	Stage     string    `json:"stage" example:"rendering"`
	Done      int64     `json:"done"`
	Total     int64     `json:"total"`
	Percent   int       `json:"percent" minimum:"0" maximum:"100"`
	Message   string    `json:"message"`
	UpdatedAt time.Time `json:"updated_at"`
	Version   int64     `json:"version" doc:"Grows with every stage change; the SSE event ID."`
	Text      string    `json:"text,omitempty" doc:"A running generation's answer streamed so far."`
}

// RunEnded reports whether a run in status will change no more: it
// succeeded, failed, was canceled or timed out.
func RunEnded(status string) bool {
	switch status {
	case RunSucceeded, RunFailed, RunCanceled, RunTimedOut:
		return true
	}
	return false
}
