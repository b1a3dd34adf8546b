package groundwork

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Outbound webhook event types.
const (
	EventRunSucceeded          = "run.succeeded"
	EventRunFailed             = "run.failed"
	EventExportReady           = "export.ready"
	EventResearchCompleted     = "research.completed"
	EventGenerationCompleted   = "generation.completed"
	EventAirtableSyncCompleted = "airtable.sync.completed"
	EventAssessmentScored      = "assessment.scored"
	EventMilestoneAchieved     = "milestone.achieved"
	EventCustomerStalled       = "customer.stalled"
)

// EventTypes lists every event an endpoint may subscribe to.
var EventTypes = []string{EventRunSucceeded, EventRunFailed, EventExportReady, EventResearchCompleted,
	EventGenerationCompleted, EventAirtableSyncCompleted, EventAssessmentScored, EventMilestoneAchieved, EventCustomerStalled}

// KindEvents is the event a succeeded run of a kind also sends, besides
// run.succeeded.
var KindEvents = map[Kind]string{
	KindExport:       EventExportReady,
	KindResearch:     EventResearchCompleted,
	KindGeneration:   EventGenerationCompleted,
	KindAirtableSync: EventAirtableSyncCompleted,
	KindAssessment:   EventAssessmentScored,
}

// DeliverySchedule is when a message is attempted again after a failed
// attempt, counted from the previous attempt: the usual ~27 h horizon of
// webhook senders. Tests scale it down.
var DeliverySchedule = []time.Duration{5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour,
	5 * time.Hour, 10 * time.Hour, 10 * time.Hour}

// Webhook limits.
const (
	// DeliveryTimeout bounds one delivery attempt.
	DeliveryTimeout = 15 * time.Second
	// EndpointFailingFor disables an endpoint whose deliveries have failed
	// this long without one success.
	EndpointFailingFor = 5 * 24 * time.Hour
	// MaxWebhookBody is the largest inbound message.
	MaxWebhookBody = 1 << 20
	// WebhookTolerance is how far a message's timestamp may be from now.
	WebhookTolerance = 5 * time.Minute
)

// WebhookEndpointSpec is an outbound endpoint as an admin writes it.
type WebhookEndpointSpec struct {
	URL         string            `json:"url" minLength:"1" maxLength:"2000" doc:"Where messages are POSTed: https (or http), checked against the same address policy as research when saved and at every dial." example:"https://hook.eu1.make.com/abc123"`
	Description string            `json:"description,omitempty" maxLength:"500"`
	EventTypes  []string          `json:"event_types" minItems:"1" maxItems:"20" doc:"The events to send (run.succeeded, run.failed, export.ready, research.completed, generation.completed, airtable.sync.completed, assessment.scored, milestone.achieved, customer.stalled)."`
	Headers     map[string]string `json:"headers,omitempty" doc:"Extra headers sent with every message (e.g. a Make.com API key header)."`
	RatePerSec  int               `json:"rate_per_second,omitempty" minimum:"0" maximum:"1000" doc:"Most deliveries a second to this endpoint, across workers; 0: 10."`
	Disabled    bool              `json:"disabled,omitempty" doc:"Stop delivering; messages wait until re-enabled."`
}

var headerName = regexp.MustCompile(`^[A-Za-z0-9-]{1,64}$`)

// reservedHeaders are set by the signer and transport; an endpoint may not
// override them.
var reservedHeaders = []string{"content-type", "content-length", "host", "webhook-id", "webhook-timestamp", "webhook-signature", "user-agent", "connection", "transfer-encoding"}

// Validate checks the endpoint's URL shape, events and headers. The
// address policy is the API's to check.
func (e WebhookEndpointSpec) Validate() []FieldError {
	var errs []FieldError
	u, err := url.Parse(e.URL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
		errs = append(errs, FieldError{Field: "url", Message: "an http(s) URL without credentials"})
	}
	for i, t := range e.EventTypes {
		if !slices.Contains(EventTypes, t) {
			errs = append(errs, FieldError{Field: fmt.Sprintf("event_types[%d]", i), Message: "one of " + strings.Join(EventTypes, ", ")})
		}
	}
	for k, v := range e.Headers {
		if !headerName.MatchString(k) || slices.Contains(reservedHeaders, strings.ToLower(k)) {
			errs = append(errs, FieldError{Field: "headers." + k, Message: "a header name of letters, digits and '-', not one Groundwork sets"})
		}
		if strings.ContainsAny(v, "\r\n") || len(v) > 2000 {
			errs = append(errs, FieldError{Field: "headers." + k, Message: "a single-line value up to 2000 characters"})
		}
	}
	return errs
}

// WebhookDeliveryInput starts the delivery of one outbound message.
type WebhookDeliveryInput struct {
	MessageID  string `json:"message_id"`
	Generation int32  `json:"generation"`
	// Scale divides the retry schedule (tests); 0 or 1 is real time.
	Scale int `json:"scale,omitempty"`
}

// WebhookAttemptInput is one delivery attempt.
type WebhookAttemptInput struct {
	MessageID  string `json:"message_id"`
	Generation int32  `json:"generation"`
	Attempt    int    `json:"attempt"`
}

// WebhookAttemptOutput is what one attempt found.
type WebhookAttemptOutput struct {
	Delivered bool `json:"delivered"`
	// Stop says no further attempt may be made: the endpoint answered 410
	// Gone, was disabled or deleted.
	Stop       bool   `json:"stop"`
	StatusCode int    `json:"status_code"`
	Error      string `json:"error,omitempty"`
	// RetryAfter is the endpoint's Retry-After, when it sent one.
	RetryAfter time.Duration `json:"retry_after,omitempty"`
}

// WebhookExhaustedInput closes a message whose attempts ran out.
type WebhookExhaustedInput struct {
	MessageID  string `json:"message_id"`
	Generation int32  `json:"generation"`
	Attempts   int    `json:"attempts"`
	Error      string `json:"error"`
	Stopped    bool   `json:"stopped"`
}

// WebhookDeliveryResult is what a WebhookDelivery run ended with.
type WebhookDeliveryResult struct {
	Delivered bool `json:"delivered"`
	Attempts  int  `json:"attempts"`
}
