package groundwork

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/mail"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Notification types a user may get by e-mail: run events for the runs
// they started (one e-mail per run: the kind's own event when chosen,
// else run.succeeded), an outbound endpoint of theirs disabled, and a
// customer they own stalled.
const (
	NotifyEndpointDisabled = "webhook_endpoint.disabled"
)

// NotificationEvents lists every notification type a user may choose.
var NotificationEvents = []string{EventRunSucceeded, EventRunFailed, EventExportReady, EventResearchCompleted,
	EventGenerationCompleted, EventAssessmentScored, NotifyEndpointDisabled, EventCustomerStalled}

// Notification deliveries.
const (
	// DeliveryImmediate sends each notification as it happens.
	DeliveryImmediate = "immediate"
	// DeliveryDaily gathers a day's notifications into one e-mail.
	DeliveryDaily = "daily"
)

// E-mail templates (internal/notify renders them).
const (
	TemplateRunFinished       = "run-finished"
	TemplateExportReady       = "export-ready"
	TemplateResearchCompleted = "research-completed"
	TemplateEndpointDisabled  = "endpoint-disabled"
	TemplateCustomerStalled   = "customer-stalled"
	TemplateDailyDigest       = "daily-digest"
	TemplateWeeklyDigest      = "weekly-digest"
	TemplateConfirmAddress    = "confirm-address"
)

// NotificationTemplates is the template of each notification type.
var NotificationTemplates = map[string]string{
	EventRunSucceeded:        TemplateRunFinished,
	EventRunFailed:           TemplateRunFinished,
	EventGenerationCompleted: TemplateRunFinished,
	EventAssessmentScored:    TemplateRunFinished,
	EventExportReady:         TemplateExportReady,
	EventResearchCompleted:   TemplateResearchCompleted,
	NotifyEndpointDisabled:   TemplateEndpointDisabled,
	EventCustomerStalled:     TemplateCustomerStalled,
}

// NotificationPreferences are a user's e-mail settings.
type NotificationPreferences struct {
	Email        string   `json:"email" required:"false" maxLength:"254" doc:"Where e-mails go, once confirmed: a new address gets a link to confirm it and is pending_email until then (the confirmed one stays in use); empty: none are sent." example:"ana@example.com"`
	PendingEmail string   `json:"pending_email,omitempty" required:"false" readOnly:"true" doc:"An address waiting for its owner to follow the confirmation link e-mailed to it (valid 7 days)."`
	Events       []string `json:"events" required:"false" maxItems:"20" doc:"The notifications to send: run.succeeded, run.failed, export.ready, research.completed, generation.completed, assessment.scored (for the runs you start; one e-mail per run, the kind's own event before run.succeeded), webhook_endpoint.disabled (endpoints you created), customer.stalled (customers you own)."`
	Delivery     string   `json:"delivery" required:"false" enum:"immediate,daily" doc:"immediate: each as it happens; daily: one digest a day (08:00 UTC)."`
	WeeklyDigest bool     `json:"weekly_digest" required:"false" doc:"A Monday e-mail on the customers you own: who stalled, whose engagement moved."`
	Unsubscribed bool     `json:"unsubscribed" required:"false" doc:"Set by an e-mail's unsubscribe link; saving preferences with false subscribes again."`
}

// Validate checks the address and the notification types.
func (p NotificationPreferences) Validate() []FieldError {
	var errs []FieldError
	if p.Email != "" {
		a, err := mail.ParseAddress(p.Email)
		if err != nil || a.Address != p.Email || a.Name != "" || strings.ContainsAny(p.Email, "\r\n") {
			errs = append(errs, FieldError{Field: "email", Message: "a bare e-mail address like ana@example.com"})
		}
	}
	for i, e := range p.Events {
		if !slices.Contains(NotificationEvents, e) {
			errs = append(errs, FieldError{Field: fmt.Sprintf("events[%d]", i), Message: "one of " + strings.Join(NotificationEvents, ", ")})
		}
	}
	if p.Delivery != DeliveryImmediate && p.Delivery != DeliveryDaily {
		errs = append(errs, FieldError{Field: "delivery", Message: "immediate or daily"})
	}
	return errs
}

// EmailID is the outbox ID of a user's notification about an event, and
// the local part of its Message-ID: derived, so the same event never
// becomes two e-mails and a repeated send repeats the Message-ID.
func EmailID(userID, eventKey string) string {
	sum := sha256.Sum256([]byte(userID + "\x00" + eventKey))
	return "em_" + hex.EncodeToString(sum[:16])
}

// ConfirmTTL is how long an address confirmation link works.
const ConfirmTTL = 7 * 24 * time.Hour

// ConfirmPath is the public route an address confirmation link points at;
// the link's signature covers the user and the address.
func ConfirmPath(userID, email string) string {
	return "/notifications/confirm/" + url.PathEscape(userID) + "/" + url.PathEscape(email)
}

// ConfirmEmailID is the outbox ID of the confirmation of an address: one
// a day at most, however often the address is saved.
func ConfirmEmailID(userID, email string, day time.Time) string {
	return EmailID(userID, "confirm:"+email+":"+day.UTC().Format(time.DateOnly))
}

// UnsubscribeTTL is how long an e-mail's unsubscribe link works.
const UnsubscribeTTL = 400 * 24 * time.Hour

// UnsubscribePath is the public route an e-mail's unsubscribe link points
// at; the link's signature covers it, and so the user's ID.
func UnsubscribePath(userID string) string { return "/unsubscribe/" + url.PathEscape(userID) }

// EmailWorkflowID names the send workflow of an outbox e-mail.
func EmailWorkflowID(emailID string) string { return "email-" + emailID }

// EmailSendInput starts the send of one outbox e-mail.
type EmailSendInput struct {
	EmailID string `json:"email_id"`
	// Scale divides the retry intervals (tests); 0 or 1 is real time.
	Scale int `json:"scale,omitempty"`
}

// EmailSendResult is what one send found.
type EmailSendResult struct {
	// Status is the outbox row's status after the send: sent, suppressed
	// (unsubscribed, no address, no SMTP server) or failed (refused for good).
	Status string `json:"status"`
}

// EmailFailedInput records a send that ran out of retries.
type EmailFailedInput struct {
	EmailID string `json:"email_id"`
	Error   string `json:"error"`
}

// EmailSendRetry is the send activity's retry policy before scaling: a
// mail server that is down gets about a day.
var EmailSendRetry = struct {
	Initial, Max time.Duration
	Attempts     int32
}{Initial: 10 * time.Second, Max: 2 * time.Hour, Attempts: 20}

// Digest kinds.
const (
	DigestDaily  = "daily"
	DigestWeekly = "weekly"
)

// DigestInput runs one digest pass.
type DigestInput struct {
	Kind string `json:"kind"`
}

// DigestResult counts the digests a pass wrote to the outbox.
type DigestResult struct {
	Digests int `json:"digests"`
}

// StalledResult counts the customers a detector pass found newly stalled.
type StalledResult struct {
	Stalled int `json:"stalled"`
}
