package api

import (
	"context"
	"crypto/rand"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/jackc/pgx/v5"
	"github.com/oklog/ulid/v2"

	"github.com/groundwork-dev/groundwork"
	"github.com/groundwork-dev/groundwork/db"
	"github.com/groundwork-dev/groundwork/db/sqlc"
)

// Milestone is a workspace's milestone definition.
type Milestone struct {
	ID string `json:"id" example:"ms_01JD4X7Q2W6ZC5D3V9N8K1M2P3"`
	groundwork.MilestoneSpec
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// CustomerMilestone is a milestone with one customer's state of it.
type CustomerMilestone struct {
	Milestone
	DueAt      *time.Time `json:"due_at,omitempty" doc:"started_at + due_days."`
	Achieved   bool       `json:"achieved"`
	AchievedAt *time.Time `json:"achieved_at,omitempty"`
	AchievedBy string     `json:"achieved_by,omitempty" doc:"The user who completed a manual milestone, \"events\", or \"assessment:<id>\"."`
	Overdue    bool       `json:"overdue" doc:"Not achieved and past due."`
	// Current is the customer's count of the rule's event type (events rules).
	Current *int64 `json:"current,omitempty" doc:"Events rules: the customer's events of the type so far."`
}

func milestoneView(m sqlc.Milestone) Milestone {
	spec := groundwork.MilestoneSpec{Name: m.Name, Position: int(m.Position), Rule: groundwork.MilestoneRule{
		Kind: m.RuleKind, EventType: deref(m.EventType), Definition: deref(m.Definition), Category: deref(m.Category), MinScore: m.MinScore}}
	if m.DueDays != nil {
		d := int(*m.DueDays)
		spec.DueDays = &d
	}
	if m.MinEvents != nil {
		spec.Rule.MinEvents = int(*m.MinEvents)
	}
	return Milestone{ID: m.ID, MilestoneSpec: spec, CreatedAt: m.CreatedAt, UpdatedAt: m.UpdatedAt}
}

type milestoneBodyInput struct {
	Body groundwork.MilestoneSpec
}

type milestoneIDInput struct {
	ID string `path:"id" maxLength:"64" doc:"Milestone ID."`
}

type milestoneUpdateInput struct {
	ID   string `path:"id" maxLength:"64" doc:"Milestone ID."`
	Body groundwork.MilestoneSpec
}

type milestoneOutput struct {
	Body Milestone
}

type milestoneListOutput struct {
	Body struct {
		Milestones []Milestone `json:"milestones"`
	}
}

type customerMilestoneInput struct {
	ID          string `path:"id" maxLength:"64" doc:"Customer ID."`
	MilestoneID string `path:"mid" maxLength:"64" doc:"Milestone ID."`
}

type customerMilestonesOutput struct {
	Body struct {
		Milestones []CustomerMilestone `json:"milestones"`
	}
}

type customerMilestoneOutput struct {
	Body CustomerMilestone
}

func (s *Server) registerMilestones() {
	huma.Register(s.api, huma.Operation{
		OperationID: "create-milestone", Method: http.MethodPost, Path: "/v1/milestones",
		Summary: "Define a milestone", Tags: []string{"milestones"}, DefaultStatus: http.StatusCreated,
		Description: "Admin only. A rule milestone is achieved at once by every customer that already reaches it, then as events and assessments arrive.",
		Errors:      []int{400, 401, 403, 409, 422, 429, 503},
	}, func(ctx context.Context, in *milestoneBodyInput) (*milestoneOutput, error) {
		p, err := requireAdmin(ctx)
		if err != nil {
			return nil, err
		}
		id := "ms_" + ulid.MustNew(ulid.Timestamp(s.d.Now()), rand.Reader).String()
		m, err := s.saveMilestone(ctx, p.WorkspaceID, id, in.Body, true)
		if err != nil {
			return nil, err
		}
		return &milestoneOutput{Body: milestoneView(m)}, nil
	})

	huma.Register(s.api, huma.Operation{
		OperationID: "list-milestones", Method: http.MethodGet, Path: "/v1/milestones",
		Summary: "List your workspace's milestones", Tags: []string{"milestones"}, Errors: []int{401, 429, 503},
	}, func(ctx context.Context, _ *struct{}) (*milestoneListOutput, error) {
		p, _ := PrincipalFrom(ctx)
		rows, err := s.q.MilestoneList(ctx, p.WorkspaceID)
		if err != nil {
			return nil, dependencyError("postgres", err)
		}
		out := &milestoneListOutput{}
		out.Body.Milestones = make([]Milestone, 0, len(rows))
		for _, r := range rows {
			out.Body.Milestones = append(out.Body.Milestones, milestoneView(r))
		}
		return out, nil
	})

	huma.Register(s.api, huma.Operation{
		OperationID: "get-milestone", Method: http.MethodGet, Path: "/v1/milestones/{id}",
		Summary: "Get a milestone", Tags: []string{"milestones"}, Errors: []int{401, 404, 429, 503},
	}, func(ctx context.Context, in *milestoneIDInput) (*milestoneOutput, error) {
		p, _ := PrincipalFrom(ctx)
		m, err := s.q.MilestoneGet(ctx, sqlc.MilestoneGetParams{ID: in.ID, WorkspaceID: p.WorkspaceID})
		if db.IsNotFound(err) {
			return nil, notFound("milestone")
		}
		if err != nil {
			return nil, dependencyError("postgres", err)
		}
		return &milestoneOutput{Body: milestoneView(m)}, nil
	})

	huma.Register(s.api, huma.Operation{
		OperationID: "update-milestone", Method: http.MethodPut, Path: "/v1/milestones/{id}",
		Summary: "Replace a milestone", Tags: []string{"milestones"},
		Description: "Admin only. Achievements already recorded stay; a changed rule is achieved by every customer that now reaches it.",
		Errors:      []int{400, 401, 403, 404, 409, 422, 429, 503},
	}, func(ctx context.Context, in *milestoneUpdateInput) (*milestoneOutput, error) {
		p, err := requireAdmin(ctx)
		if err != nil {
			return nil, err
		}
		m, err := s.saveMilestone(ctx, p.WorkspaceID, in.ID, in.Body, false)
		if err != nil {
			return nil, err
		}
		return &milestoneOutput{Body: milestoneView(m)}, nil
	})

	huma.Register(s.api, huma.Operation{
		OperationID: "delete-milestone", Method: http.MethodDelete, Path: "/v1/milestones/{id}",
		Summary: "Delete a milestone", Tags: []string{"milestones"}, DefaultStatus: http.StatusNoContent,
		Description: "Admin only. Deletes the definition and every customer's achievement of it.",
		Errors:      []int{401, 403, 404, 429, 503},
	}, func(ctx context.Context, in *milestoneIDInput) (*struct{}, error) {
		p, err := requireAdmin(ctx)
		if err != nil {
			return nil, err
		}
		n, err := s.q.MilestoneDelete(ctx, sqlc.MilestoneDeleteParams{ID: in.ID, WorkspaceID: p.WorkspaceID})
		if err != nil {
			return nil, dependencyError("postgres", err)
		}
		if n == 0 {
			return nil, notFound("milestone")
		}
		return nil, nil
	})

	huma.Register(s.api, huma.Operation{
		OperationID: "list-customer-milestones", Method: http.MethodGet, Path: "/v1/customers/{id}/milestones",
		Summary: "A customer's milestones", Tags: []string{"milestones"},
		Description: "Every milestone of the workspace in order, with the customer's achievement, due date and, for events rules, the count so far.",
		Errors:      []int{401, 404, 429, 503},
	}, func(ctx context.Context, in *customerIDInput) (*customerMilestonesOutput, error) {
		c, err := s.workspaceCustomer(ctx, in.ID)
		if err != nil {
			return nil, err
		}
		ms, err := s.customerMilestones(ctx, s.q, c)
		if err != nil {
			return nil, dependencyError("postgres", err)
		}
		out := &customerMilestonesOutput{}
		out.Body.Milestones = ms
		return out, nil
	})

	for _, action := range []string{"complete", "reopen"} {
		summary, desc := "Complete a manual milestone", "Records the milestone as achieved by you now; completing it again changes nothing. 409 milestone_not_manual for a rule milestone."
		if action == "reopen" {
			summary, desc = "Reopen a manual milestone", "Removes the customer's achievement of the milestone. 409 milestone_not_manual for a rule milestone."
		}
		huma.Register(s.api, huma.Operation{
			OperationID: action + "-customer-milestone", Method: http.MethodPost, Path: "/v1/customers/{id}/milestones/{mid}/" + action,
			Summary: summary, Description: desc, Tags: []string{"milestones"}, Errors: []int{401, 404, 409, 429, 503},
		}, func(ctx context.Context, in *customerMilestoneInput) (*customerMilestoneOutput, error) {
			return s.setManualMilestone(ctx, in, action == "complete")
		})
	}
}

// saveMilestone validates and stores a milestone (a new one when create),
// then achieves a rule milestone for every customer already reaching it.
func (s *Server) saveMilestone(ctx context.Context, workspace, id string, spec groundwork.MilestoneSpec, create bool) (sqlc.Milestone, error) {
	if errs := spec.Validate(); len(errs) > 0 {
		return sqlc.Milestone{}, problem(http.StatusUnprocessableEntity, groundwork.SlugValidation, "the milestone is invalid", errs...)
	}
	r := spec.Rule
	var m sqlc.Milestone
	err := db.InTx(ctx, s.d.Pool, func(tx pgx.Tx) error {
		q := sqlc.New(tx)
		// Exclusive: batches in flight commit first, so the check below
		// sees their counts, and later ones see this rule.
		if err := q.MilestoneRulesLock(ctx, workspace); err != nil {
			return err
		}
		var err error
		var due, minEvents *int32
		if spec.DueDays != nil {
			d := int32(*spec.DueDays)
			due = &d
		}
		if r.MinEvents > 0 {
			n := int32(r.MinEvents)
			minEvents = &n
		}
		if create {
			m, err = q.MilestoneInsert(ctx, sqlc.MilestoneInsertParams{ID: id, WorkspaceID: workspace, Name: spec.Name, Position: int32(spec.Position),
				DueDays: due, RuleKind: r.Kind, EventType: nonEmpty(&r.EventType), MinEvents: minEvents, Definition: nonEmpty(&r.Definition),
				Category: nonEmpty(&r.Category), MinScore: r.MinScore})
		} else {
			m, err = q.MilestoneUpdate(ctx, sqlc.MilestoneUpdateParams{ID: id, WorkspaceID: workspace, Name: spec.Name, Position: int32(spec.Position),
				DueDays: due, RuleKind: r.Kind, EventType: nonEmpty(&r.EventType), MinEvents: minEvents, Definition: nonEmpty(&r.Definition),
				Category: nonEmpty(&r.Category), MinScore: r.MinScore})
		}
		if err != nil {
			return err
		}
		switch r.Kind {
		case groundwork.RuleEvents:
			_, err = q.MilestoneAchieveForAll(ctx, sqlc.MilestoneAchieveForAllParams{MilestoneID: id, WorkspaceID: workspace})
		case groundwork.RuleAssessment:
			_, err = q.MilestoneAchieveByAssessmentsForAll(ctx, sqlc.MilestoneAchieveByAssessmentsForAllParams{MilestoneID: id, WorkspaceID: workspace})
		}
		return err
	})
	switch {
	case db.IsNotFound(err):
		return m, notFound("milestone")
	case db.IsUniqueViolation(err):
		return m, problem(http.StatusConflict, groundwork.SlugNameTaken, "another milestone of the workspace has this name")
	case err != nil:
		return m, dependencyError("postgres", err)
	}
	return m, nil
}

// customerMilestones lists every milestone with the customer's state of it.
func (s *Server) customerMilestones(ctx context.Context, q *sqlc.Queries, c sqlc.Customer) ([]CustomerMilestone, error) {
	rows, err := q.CustomerMilestones(ctx, sqlc.CustomerMilestonesParams{CustomerID: c.ID, WorkspaceID: c.WorkspaceID})
	if err != nil {
		return nil, err
	}
	totals, err := q.CustomerEventTotals(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	counts := map[string]int64{}
	for _, t := range totals {
		counts[t.Type] = t.Events
	}
	now := s.d.Now()
	out := make([]CustomerMilestone, 0, len(rows))
	for _, r := range rows {
		m := r.Milestone
		cm := CustomerMilestone{Milestone: milestoneView(m), AchievedAt: r.AchievedAt, Achieved: r.AchievedAt != nil, AchievedBy: deref(r.AchievedBy)}
		if m.DueDays != nil {
			due := c.StartedAt.Add(time.Duration(*m.DueDays) * 24 * time.Hour)
			cm.DueAt = &due
			cm.Overdue = !cm.Achieved && now.After(due)
		}
		if m.RuleKind == groundwork.RuleEvents && m.EventType != nil {
			n := counts[*m.EventType]
			cm.Current = &n
		}
		out = append(out, cm)
	}
	return out, nil
}

func (s *Server) setManualMilestone(ctx context.Context, in *customerMilestoneInput, complete bool) (*customerMilestoneOutput, error) {
	p, _ := PrincipalFrom(ctx)
	c, err := s.workspaceCustomer(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	m, err := s.q.MilestoneGet(ctx, sqlc.MilestoneGetParams{ID: in.MilestoneID, WorkspaceID: p.WorkspaceID})
	if db.IsNotFound(err) {
		return nil, notFound("milestone")
	}
	if err != nil {
		return nil, dependencyError("postgres", err)
	}
	if m.RuleKind != groundwork.RuleManual {
		return nil, problem(http.StatusConflict, groundwork.SlugNotManual, "this milestone is achieved by its "+m.RuleKind+" rule, not by hand")
	}
	if complete {
		_, err = s.q.MilestoneComplete(ctx, sqlc.MilestoneCompleteParams{CustomerID: c.ID, MilestoneID: m.ID, WorkspaceID: p.WorkspaceID, AchievedBy: p.UserID})
	} else {
		_, err = s.q.MilestoneReopen(ctx, sqlc.MilestoneReopenParams{CustomerID: c.ID, MilestoneID: m.ID, WorkspaceID: p.WorkspaceID})
	}
	if err != nil {
		return nil, dependencyError("postgres", err)
	}
	ms, err := s.customerMilestones(ctx, s.q, c)
	if err != nil {
		return nil, dependencyError("postgres", err)
	}
	for _, cm := range ms {
		if cm.ID == m.ID {
			return &customerMilestoneOutput{Body: cm}, nil
		}
	}
	return nil, notFound("milestone")
}
