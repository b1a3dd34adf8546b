package groundwork

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
)

// Inbound webhook source modes.
const (
	// SourceSignature accepts only messages signed per Standard Webhooks.
	SourceSignature = "signature"
	// SourceToken accepts messages carrying the source's token in the
	// X-Webhook-Token header: for senders that cannot sign. Weaker: the
	// token travels with every message and a captured one can be replayed.
	SourceToken = "token"
	// TokenHeader is the header a token-mode source reads.
	TokenHeader = "X-Webhook-Token"
)

// Inbound actions.
const (
	ActionTrack  = "track"
	ActionSignal = "signal"
)

// SourceAction says what a source does with each message: track events
// (the payload, or the value at Map["events"], is a /v1/track batch or one
// event), start a run of a kind (export, research, generation, assessment)
// from a request built from Static with Map's payload paths over it, or
// signal a run of the workspace (its ID at Map["run_id"]) with Signal.
type SourceAction struct {
	Type   string            `json:"type" enum:"track,export,research,generation,assessment,signal" doc:"What each message does."`
	Map    map[string]string `json:"map,omitempty" doc:"Request field ← dotted path in the message, e.g. {\"company\": \"data.company_name\"}."`
	Static map[string]any    `json:"static,omitempty" doc:"Fixed request fields the mapped ones go over."`
	Signal string            `json:"signal,omitempty" maxLength:"100" doc:"signal: the signal's name."`
}

// WebhookSourceSpec is an inbound source as an admin writes it.
type WebhookSourceSpec struct {
	Name           string       `json:"name" minLength:"1" maxLength:"200" example:"Make: new lead"`
	Mode           string       `json:"mode,omitempty" enum:"signature,token" doc:"signature (default): Standard Webhooks signatures; token: a static X-Webhook-Token header, for senders that cannot sign (weaker)."`
	Action         SourceAction `json:"action"`
	ScenarioHeader string       `json:"scenario_header,omitempty" maxLength:"100" doc:"A header whose value is kept with each message to trace the sender's execution, e.g. X-Make-Execution-Id."`
	Disabled       bool         `json:"disabled,omitempty"`
}

var pathPattern = regexp.MustCompile(`^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$`)

// runActions are the actions that start a run of their kind.
var runActions = map[string]Kind{"export": KindExport, "research": KindResearch, "generation": KindGeneration, "assessment": KindAssessment}

// RunKind returns the kind of run the action starts, if it starts one.
func (a SourceAction) RunKind() (Kind, bool) {
	k, ok := runActions[a.Type]
	return k, ok
}

// Validate checks the source's mode, action and paths.
func (s WebhookSourceSpec) Validate() []FieldError {
	var errs []FieldError
	if strings.TrimSpace(s.Name) == "" {
		errs = append(errs, FieldError{Field: "name", Message: "a source needs a name"})
	}
	if s.Mode != "" && s.Mode != SourceSignature && s.Mode != SourceToken {
		errs = append(errs, FieldError{Field: "mode", Message: "signature or token"})
	}
	_, isRun := s.Action.RunKind()
	if !isRun && s.Action.Type != ActionTrack && s.Action.Type != ActionSignal {
		errs = append(errs, FieldError{Field: "action.type", Message: "track, export, research, generation, assessment or signal"})
	}
	for field, path := range s.Action.Map {
		if !pathPattern.MatchString(path) {
			errs = append(errs, FieldError{Field: "action.map." + field, Message: "a dotted path like data.company"})
		}
	}
	if s.Action.Type == ActionSignal && (s.Action.Signal == "" || s.Action.Map["run_id"] == "") {
		errs = append(errs, FieldError{Field: "action", Message: "a signal action names the signal and maps run_id"})
	}
	if b, err := json.Marshal(s.Action.Static); err != nil || len(b) > 64<<10 {
		errs = append(errs, FieldError{Field: "action.static", Message: "a JSON object up to 64 KB"})
	}
	if s.ScenarioHeader != "" && !headerName.MatchString(s.ScenarioHeader) {
		errs = append(errs, FieldError{Field: "scenario_header", Message: "a header name"})
	}
	return errs
}

// Lookup returns the value at a dotted path of a decoded JSON document.
func Lookup(doc any, path string) (any, bool) {
	cur := doc
	for _, part := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[part]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// BuildRequest builds an action's request from a message: Static, with
// each mapped path's value over it. A path the message lacks is an error.
func (a SourceAction) BuildRequest(message any) (map[string]any, error) {
	req := map[string]any{}
	for k, v := range a.Static {
		req[k] = v
	}
	for field, path := range a.Map {
		v, ok := Lookup(message, path)
		if !ok {
			return nil, fmt.Errorf("the message has no %s (for %s)", path, field)
		}
		req[field] = v
	}
	return req, nil
}

// InboundInput starts the action of one inbound message.
type InboundInput struct {
	SourceID  string `json:"source_id"`
	WebhookID string `json:"webhook_id"`
}

// InboundPlan is what an inbound message's action turned into.
type InboundPlan struct {
	// Done: the action finished in the activity (track), or failed for good.
	Done bool `json:"done"`
	// Kind, RunID and OwnerID name a run to start as a child workflow.
	Kind    Kind   `json:"kind,omitempty"`
	RunID   string `json:"run_id,omitempty"`
	OwnerID string `json:"owner_id,omitempty"`
	// Signal and Payload signal the run RunID.
	Signal  string          `json:"signal,omitempty"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// InboundFinishInput records how an inbound message's action ended.
type InboundFinishInput struct {
	SourceID  string `json:"source_id"`
	WebhookID string `json:"webhook_id"`
	RunID     string `json:"run_id,omitempty"`
	Error     string `json:"error,omitempty"`
}
