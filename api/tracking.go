package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/groundwork-dev/groundwork"
	"github.com/groundwork-dev/groundwork/db"
	"github.com/groundwork-dev/groundwork/db/sqlc"
)

// TrackResult is what an ingest stored.
type TrackResult struct {
	Accepted   int   `json:"accepted" doc:"Valid events in the request."`
	Stored     int64 `json:"stored" doc:"Events stored now."`
	Duplicates int64 `json:"duplicates" doc:"Valid events whose id had been sent before: accepted, not counted again."`
	// Rejected lists the invalid events of a ?partial=true batch.
	Rejected           []RejectedEvent     `json:"rejected,omitempty" doc:"With ?partial=true: the invalid events, not stored."`
	MilestonesAchieved []AchievedMilestone `json:"milestones_achieved" doc:"Milestones these events achieved (each is achieved once)."`
}

// RejectedEvent is one invalid event of a partial batch.
type RejectedEvent struct {
	Index  int                     `json:"index"`
	ID     string                  `json:"id,omitempty"`
	Errors []groundwork.FieldError `json:"errors"`
}

// AchievedMilestone is a milestone achieved by a customer.
type AchievedMilestone struct {
	CustomerID  string    `json:"customer_id"`
	MilestoneID string    `json:"milestone_id"`
	AchievedAt  time.Time `json:"achieved_at"`
}

type trackOneInput struct {
	ID   string `path:"id" maxLength:"64" doc:"Customer ID."`
	Body groundwork.TrackEvent
}

type trackBatchInput struct {
	Partial bool `query:"partial" doc:"Store the valid events and list the invalid ones, instead of refusing the whole batch (422)."`
	Body    struct {
		Events []groundwork.TrackEvent `json:"events" minItems:"1" maxItems:"1000"`
	}
}

type trackOutput struct {
	Body TrackResult
}

func (s *Server) registerTracking() {
	huma.Register(s.api, huma.Operation{
		OperationID: "track-event", Method: http.MethodPost, Path: "/v1/customers/{id}/track",
		Summary: "Track one event of a customer", Tags: []string{"tracking"},
		Description: "Stores the event (once per id: a re-sent event is accepted, not counted twice), updates the customer's aggregates and achieves the events-rule milestones it reaches.",
		Errors:      []int{400, 401, 404, 413, 422, 429, 503},
	}, func(ctx context.Context, in *trackOneInput) (*trackOutput, error) {
		p, _ := PrincipalFrom(ctx)
		if in.Body.CustomerID != "" && in.Body.CustomerID != in.ID {
			return nil, problem(http.StatusUnprocessableEntity, groundwork.SlugValidation, "the event is invalid",
				groundwork.FieldError{Field: "customer_id", Message: "names another customer than the path; leave it out"})
		}
		if _, err := s.workspaceCustomer(ctx, in.ID); err != nil {
			return nil, err
		}
		in.Body.CustomerID = in.ID
		if errs := in.Body.Validate("", s.d.Now(), s.d.EventRetention); len(errs) > 0 {
			return nil, problem(http.StatusUnprocessableEntity, groundwork.SlugValidation, "the event is invalid", errs...)
		}
		res, err := s.ingest(ctx, p.WorkspaceID, []groundwork.TrackEvent{in.Body})
		if err != nil {
			return nil, err
		}
		return &trackOutput{Body: res}, nil
	})

	huma.Register(s.api, huma.Operation{
		OperationID: "track-events", Method: http.MethodPost, Path: "/v1/track",
		Summary: "Track a batch of events", Tags: []string{"tracking"},
		Description: "Up to 1,000 events across your workspace's customers (body up to 8 MiB), stored in one transaction. An invalid event (or an unknown customer) refuses the whole batch with 422 naming each bad index, unless ?partial=true.",
		Errors:      []int{400, 401, 404, 413, 422, 429, 503},
		// Huma's own limit; guardBody enforces the same before parsing.
		MaxBodyBytes: maxTrackBody,
	}, func(ctx context.Context, in *trackBatchInput) (*trackOutput, error) {
		p, _ := PrincipalFrom(ctx)
		events := in.Body.Events
		ids := make([]string, 0, len(events))
		for _, e := range events {
			ids = append(ids, e.CustomerID)
		}
		known, err := s.q.CustomerIDsInWorkspace(ctx, sqlc.CustomerIDsInWorkspaceParams{WorkspaceID: p.WorkspaceID, Ids: ids})
		if err != nil {
			return nil, dependencyError("postgres", err)
		}
		isKnown := make(map[string]bool, len(known))
		for _, id := range known {
			isKnown[id] = true
		}
		now := s.d.Now()
		var rejected []RejectedEvent
		var fieldErrs []groundwork.FieldError
		valid := make([]groundwork.TrackEvent, 0, len(events))
		for i, e := range events {
			prefix := fmt.Sprintf("events[%d].", i)
			errs := e.Validate(prefix, now, s.d.EventRetention)
			if !isKnown[e.CustomerID] {
				errs = append(errs, groundwork.FieldError{Field: prefix + "customer_id", Message: "no such customer in your workspace"})
			}
			if len(errs) > 0 {
				rejected = append(rejected, RejectedEvent{Index: i, ID: e.ID, Errors: errs})
				fieldErrs = append(fieldErrs, errs...)
				continue
			}
			valid = append(valid, e)
		}
		if len(rejected) > 0 && !in.Partial {
			return nil, problem(http.StatusUnprocessableEntity, groundwork.SlugValidation,
				fmt.Sprintf("%d of %d events are invalid; nothing was stored (send ?partial=true to store the valid ones)", len(rejected), len(events)), fieldErrs...)
		}
		res := TrackResult{MilestonesAchieved: []AchievedMilestone{}}
		if len(valid) > 0 {
			if res, err = s.ingest(ctx, p.WorkspaceID, valid); err != nil {
				return nil, err
			}
		}
		res.Rejected = rejected
		return &trackOutput{Body: res}, nil
	})
}

// ingest stores valid events of the workspace's customers.
func (s *Server) ingest(ctx context.Context, workspace string, events []groundwork.TrackEvent) (TrackResult, error) {
	got, err := db.IngestEvents(ctx, s.d.Pool, workspace, s.d.EventRetention, events)
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23503" {
		// A customer was deleted between the check and the insert.
		return TrackResult{}, problem(http.StatusNotFound, groundwork.SlugNotFound, "a customer of the batch was deleted meanwhile; nothing was stored")
	}
	if errors.As(err, &pe) && pe.Code == "40P01" {
		// Deadlocked again after every retry: contention, not a bug.
		p := problem(http.StatusServiceUnavailable, groundwork.SlugUnavailable, "the events are contended right now; nothing was stored, retry")
		p.retryAfter = 1
		return TrackResult{}, p
	}
	if err != nil {
		return TrackResult{}, dependencyError("postgres", err)
	}
	res := TrackResult{Accepted: len(events), Stored: got.Stored, Duplicates: int64(len(events)) - got.Stored,
		MilestonesAchieved: make([]AchievedMilestone, 0, len(got.Achieved))}
	for _, a := range got.Achieved {
		res.MilestonesAchieved = append(res.MilestonesAchieved, AchievedMilestone{CustomerID: a.CustomerID, MilestoneID: a.MilestoneID, AchievedAt: a.AchievedAt})
	}
	return res, nil
}
