package groundwork

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Customer stages, in the order a customer usually moves through them.
const (
	StageOnboarding = "onboarding"
	StageAdoption   = "adoption"
	StageExpansion  = "expansion"
	StageRenewal    = "renewal"
	StageChurned    = "churned"
)

// CustomerStages lists every stage; the customers table checks the same set.
var CustomerStages = []string{StageOnboarding, StageAdoption, StageExpansion, StageRenewal, StageChurned}

// MaxCustomFieldsBytes caps a customer's custom fields as JSON.
const MaxCustomFieldsBytes = 16 << 10

// CustomerFields are the fields of a customer a client writes. On PATCH an
// absent field keeps its value.
type CustomerFields struct {
	Name         *string         `json:"name,omitempty" maxLength:"200" doc:"Display name." example:"Acme Corp"`
	Domain       *string         `json:"domain,omitempty" maxLength:"253" doc:"The customer's web domain; empty clears it." example:"acme.example"`
	Stage        *string         `json:"stage,omitempty" enum:"onboarding,adoption,expansion,renewal,churned" doc:"Lifecycle stage; onboarding by default."`
	OwnerUserID  *string         `json:"owner_user_id,omitempty" maxLength:"255" doc:"The user who owns the account; empty clears it."`
	ExternalID   *string         `json:"external_id,omitempty" maxLength:"255" doc:"Your own ID (CRM, Airtable), unique in the workspace; empty clears it."`
	CustomFields json.RawMessage `json:"custom_fields,omitempty" doc:"Any JSON object (up to 16 KB); replaces the stored one."`
	StartedAt    *time.Time      `json:"started_at,omitempty" doc:"When the customer relationship started; milestones fall due from it. Default: now."`
}

var domainPattern = regexp.MustCompile(`^(?i)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$`)

// Validate checks the fields; create says a name is required.
func (f CustomerFields) Validate(create bool) []FieldError {
	var errs []FieldError
	if f.Name != nil && strings.TrimSpace(*f.Name) == "" || create && f.Name == nil {
		errs = append(errs, FieldError{Field: "name", Message: "a customer needs a name"})
	}
	if f.Domain != nil && *f.Domain != "" && !domainPattern.MatchString(*f.Domain) {
		errs = append(errs, FieldError{Field: "domain", Message: fmt.Sprintf("%q is not a domain name like acme.example", *f.Domain)})
	}
	if f.Stage != nil && !slices.Contains(CustomerStages, *f.Stage) {
		errs = append(errs, FieldError{Field: "stage", Message: "one of " + strings.Join(CustomerStages, ", ")})
	}
	if len(f.CustomFields) > 0 {
		var obj map[string]any
		switch {
		case len(f.CustomFields) > MaxCustomFieldsBytes:
			errs = append(errs, FieldError{Field: "custom_fields", Message: fmt.Sprintf("at most %d bytes of JSON", MaxCustomFieldsBytes)})
		case json.Unmarshal(f.CustomFields, &obj) != nil || obj == nil:
			errs = append(errs, FieldError{Field: "custom_fields", Message: "must be a JSON object"})
		}
	}
	return errs
}

// Event limits.
const (
	// MaxTrackBatch is the most events one POST /v1/track takes.
	MaxTrackBatch = 1000
	// MaxEventPropertiesBytes caps one event's properties as JSON.
	MaxEventPropertiesBytes = 8 << 10
	// MaxEventFuture is how far ahead of now an event may say it occurred.
	MaxEventFuture = 24 * time.Hour
)

var eventTypePattern = regexp.MustCompile(`^[a-z][a-z0-9_.:-]{0,63}$`)
var eventIDPattern = regexp.MustCompile(`^[A-Za-z0-9_.:-]{1,128}$`)

// TrackEvent is one tracked customer activity.
type TrackEvent struct {
	ID         string          `json:"id" minLength:"1" maxLength:"128" doc:"Your ID of the event; re-sending it is accepted and not counted twice." example:"evt_7f3a"`
	CustomerID string          `json:"customer_id,omitempty" maxLength:"64" doc:"The customer (in POST /v1/track; the path names it otherwise)."`
	Type       string          `json:"type" minLength:"1" maxLength:"64" doc:"What happened, e.g. login, feature_used, meeting." example:"feature_used"`
	OccurredAt time.Time       `json:"occurred_at" doc:"When it happened: not more than 24 h ahead, nor older than the event retention."`
	Properties json.RawMessage `json:"properties,omitempty" doc:"Any JSON object, up to 8 KB."`
}

// Validate checks the event against the clock and the retention; prefix
// names its place in the request ("events[3]." or "").
func (e TrackEvent) Validate(prefix string, now time.Time, retention time.Duration) []FieldError {
	var errs []FieldError
	if !eventIDPattern.MatchString(e.ID) {
		errs = append(errs, FieldError{Field: prefix + "id", Message: "1 to 128 letters, digits, '_', '.', ':' or '-'"})
	}
	if !eventTypePattern.MatchString(e.Type) {
		errs = append(errs, FieldError{Field: prefix + "type", Message: "a lower-case name like feature_used (letters, digits, '_', '.', ':', '-'; up to 64)"})
	}
	switch {
	case e.OccurredAt.IsZero():
		errs = append(errs, FieldError{Field: prefix + "occurred_at", Message: "required (RFC 3339)"})
	case e.OccurredAt.After(now.Add(MaxEventFuture)):
		errs = append(errs, FieldError{Field: prefix + "occurred_at", Message: "more than 24 h in the future"})
	case e.OccurredAt.Before(now.Add(-retention)):
		errs = append(errs, FieldError{Field: prefix + "occurred_at", Message: fmt.Sprintf("older than the event retention (%s)", retention)})
	}
	if len(e.Properties) > 0 {
		var obj map[string]any
		switch {
		case len(e.Properties) > MaxEventPropertiesBytes:
			errs = append(errs, FieldError{Field: prefix + "properties", Message: fmt.Sprintf("at most %d bytes of JSON", MaxEventPropertiesBytes)})
		case json.Unmarshal(e.Properties, &obj) != nil || obj == nil:
			errs = append(errs, FieldError{Field: prefix + "properties", Message: "must be a JSON object"})
		}
	}
	return errs
}
