package api

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/jackc/pgx/v5"
	"github.com/oklog/ulid/v2"

	"github.com/groundwork-dev/groundwork"
	"github.com/groundwork-dev/groundwork/db"
	"github.com/groundwork-dev/groundwork/db/sqlc"
)

// Customer is a workspace's customer as the API shows it.
type Customer struct {
	ID             string          `json:"id" example:"cus_01JD4X7Q2W6ZC5D3V9N8K1M2P3"`
	Name           string          `json:"name"`
	Domain         string          `json:"domain,omitempty"`
	Stage          string          `json:"stage" enum:"onboarding,adoption,expansion,renewal,churned"`
	OwnerUserID    string          `json:"owner_user_id,omitempty"`
	ExternalID     string          `json:"external_id,omitempty"`
	CustomFields   json.RawMessage `json:"custom_fields"`
	StartedAt      time.Time       `json:"started_at"`
	CreatedAt      time.Time       `json:"created_at"`
	UpdatedAt      time.Time       `json:"updated_at"`
	LastActivityAt *time.Time      `json:"last_activity_at,omitempty" doc:"In lists: the customer's latest event."`
	Events         *int64          `json:"events,omitempty" doc:"In lists: the customer's events, all time."`
}

func customerView(c sqlc.Customer) Customer {
	return Customer{ID: c.ID, Name: c.Name, Domain: deref(c.Domain), Stage: c.Stage, OwnerUserID: deref(c.OwnerUserID),
		ExternalID: deref(c.ExternalID), CustomFields: c.CustomFields, StartedAt: c.StartedAt, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}
}

func nonEmpty(s *string) *string {
	if s == nil || *s == "" {
		return nil
	}
	return s
}

type customerBodyInput struct {
	Body groundwork.CustomerFields
}

type customerIDInput struct {
	ID string `path:"id" maxLength:"64" doc:"Customer ID."`
}

type customerPatchInput struct {
	ID   string `path:"id" maxLength:"64" doc:"Customer ID."`
	Body groundwork.CustomerFields
}

type customerOutput struct {
	Body Customer
}

type listCustomersInput struct {
	Stage   string `query:"stage" enum:"onboarding,adoption,expansion,renewal,churned" doc:"Only customers in this stage."`
	Owner   string `query:"owner" maxLength:"255" doc:"Only customers this user owns."`
	Stalled bool   `query:"stalled" doc:"Only customers without an event for GROUNDWORK_STALLED_AFTER (14 days by default), churned ones left out."`
	Q       string `query:"q" maxLength:"200" doc:"Case-insensitive text search in name, domain and external ID."`
	Limit   int    `query:"limit" minimum:"1" maximum:"200" default:"50"`
	Cursor  string `query:"cursor" maxLength:"64" doc:"next_cursor of the previous page."`
}

type listCustomersOutput struct {
	Body struct {
		Customers  []Customer `json:"customers"`
		NextCursor string     `json:"next_cursor,omitempty" doc:"Absent on the last page."`
	}
}

func (s *Server) registerCustomers() {
	huma.Register(s.api, huma.Operation{
		OperationID: "create-customer", Method: http.MethodPost, Path: "/v1/customers",
		Summary: "Create a customer", Tags: []string{"customers"}, DefaultStatus: http.StatusCreated,
		Description: "Creates a customer of your workspace. external_id is unique in the workspace (409 on a second one).",
		Errors:      []int{400, 401, 409, 413, 422, 429, 503},
	}, func(ctx context.Context, in *customerBodyInput) (*customerOutput, error) {
		p, _ := PrincipalFrom(ctx)
		if errs := in.Body.Validate(true); len(errs) > 0 {
			return nil, problem(http.StatusUnprocessableEntity, groundwork.SlugValidation, "the customer is invalid", errs...)
		}
		f := in.Body
		stage := groundwork.StageOnboarding
		if f.Stage != nil {
			stage = *f.Stage
		}
		started := s.d.Now()
		if f.StartedAt != nil {
			started = *f.StartedAt
		}
		fields := f.CustomFields
		if len(fields) == 0 {
			fields = json.RawMessage(`{}`)
		}
		row, err := s.q.CustomerInsert(ctx, sqlc.CustomerInsertParams{
			ID: "cus_" + ulid.MustNew(ulid.Timestamp(s.d.Now()), rand.Reader).String(), WorkspaceID: p.WorkspaceID,
			ExternalID: nonEmpty(f.ExternalID), Name: strings.TrimSpace(*f.Name), Domain: nonEmpty(f.Domain), Stage: stage,
			OwnerUserID: nonEmpty(f.OwnerUserID), CustomFields: fields, StartedAt: started,
		})
		if db.IsUniqueViolation(err) {
			return nil, externalIDTaken()
		}
		if err != nil {
			return nil, dependencyError("postgres", err)
		}
		return &customerOutput{Body: customerView(row)}, nil
	})

	huma.Register(s.api, huma.Operation{
		OperationID: "list-customers", Method: http.MethodGet, Path: "/v1/customers",
		Summary: "List your workspace's customers", Tags: []string{"customers"},
		Description: "Newest first, keyset-paged, with optional filters.",
		Errors:      []int{401, 422, 429, 503},
	}, func(ctx context.Context, in *listCustomersInput) (*listCustomersOutput, error) {
		p, _ := PrincipalFrom(ctx)
		params := sqlc.CustomerListParams{WorkspaceID: p.WorkspaceID, MaxRows: int32(in.Limit + 1)}
		if in.Cursor != "" {
			params.Before = &in.Cursor
		}
		if in.Stage != "" {
			params.Stage = &in.Stage
		}
		if in.Owner != "" {
			params.OwnerUserID = &in.Owner
		}
		if q := strings.TrimSpace(in.Q); q != "" {
			pattern := "%" + likeEscaper.Replace(q) + "%"
			params.Pattern = &pattern
		}
		if in.Stalled {
			before := s.d.Now().Add(-s.d.StalledAfter)
			params.StalledBefore = &before
		}
		rows, err := s.q.CustomerList(ctx, params)
		if err != nil {
			return nil, dependencyError("postgres", err)
		}
		out := &listCustomersOutput{}
		out.Body.Customers = make([]Customer, 0, min(len(rows), in.Limit))
		for i, r := range rows {
			if i == in.Limit {
				out.Body.NextCursor = rows[i-1].Customer.ID
				break
			}
			c := customerView(r.Customer)
			c.LastActivityAt, c.Events = r.LastActivityAt, r.Events
			if c.Events == nil {
				zero := int64(0)
				c.Events = &zero
			}
			out.Body.Customers = append(out.Body.Customers, c)
		}
		return out, nil
	})

	huma.Register(s.api, huma.Operation{
		OperationID: "get-customer", Method: http.MethodGet, Path: "/v1/customers/{id}",
		Summary: "Get a customer", Tags: []string{"customers"}, Errors: []int{401, 404, 429, 503},
	}, func(ctx context.Context, in *customerIDInput) (*customerOutput, error) {
		c, err := s.workspaceCustomer(ctx, in.ID)
		if err != nil {
			return nil, err
		}
		return &customerOutput{Body: customerView(c)}, nil
	})

	huma.Register(s.api, huma.Operation{
		OperationID: "update-customer", Method: http.MethodPatch, Path: "/v1/customers/{id}",
		Summary: "Change a customer", Tags: []string{"customers"},
		Description: "Changes the fields sent and keeps the others; an empty domain, owner_user_id or external_id clears it; custom_fields is replaced whole.",
		Errors:      []int{400, 401, 404, 409, 413, 422, 429, 503},
	}, func(ctx context.Context, in *customerPatchInput) (*customerOutput, error) {
		p, _ := PrincipalFrom(ctx)
		if errs := in.Body.Validate(false); len(errs) > 0 {
			return nil, problem(http.StatusUnprocessableEntity, groundwork.SlugValidation, "the change is invalid", errs...)
		}
		f := in.Body
		if f.Name != nil {
			name := strings.TrimSpace(*f.Name)
			f.Name = &name
		}
		row, err := s.q.CustomerUpdate(ctx, sqlc.CustomerUpdateParams{ID: in.ID, WorkspaceID: p.WorkspaceID,
			Name: f.Name, Domain: f.Domain, Stage: f.Stage, OwnerUserID: f.OwnerUserID, ExternalID: f.ExternalID,
			CustomFields: f.CustomFields, StartedAt: f.StartedAt})
		switch {
		case db.IsNotFound(err):
			return nil, notFound("customer")
		case db.IsUniqueViolation(err):
			return nil, externalIDTaken()
		case err != nil:
			return nil, dependencyError("postgres", err)
		}
		return &customerOutput{Body: customerView(row)}, nil
	})

	huma.Register(s.api, huma.Operation{
		OperationID: "delete-customer", Method: http.MethodDelete, Path: "/v1/customers/{id}",
		Summary: "Delete a customer", Tags: []string{"customers"}, DefaultStatus: http.StatusNoContent,
		Description: "Deletes the customer with its events, milestones and assessments. Admin only.",
		Errors:      []int{401, 403, 404, 429, 503},
	}, func(ctx context.Context, in *customerIDInput) (*struct{}, error) {
		p, err := requireAdmin(ctx)
		if err != nil {
			return nil, err
		}
		n, err := s.deleteCustomer(ctx, p.WorkspaceID, in.ID)
		if err != nil {
			return nil, dependencyError("postgres", err)
		}
		if n == 0 {
			return nil, notFound("customer")
		}
		return nil, nil
	})
}

// deleteCustomer deletes a customer and its raw events in one transaction
// (the aggregates, milestones and assessments go by cascade).
func (s *Server) deleteCustomer(ctx context.Context, workspace, id string) (int64, error) {
	var n int64
	err := db.InTx(ctx, s.d.Pool, func(tx pgx.Tx) error {
		q := sqlc.New(tx)
		var err error
		if n, err = q.CustomerDelete(ctx, sqlc.CustomerDeleteParams{ID: id, WorkspaceID: workspace}); err != nil || n == 0 {
			return err
		}
		return q.EventsDeleteForCustomer(ctx, sqlc.EventsDeleteForCustomerParams{CustomerID: id, WorkspaceID: workspace})
	})
	return n, err
}

// workspaceCustomer loads a customer of the caller's workspace; another
// workspace's is a 404.
func (s *Server) workspaceCustomer(ctx context.Context, id string) (sqlc.Customer, error) {
	p, _ := PrincipalFrom(ctx)
	c, err := s.q.CustomerGet(ctx, sqlc.CustomerGetParams{ID: id, WorkspaceID: p.WorkspaceID})
	if db.IsNotFound(err) {
		return c, notFound("customer")
	}
	if err != nil {
		return c, dependencyError("postgres", err)
	}
	return c, nil
}

func externalIDTaken() *Problem {
	return problem(http.StatusConflict, groundwork.SlugExternalIDTaken, "another customer of the workspace has this external_id")
}

// likeEscaper escapes LIKE's wildcards in a search term.
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
