package groundwork

import "time"

// Run statuses as stored in runs.status and shown by the API.
const (
	// RunQueued is a run whose workflow has not started its first task.
	RunQueued = "queued"
	// RunRunning is a run in progress.
	RunRunning = "running"
	// RunSucceeded is a run that finished with a result.
	RunSucceeded = "succeeded"
	// RunFailed is a run that ended with an error.
	RunFailed = "failed"
	// RunCanceled is a run canceled by its owner.
	RunCanceled = "canceled"
	// RunTimedOut is a run that did not finish within its execution timeout.
	RunTimedOut = "timed_out"
)

// Stages shared by every workflow's Progress.
const (
	// StageQueued is reported before the workflow's first task ran.
	StageQueued = "queued"
	// StageDone is the last stage of a successful run.
	StageDone = "done"
	// StageFailed is the last stage of a failed run.
	StageFailed = "failed"
	// StageCanceled is the last stage of a canceled run.
	StageCanceled = "canceled"
)

// Stages of an Export run.
const (
	// StageValidating checks the stored request.
	StageValidating = "validating"
	// StageRendering renders and uploads the file; the API adds the render
	// activity's page counts to it.
	StageRendering = "rendering"
	// StageStoring records the file.
	StageStoring = "storing"
)

// StageDeleting is the stage of an ExportsCleanup run.
const StageDeleting = "deleting"

// StageGenerating is the stage in which the LLM activity runs; the API adds
// the activity's streamed tokens and partial text to it.
const StageGenerating = "generating"

// Stages of a Research run.
const (
	// StageDiscovering fetches the home page, robots.txt and sitemaps.
	StageDiscovering = "discovering"
	// StageFetching renders the planned pages.
	StageFetching = "fetching"
	// StageSummarizing turns the pages into a company profile.
	StageSummarizing = "summarizing"
)

// Stages of an AirtableSync run.
const (
	// StageReading reads the Airtable records changed since the last sync.
	StageReading = "reading"
	// StagePlanning decides every record's writes.
	StagePlanning = "planning"
	// StageWriting applies the decisions to both sides.
	StageWriting = "writing"
)

// Stages of an Assessment run.
const (
	// StageScoring checks the answers, scores them and stores the result.
	StageScoring = "scoring"
	// StageRecommending writes the recommendations.
	StageRecommending = "recommending"
)

// Stages of the scheduled analytics maintenance runs.
const (
	// StageRollingUp recomputes analytics rollups.
	StageRollingUp = "rolling_up"
	// StagePartitioning creates and drops event partitions.
	StagePartitioning = "partitioning"
	// StageDigesting gathers notifications into digest e-mails.
	StageDigesting = "digesting"
	// StageDetecting looks for customers newly stalled.
	StageDetecting = "detecting"
)

// Progress is the answer to the "progress" query of every workflow.
type Progress struct {
	Stage     string    `json:"stage"`
	Done      int64     `json:"done"`
	Total     int64     `json:"total"`
	Message   string    `json:"message"`
	UpdatedAt time.Time `json:"updated_at"`
	// Version grows by one with every change, so pollers and SSE streams can
	// tell a new state from the one they already sent.
	Version int64 `json:"version"`
	// Text is the answer streamed so far by a running generation; the API
	// fills it in from the LLM activity's heartbeat, the workflow never
	// sets it.
	Text string `json:"text,omitempty"`
}

// Percent is Done/Total as a whole percentage, 0 when Total is unknown.
func (p Progress) Percent() int {
	if p.Total <= 0 {
		return 0
	}
	pct := int(p.Done * 100 / p.Total)
	return min(max(pct, 0), 100)
}

// RunDiscardInput closes a run that did not succeed and removes its files.
type RunDiscardInput struct {
	RunID  string    `json:"run_id"`
	Status string    `json:"status"`
	Error  *RunError `json:"error,omitempty"`
	// Progress is the run's final progress, stored with the outcome.
	Progress Progress `json:"progress"`
}

// Roles a principal holds in its workspace.
const (
	// RoleAdmin may change the workspace's shared data (Airtable mappings,
	// API keys) and read every member's runs.
	RoleAdmin = "admin"
	// RoleMember starts and reads its own runs and reads shared data.
	RoleMember = "member"
)
