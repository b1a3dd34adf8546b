package groundwork

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/oklog/ulid/v2"
)

// Task queues, one per kind of limited resource. Which activity runs on
// which queue is in workflows/policy.go; how many run at once on a worker
// is in internal/config.
const (
	// TaskQueueDefault carries workflows, local activities and cheap activities.
	TaskQueueDefault = "groundwork"
	// TaskQueueRender carries CPU-bound rendering activities.
	TaskQueueRender = "render"
	// TaskQueueBrowser carries Chrome activities with bounded concurrency.
	TaskQueueBrowser = "browser"
	// TaskQueueLLM carries rate-limited LLM calls.
	TaskQueueLLM = "llm"
	// TaskQueueAirtable carries Airtable calls (5 req/s per base).
	TaskQueueAirtable = "airtable"
	// TaskQueueAssessment carries CPU-bound assessment scoring.
	TaskQueueAssessment = "assessment"
	// TaskQueueDelivery carries outbound webhook deliveries (and e-mail).
	TaskQueueDelivery = "delivery"
)

// Workflow type names as registered with Temporal. They are wire
// contracts: histories in flight replay only under the same names.
const (
	// WorkflowExport renders a file from a stored request.
	WorkflowExport = "Export"
	// WorkflowExportsCleanup deletes expired exports (scheduled).
	WorkflowExportsCleanup = "ExportsCleanup"
	// WorkflowGenerate answers a prompt template with an LLM.
	WorkflowGenerate = "Generate"
	// WorkflowResearch researches a company's website.
	WorkflowResearch = "Research"
	// WorkflowAirtableSync syncs one Airtable mapping both ways.
	WorkflowAirtableSync = "AirtableSync"
	// WorkflowAirtableSyncScheduled is what a mapping's Schedule starts.
	WorkflowAirtableSyncScheduled = "AirtableSyncScheduled"
	// WorkflowAssessment scores a customer's assessment.
	WorkflowAssessment = "Assessment"
	// WorkflowAnalyticsRollup rolls events and runs up into hourly and daily
	// figures (scheduled).
	WorkflowAnalyticsRollup = "AnalyticsRollup"
	// WorkflowEventPartitions creates the events table's partitions ahead
	// and drops those past retention (scheduled).
	WorkflowEventPartitions = "EventPartitions"
	// WorkflowWebhookDelivery delivers one outbound webhook message with retries.
	WorkflowWebhookDelivery = "WebhookDelivery"
	// WorkflowWebhookInbound carries out one inbound webhook message's action.
	WorkflowWebhookInbound = "WebhookInbound"
	// WorkflowEmailSend sends one outbox e-mail with retries.
	WorkflowEmailSend = "EmailSend"
	// WorkflowEmailDigest writes the daily or weekly digests (scheduled).
	WorkflowEmailDigest = "EmailDigest"
	// WorkflowStalledCustomers sends customer.stalled for new stalls (scheduled).
	WorkflowStalledCustomers = "StalledCustomers"
)

// Activity type names as registered with Temporal, grouped by workflow.
// Like workflow names they are wire contracts.
const (
	// ActivityExportPrepare validates the stored request (local activity).
	ActivityExportPrepare = "ExportPrepare"
	// ActivityExportRender renders and uploads the file (render queue).
	ActivityExportRender = "ExportRender"
	// ActivityExportRecord records the file and closes the run (local activity).
	ActivityExportRecord = "ExportRecord"
	// ActivityExportDiscard removes what a failed or canceled run made (local activity).
	ActivityExportDiscard = "ExportDiscard"

	// ActivityExportsDeleteExpired deletes exports past their TTL.
	ActivityExportsDeleteExpired = "ExportsDeleteExpired"

	// ActivityLLMGenerate renders the prompt and calls the providers (llm queue).
	ActivityLLMGenerate = "LLMGenerate"
	// ActivityGenerateRecord closes the run with its stored answer (local activity).
	ActivityGenerateRecord = "GenerateRecord"
	// ActivityGenerateDiscard closes a failed or canceled run (local activity).
	ActivityGenerateDiscard = "GenerateDiscard"

	// ActivityResearchPrepare loads and checks the stored request (local activity).
	ActivityResearchPrepare = "ResearchPrepare"
	// ActivityResearchFetch renders one page in Chrome and stores it (browser queue).
	ActivityResearchFetch = "ResearchFetch"
	// ActivityResearchDiscover reads robots.txt and sitemaps and plans the pages (browser queue).
	ActivityResearchDiscover = "ResearchDiscover"
	// ActivityResearchSummarize asks the LLM chain for the company profile (llm queue).
	ActivityResearchSummarize = "ResearchSummarize"
	// ActivityResearchReport builds and stores the report (default queue).
	ActivityResearchReport = "ResearchReport"
	// ActivityResearchRecord closes the run with its report (local activity).
	ActivityResearchRecord = "ResearchRecord"
	// ActivityResearchDiscard closes a failed or canceled run (local activity).
	ActivityResearchDiscard = "ResearchDiscard"

	// ActivityAirtablePrepare loads the run's mapping and cursors (local activity).
	ActivityAirtablePrepare = "AirtablePrepare"
	// ActivityAirtableFetch reads changed Airtable records into the run's staging (airtable queue).
	ActivityAirtableFetch = "AirtableFetch"
	// ActivityAirtablePlan decides every record's writes (default queue).
	ActivityAirtablePlan = "AirtablePlan"
	// ActivityAirtableApply writes a batch of decisions to both sides (airtable queue).
	ActivityAirtableApply = "AirtableApply"
	// ActivityAirtableFinish saves the cursors and closes the run (local activity).
	ActivityAirtableFinish = "AirtableFinish"
	// ActivityAirtableDiscard closes a failed or canceled run (local activity).
	ActivityAirtableDiscard = "AirtableDiscard"
	// ActivityAirtableLaunch records a scheduled sync's run (local activity).
	ActivityAirtableLaunch = "AirtableLaunch"

	// ActivityAssessmentScore scores, stores and achieves milestones (assessment queue).
	ActivityAssessmentScore = "AssessmentScore"
	// ActivityAssessmentRecommend writes the recommendations (llm queue).
	ActivityAssessmentRecommend = "AssessmentRecommend"
	// ActivityAssessmentRecord closes the run with its result (local activity).
	ActivityAssessmentRecord = "AssessmentRecord"
	// ActivityAssessmentDiscard closes a failed or canceled run (local activity).
	ActivityAssessmentDiscard = "AssessmentDiscard"

	// ActivityAnalyticsRollup recomputes one granularity's rollups from its watermark.
	ActivityAnalyticsRollup = "AnalyticsRollup"
	// ActivityEventPartitions creates and drops the events table's partitions.
	ActivityEventPartitions = "EventPartitions"

	// ActivityWebhookAttempt makes one delivery attempt (delivery queue).
	ActivityWebhookAttempt = "WebhookAttempt"
	// ActivityWebhookExhausted dead-letters a message out of attempts (local activity).
	ActivityWebhookExhausted = "WebhookExhausted"
	// ActivityInboundPrepare turns an inbound message into its action (default queue).
	ActivityInboundPrepare = "InboundPrepare"
	// ActivityInboundFinish records how the action ended (local activity).
	ActivityInboundFinish = "InboundFinish"

	// ActivityEmailSend renders and sends one outbox e-mail (delivery queue).
	ActivityEmailSend = "EmailSend"
	// ActivityEmailFailed records a send that ran out of retries (local activity).
	ActivityEmailFailed = "EmailFailed"
	// ActivityEmailDigest gathers notifications into digest e-mails.
	ActivityEmailDigest = "EmailDigest"
	// ActivityStalledCustomers finds customers newly stalled and records their events.
	ActivityStalledCustomers = "StalledCustomers"
)

// InboundWorkflowID names the action workflow of an inbound message: from
// its source and webhook-id, so a re-delivered message never starts twice.
func InboundWorkflowID(sourceID, webhookID string) string {
	sum := sha256.Sum256([]byte(sourceID + "\x00" + webhookID))
	return "hook-" + sourceID + "-" + hex.EncodeToString(sum[:12])
}

// InboundRunID is the ID of the run an inbound message starts, derived
// from its source and webhook-id like its workflow's: a valid run ID
// (kind and ULID) whose ULID is the hash's, with the time of receipt.
func InboundRunID(kind Kind, sourceID, webhookID string, received time.Time) string {
	sum := sha256.Sum256([]byte("run\x00" + sourceID + "\x00" + webhookID))
	var id ulid.ULID
	copy(id[6:], sum[:10])
	_ = id.SetTime(ulid.Timestamp(received))
	return string(kind) + "-" + id.String()
}

// WebhookWorkflowID names the delivery workflow of a message's generation
// (each resend is a generation).
func WebhookWorkflowID(messageID string, generation int32) string {
	return fmt.Sprintf("webhook-%s-%d", messageID, generation)
}

// QueryProgress is the query every workflow answers with its Progress.
const QueryProgress = "progress"

// Search attribute names registered on the Temporal namespace. Their
// typed keys are built where the Temporal SDK is imported.
const (
	// SearchAttrOwnerName is the keyword attribute holding the owning user ID.
	SearchAttrOwnerName = "GroundworkOwner"
	// SearchAttrKindName is the keyword attribute holding the run kind.
	SearchAttrKindName = "GroundworkKind"
)

// Schedules: their IDs, and the execution timeout of the runs they start
// where no run kind gives one.
const (
	// ScheduleExportsCleanup is the ID of the Temporal Schedule that runs
	// ExportsCleanup, and the workflow ID prefix of its runs.
	ScheduleExportsCleanup = "exports-cleanup"
	// ExportsCleanupTimeout bounds one scheduled cleanup run.
	ExportsCleanupTimeout = time.Hour
	// ScheduleAnalyticsRollup prefixes the IDs of the Temporal Schedules
	// that run AnalyticsRollup: "-hour" and "-day".
	ScheduleAnalyticsRollup = "analytics-rollup"
	// MaintenanceTimeout bounds one scheduled rollup or partitions run.
	MaintenanceTimeout = time.Hour
	// ScheduleEventPartitions is the ID of the Temporal Schedule that runs
	// EventPartitions.
	ScheduleEventPartitions = "event-partitions"
	// ScheduleDailyDigest and ScheduleWeeklyDigest are the IDs of the
	// Temporal Schedules that run EmailDigest.
	ScheduleDailyDigest  = "email-digest-daily"
	ScheduleWeeklyDigest = "email-digest-weekly"
	// ScheduleStalledCustomers is the ID of the Temporal Schedule that runs
	// StalledCustomers.
	ScheduleStalledCustomers = "customers-stalled"
	// SearchAttrKindAirtableSchedule is the GroundworkKind of a mapping's
	// scheduled launcher runs, which are not runs a user sees.
	SearchAttrKindAirtableSchedule = "airtable-schedule"
)

// ScheduleIDForMapping names a mapping's Temporal Schedule.
func ScheduleIDForMapping(mappingID string) string { return "airtable-sync-" + mappingID }
