package groundwork

import (
	"fmt"
	"strings"
)

// Milestone rule kinds.
const (
	// RuleManual milestones are completed and reopened by a user.
	RuleManual = "manual"
	// RuleEvents milestones are achieved at the customer's MinEvents-th
	// event of EventType.
	RuleEvents = "events"
	// RuleAssessment milestones are achieved by an assessment of
	// Definition scoring at least MinScore in Category (overall when empty).
	RuleAssessment = "assessment"
)

// MilestoneRule says how a milestone is achieved.
type MilestoneRule struct {
	Kind       string   `json:"kind" enum:"manual,events,assessment" doc:"manual: completed by a user; events: at least min_events events of event_type; assessment: a score of at least min_score in category of definition."`
	EventType  string   `json:"event_type,omitempty" maxLength:"64"`
	MinEvents  int      `json:"min_events,omitempty" minimum:"0" maximum:"1000000"`
	Definition string   `json:"definition,omitempty" maxLength:"64" doc:"An assessment definition's slug."`
	Category   string   `json:"category,omitempty" maxLength:"64" doc:"A category key of the definition; empty for the overall score."`
	MinScore   *float64 `json:"min_score,omitempty" minimum:"0" maximum:"100"`
}

// MilestoneSpec is a milestone definition as a client writes it.
type MilestoneSpec struct {
	Name     string        `json:"name" minLength:"1" maxLength:"200" example:"First report exported"`
	Position int           `json:"position" minimum:"0" maximum:"10000" doc:"Order among the workspace's milestones, lowest first."`
	DueDays  *int          `json:"due_days,omitempty" minimum:"0" maximum:"3650" doc:"Due this many days after the customer's started_at; none: never overdue."`
	Rule     MilestoneRule `json:"rule"`
}

// Validate checks that the rule has what its kind needs and nothing else.
func (m MilestoneSpec) Validate() []FieldError {
	var errs []FieldError
	if strings.TrimSpace(m.Name) == "" {
		errs = append(errs, FieldError{Field: "name", Message: "a milestone needs a name"})
	}
	r := m.Rule
	switch r.Kind {
	case RuleManual:
		if r.EventType != "" || r.MinEvents != 0 || r.Definition != "" || r.Category != "" || r.MinScore != nil {
			errs = append(errs, FieldError{Field: "rule", Message: "a manual rule takes no other field"})
		}
	case RuleEvents:
		if !eventTypePattern.MatchString(r.EventType) {
			errs = append(errs, FieldError{Field: "rule.event_type", Message: "an event type like feature_used"})
		}
		if r.MinEvents < 1 {
			errs = append(errs, FieldError{Field: "rule.min_events", Message: "at least 1"})
		}
		if r.Definition != "" || r.Category != "" || r.MinScore != nil {
			errs = append(errs, FieldError{Field: "rule", Message: "an events rule takes event_type and min_events only"})
		}
	case RuleAssessment:
		if !slugPattern.MatchString(r.Definition) {
			errs = append(errs, FieldError{Field: "rule.definition", Message: "an assessment definition's slug"})
		}
		if r.MinScore == nil {
			errs = append(errs, FieldError{Field: "rule.min_score", Message: "required for an assessment rule (0 to 100)"})
		}
		if r.EventType != "" || r.MinEvents != 0 {
			errs = append(errs, FieldError{Field: "rule", Message: "an assessment rule takes definition, category and min_score only"})
		}
	default:
		errs = append(errs, FieldError{Field: "rule.kind", Message: fmt.Sprintf("one of %s, %s, %s", RuleManual, RuleEvents, RuleAssessment)})
	}
	return errs
}
