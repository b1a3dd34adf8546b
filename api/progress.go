package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/groundwork-dev/groundwork"
	"github.com/groundwork-dev/groundwork/db"
	"github.com/groundwork-dev/groundwork/db/sqlc"
	"github.com/groundwork-dev/groundwork/internal/health"
	"github.com/groundwork-dev/groundwork/internal/prompts"
)

// CustomerProgress is where a customer stands.
type CustomerProgress struct {
	CustomerID       string             `json:"customer_id"`
	Stage            string             `json:"stage"`
	StartedAt        time.Time          `json:"started_at"`
	Milestones       MilestoneTally     `json:"milestones"`
	LastActivityAt   *time.Time         `json:"last_activity_at,omitempty"`
	Events           int64              `json:"events" doc:"The customer's events, all time."`
	Engagement       health.Engagement  `json:"engagement"`
	LatestAssessment *AssessmentSummary `json:"latest_assessment,omitempty"`
}

// MilestoneTally counts a customer's milestones and names the next one.
type MilestoneTally struct {
	Done    int            `json:"done"`
	Total   int            `json:"total"`
	Overdue int            `json:"overdue"`
	Next    *NextMilestone `json:"next,omitempty" doc:"The first milestone in order not achieved."`
}

// NextMilestone is the next milestone to achieve.
type NextMilestone struct {
	ID      string     `json:"id"`
	Name    string     `json:"name"`
	DueAt   *time.Time `json:"due_at,omitempty"`
	Overdue bool       `json:"overdue"`
}

// AssessmentSummary is an assessment's headline figures.
type AssessmentSummary struct {
	AssessmentID string    `json:"assessment_id"`
	Definition   string    `json:"definition"`
	Version      int       `json:"version"`
	Overall      float64   `json:"overall"`
	Level        string    `json:"level"`
	Percentile   float64   `json:"percentile"`
	ScoredAt     time.Time `json:"scored_at"`
}

type progressOutput struct {
	Body CustomerProgress
}

type insightsOutput struct {
	Body struct {
		CustomerID string            `json:"customer_id"`
		Insights   []health.Insight  `json:"insights" doc:"Most severe first."`
		Engagement health.Engagement `json:"engagement"`
	}
}

type narrativeInput struct {
	ID string `path:"id" maxLength:"64" doc:"Customer ID."`
	StartHeaders
}

// customerState is everything progress and insights are computed from,
// read from the maintained aggregates.
type customerState struct {
	customer   sqlc.Customer
	milestones []CustomerMilestone
	activity   *sqlc.CustomerActivity
	days       []health.Day
	// engagement is computed once from days, for every answer.
	engagement health.Engagement
	assessment *sqlc.Assessment
}

func (s *Server) registerProgress() {
	huma.Register(s.api, huma.Operation{
		OperationID: "get-customer-progress", Method: http.MethodGet, Path: "/v1/customers/{id}/progress",
		Summary: "A customer's progress", Tags: []string{"progress"},
		Description: "Stage, milestones done of total with the next one, last activity, the engagement score (formula in its field docs and docs/customers.md) with its trend, and the latest assessment — from aggregates maintained as events arrive.",
		Errors:      []int{401, 404, 429, 503},
	}, func(ctx context.Context, in *customerIDInput) (*progressOutput, error) {
		st, err := s.customerState(ctx, in.ID)
		if err != nil {
			return nil, err
		}
		return &progressOutput{Body: s.progressOf(st)}, nil
	})

	huma.Register(s.api, huma.Operation{
		OperationID: "get-customer-insights", Method: http.MethodGet, Path: "/v1/customers/{id}/insights",
		Summary: "A customer's insights", Tags: []string{"progress"},
		Description: "Deterministic insights, each explained with its numbers: stalled (no activity for GROUNDWORK_STALLED_AFTER), milestone overdue, engagement down 30 % or more week over week, weakest assessment category, next milestone at risk (due within 7 days and, for an events rule, out of reach at the last week's pace).",
		Errors:      []int{401, 404, 429, 503},
	}, func(ctx context.Context, in *customerIDInput) (*insightsOutput, error) {
		st, err := s.customerState(ctx, in.ID)
		if err != nil {
			return nil, err
		}
		out := &insightsOutput{}
		out.Body.CustomerID = st.customer.ID
		out.Body.Engagement = st.engagement
		if out.Body.Insights, err = s.insightsOf(ctx, st); err != nil {
			return nil, err
		}
		return out, nil
	})

	huma.Register(s.api, huma.Operation{
		OperationID: "start-customer-narrative", Method: http.MethodPost, Path: "/v1/customers/{id}/insights/narrative",
		Summary: "Write a customer's insights up", Tags: []string{"progress"}, DefaultStatus: http.StatusAccepted,
		Description: "Starts a generation run (template customer-insights) that turns the customer's insights into a short summary with a next step. Without an LLM provider the summary is built by rules from the same facts (provider \"rules\").",
		Errors:      []int{401, 404, 409, 422, 429, 503},
	}, func(ctx context.Context, in *narrativeInput) (*startRunOutput, error) {
		st, err := s.customerState(ctx, in.ID)
		if err != nil {
			return nil, err
		}
		insights, err := s.insightsOf(ctx, st)
		if err != nil {
			return nil, err
		}
		req := groundwork.GenerateRequest{Template: "customer-insights", Inputs: map[string]any{
			"customer": st.customer.Name, "facts": insightFacts(st.customer, st.engagement, insights)}}
		if errs := req.Validate(prompts.Catalog, s.d.LLMProviders); len(errs) > 0 {
			return nil, problem(http.StatusUnprocessableEntity, groundwork.SlugValidation, "the customer's facts do not fit the template", errs...)
		}
		body, err := json.Marshal(req)
		if err != nil {
			return nil, err
		}
		return s.startOutput(ctx, groundwork.KindGeneration, in.StartHeaders, body)
	})
}

// insightFacts writes a customer's facts one per line, insights as
// "- [severity] kind: title — detail", for the customer-insights template.
func insightFacts(c sqlc.Customer, e health.Engagement, insights []health.Insight) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Stage: %s\nEngagement score: %d of 100 (trend %s", c.Stage, e.Score, e.Trend)
	if e.TrendPercent != nil {
		fmt.Fprintf(&b, ", %+.1f%% week over week", *e.TrendPercent)
	}
	fmt.Fprintf(&b, "); %d events in the last 7 days, %d in the last 30\n", e.Events7, e.Events30)
	for _, in := range insights {
		fmt.Fprintf(&b, "- [%s] %s: %s — %s\n", in.Severity, in.Kind, in.Title, in.Detail)
	}
	return b.String()
}

// customerState reads a customer's aggregates.
func (s *Server) customerState(ctx context.Context, id string) (customerState, error) {
	c, err := s.workspaceCustomer(ctx, id)
	if err != nil {
		return customerState{}, err
	}
	st := customerState{customer: c}
	if st.milestones, err = s.customerMilestones(ctx, s.q, c); err != nil {
		return st, dependencyError("postgres", err)
	}
	if a, err := s.q.CustomerActivityGet(ctx, c.ID); err == nil {
		st.activity = &a
	} else if !db.IsNotFound(err) {
		return st, dependencyError("postgres", err)
	}
	since := s.d.Now().UTC().AddDate(0, 0, -30)
	rows, err := s.q.CustomerActivityDays(ctx, sqlc.CustomerActivityDaysParams{CustomerID: c.ID, Since: since})
	if err != nil {
		return st, dependencyError("postgres", err)
	}
	for _, r := range rows {
		st.days = append(st.days, health.Day{Day: r.Day, Type: r.Type, Events: int64(r.Events)})
	}
	st.engagement = health.Compute(st.days, s.d.Now())
	if a, err := s.q.AssessmentLatestForCustomer(ctx, sqlc.AssessmentLatestForCustomerParams{CustomerID: c.ID, WorkspaceID: c.WorkspaceID}); err == nil {
		st.assessment = &a
	} else if !db.IsNotFound(err) {
		return st, dependencyError("postgres", err)
	}
	return st, nil
}

func (s *Server) progressOf(st customerState) CustomerProgress {
	p := CustomerProgress{CustomerID: st.customer.ID, Stage: st.customer.Stage, StartedAt: st.customer.StartedAt,
		Engagement: st.engagement}
	p.Milestones.Total = len(st.milestones)
	for _, m := range st.milestones {
		switch {
		case m.Achieved:
			p.Milestones.Done++
		case p.Milestones.Next == nil:
			p.Milestones.Next = &NextMilestone{ID: m.ID, Name: m.Name, DueAt: m.DueAt, Overdue: m.Overdue}
		}
		if m.Overdue {
			p.Milestones.Overdue++
		}
	}
	if st.activity != nil {
		p.LastActivityAt, p.Events = &st.activity.LastActivityAt, st.activity.Events
	}
	if a := st.assessment; a != nil {
		p.LatestAssessment = &AssessmentSummary{AssessmentID: a.ID, Definition: a.Definition, Version: int(a.Version),
			Overall: a.Overall, Level: a.Level, Percentile: a.Percentile, ScoredAt: a.ScoredAt}
	}
	return p
}

// insightsOf draws the insights from a customer's state.
func (s *Server) insightsOf(ctx context.Context, st customerState) ([]health.Insight, error) {
	now := s.d.Now()
	f := health.Facts{Now: now, StartedAt: st.customer.StartedAt, StalledAfter: s.d.StalledAfter, Engagement: st.engagement}
	if st.customer.Stage == groundwork.StageChurned {
		f.StalledAfter = 0 // a churned customer is not stalled
	}
	if st.activity != nil {
		f.LastActivity = &st.activity.LastActivityAt
	}
	weekAgo := now.UTC().AddDate(0, 0, -6)
	for _, m := range st.milestones {
		hm := health.Milestone{ID: m.ID, Name: m.Name, DueAt: m.DueAt, AchievedAt: m.AchievedAt}
		if m.Rule.Kind == groundwork.RuleEvents && m.Current != nil {
			hm.EventType, hm.MinEvents, hm.Current = m.Rule.EventType, int64(m.Rule.MinEvents), *m.Current
			for _, d := range st.days {
				if d.Type == m.Rule.EventType && !d.Day.Before(time.Date(weekAgo.Year(), weekAgo.Month(), weekAgo.Day(), 0, 0, 0, 0, time.UTC)) {
					hm.Recent7 += d.Events
				}
			}
		}
		f.Milestones = append(f.Milestones, hm)
	}
	if a := st.assessment; a != nil {
		ha, err := s.assessmentFacts(ctx, *a)
		if err != nil {
			return nil, err
		}
		f.Assessment = &ha
	}
	return health.Insights(f), nil
}

// assessmentFacts names an assessment's category scores from its definition.
func (s *Server) assessmentFacts(ctx context.Context, a sqlc.Assessment) (health.Assessment, error) {
	out := health.Assessment{ID: a.ID, Definition: a.Definition, Overall: a.Overall}
	var scores map[string]float64
	if err := json.Unmarshal(a.Categories, &scores); err != nil {
		return out, fmt.Errorf("assessment %s categories: %w", a.ID, err)
	}
	def, err := s.q.AssessmentDefinitionGet(ctx, sqlc.AssessmentDefinitionGetParams{WorkspaceID: a.WorkspaceID, Slug: a.Definition, Version: a.Version})
	if err != nil {
		return out, dependencyError("postgres", err)
	}
	var d groundwork.AssessmentDefinition
	if err := json.Unmarshal(def.Body, &d); err != nil {
		return out, fmt.Errorf("definition %s v%d: %w", a.Definition, a.Version, err)
	}
	for _, c := range d.Categories {
		if score, ok := scores[c.Key]; ok {
			out.Categories = append(out.Categories, health.Category{Key: c.Key, Name: c.Name, Score: score})
		}
	}
	return out, nil
}
