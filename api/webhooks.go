package api

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/oklog/ulid/v2"

	"github.com/groundwork-dev/groundwork"
	"github.com/groundwork-dev/groundwork/db"
	"github.com/groundwork-dev/groundwork/db/sqlc"
	"github.com/groundwork-dev/groundwork/internal/ssrf"
	"github.com/groundwork-dev/groundwork/internal/stdwebhook"
)

// defaultEndpointRate is an endpoint's deliveries a second when unset.
const defaultEndpointRate = 10

// WebhookEndpoint is an outbound endpoint as the API shows it.
type WebhookEndpoint struct {
	ID string `json:"id" example:"wep_01JD4X7Q2W6ZC5D3V9N8K1M2P3"`
	groundwork.WebhookEndpointSpec
	// Secret is shown once, when the endpoint is created.
	Secret         string     `json:"secret,omitempty" doc:"The signing secret (whsec_…), in the answer to the create only: receivers verify webhook-signature with it."`
	DisabledAt     *time.Time `json:"disabled_at,omitempty"`
	DisabledReason string     `json:"disabled_reason,omitempty" doc:"Why deliveries stopped: an admin, a 410 Gone, or five days of failures."`
	FailingSince   *time.Time `json:"failing_since,omitempty" doc:"The first failed delivery since the last success."`
	CreatedAt      time.Time  `json:"created_at"`
	UpdatedAt      time.Time  `json:"updated_at"`
}

// WebhookMessage is one outbound message.
type WebhookMessage struct {
	ID          string          `json:"id" doc:"The webhook-id receivers deduplicate by."`
	EventType   string          `json:"event_type"`
	Payload     json.RawMessage `json:"payload"`
	Status      string          `json:"status" enum:"pending,delivered,dead"`
	Attempts    int             `json:"attempts"`
	Generation  int             `json:"generation" doc:"How many times it was resent."`
	CreatedAt   time.Time       `json:"created_at"`
	DeliveredAt *time.Time      `json:"delivered_at,omitempty"`
}

// WebhookAttempt is one delivery attempt of a message.
type WebhookAttempt struct {
	Generation  int       `json:"generation"`
	Attempt     int       `json:"attempt"`
	StatusCode  *int32    `json:"status_code,omitempty"`
	Error       string    `json:"error,omitempty"`
	LatencyMS   int       `json:"latency_ms"`
	Response    string    `json:"response,omitempty" doc:"The first 1 KB of the endpoint's answer."`
	AttemptedAt time.Time `json:"attempted_at"`
}

func endpointView(e sqlc.WebhookEndpoint) WebhookEndpoint {
	v := WebhookEndpoint{ID: e.ID, WebhookEndpointSpec: groundwork.WebhookEndpointSpec{URL: e.Url, Description: e.Description,
		EventTypes: e.EventTypes, RatePerSec: int(e.RatePerSecond), Disabled: e.DisabledAt != nil},
		DisabledAt: e.DisabledAt, DisabledReason: deref(e.DisabledReason), FailingSince: e.FailingSince, CreatedAt: e.CreatedAt, UpdatedAt: e.UpdatedAt}
	_ = json.Unmarshal(e.Headers, &v.Headers)
	return v
}

func messageView(m sqlc.WebhookMessage) WebhookMessage {
	return WebhookMessage{ID: m.ID, EventType: m.EventType, Payload: m.Payload, Status: m.Status, Attempts: int(m.Attempts),
		Generation: int(m.Generation), CreatedAt: m.CreatedAt, DeliveredAt: m.DeliveredAt}
}

type endpointBodyInput struct {
	Body groundwork.WebhookEndpointSpec
}

type endpointIDInput struct {
	ID string `path:"id" maxLength:"64" doc:"Endpoint ID."`
}

type endpointUpdateInput struct {
	ID   string `path:"id" maxLength:"64" doc:"Endpoint ID."`
	Body groundwork.WebhookEndpointSpec
}

type endpointOutput struct {
	Body WebhookEndpoint
}

type endpointListOutput struct {
	Body struct {
		Endpoints []WebhookEndpoint `json:"endpoints"`
	}
}

type messagesInput struct {
	ID     string `path:"id" maxLength:"64" doc:"Endpoint ID."`
	Limit  int    `query:"limit" minimum:"1" maximum:"200" default:"50"`
	Cursor string `query:"cursor" maxLength:"64" doc:"next_cursor of the previous page."`
}

type messagesOutput struct {
	Body struct {
		Messages   []WebhookMessage `json:"messages"`
		NextCursor string           `json:"next_cursor,omitempty"`
	}
}

type messageIDInput struct {
	ID        string `path:"id" maxLength:"64" doc:"Endpoint ID."`
	MessageID string `path:"mid" maxLength:"64" doc:"Message ID."`
}

type attemptsOutput struct {
	Body struct {
		Attempts []WebhookAttempt `json:"attempts"`
	}
}

type messageOutput struct {
	Body WebhookMessage
}

func (s *Server) registerWebhooks() {
	huma.Register(s.api, huma.Operation{
		OperationID: "create-webhook-endpoint", Method: http.MethodPost, Path: "/v1/webhook-endpoints",
		Summary: "Create an outbound webhook endpoint", Tags: []string{"webhooks"}, DefaultStatus: http.StatusCreated,
		Description: "Admin only. Messages of the subscribed events are POSTed to the URL, signed per Standard Webhooks with the secret in this answer (shown once), retried for about 27 hours. The URL must pass the research address policy, now and at every dial.",
		Errors:      []int{400, 401, 403, 413, 422, 429, 503},
	}, func(ctx context.Context, in *endpointBodyInput) (*endpointOutput, error) {
		p, err := requireAdmin(ctx)
		if err != nil {
			return nil, err
		}
		if err := s.checkEndpoint(in.Body); err != nil {
			return nil, err
		}
		id := "wep_" + ulid.MustNew(ulid.Timestamp(s.d.Now()), rand.Reader).String()
		secret := stdwebhook.NewSecret()
		sealed, err := s.d.Secrets.Seal([]byte(secret), id)
		if err != nil {
			return nil, problem(http.StatusServiceUnavailable, groundwork.SlugUnavailable, "webhook endpoints need GROUNDWORK_ENCRYPTION_KEY on the API and workers")
		}
		headers, _ := json.Marshal(nonNilHeaders(in.Body.Headers))
		row, err := s.q.WebhookEndpointInsert(ctx, sqlc.WebhookEndpointInsertParams{ID: id, WorkspaceID: p.WorkspaceID, Url: in.Body.URL,
			Description: in.Body.Description, EventTypes: in.Body.EventTypes, Headers: headers, RatePerSecond: endpointRate(in.Body),
			SecretCiphertext: sealed, Disabled: in.Body.Disabled, CreatedBy: p.UserID})
		if err != nil {
			return nil, dependencyError("postgres", err)
		}
		v := endpointView(row)
		v.Secret = secret
		return &endpointOutput{Body: v}, nil
	})

	huma.Register(s.api, huma.Operation{
		OperationID: "list-webhook-endpoints", Method: http.MethodGet, Path: "/v1/webhook-endpoints",
		Summary: "List your workspace's webhook endpoints", Tags: []string{"webhooks"}, Errors: []int{401, 403, 429, 503},
	}, func(ctx context.Context, _ *struct{}) (*endpointListOutput, error) {
		p, err := requireAdmin(ctx)
		if err != nil {
			return nil, err
		}
		rows, err := s.q.WebhookEndpointList(ctx, p.WorkspaceID)
		if err != nil {
			return nil, dependencyError("postgres", err)
		}
		out := &endpointListOutput{}
		out.Body.Endpoints = make([]WebhookEndpoint, 0, len(rows))
		for _, r := range rows {
			out.Body.Endpoints = append(out.Body.Endpoints, endpointView(r))
		}
		return out, nil
	})

	huma.Register(s.api, huma.Operation{
		OperationID: "get-webhook-endpoint", Method: http.MethodGet, Path: "/v1/webhook-endpoints/{id}",
		Summary: "Get a webhook endpoint", Tags: []string{"webhooks"}, Errors: []int{401, 403, 404, 429, 503},
	}, func(ctx context.Context, in *endpointIDInput) (*endpointOutput, error) {
		e, err := s.adminEndpoint(ctx, in.ID)
		if err != nil {
			return nil, err
		}
		return &endpointOutput{Body: endpointView(e)}, nil
	})

	huma.Register(s.api, huma.Operation{
		OperationID: "update-webhook-endpoint", Method: http.MethodPut, Path: "/v1/webhook-endpoints/{id}",
		Summary: "Replace a webhook endpoint", Tags: []string{"webhooks"},
		Description: "Admin only. The secret stays. Enabling a disabled endpoint clears its failure streak; messages that died meanwhile are replayed from the dead letters.",
		Errors:      []int{400, 401, 403, 404, 413, 422, 429, 503},
	}, func(ctx context.Context, in *endpointUpdateInput) (*endpointOutput, error) {
		p, err := requireAdmin(ctx)
		if err != nil {
			return nil, err
		}
		if err := s.checkEndpoint(in.Body); err != nil {
			return nil, err
		}
		headers, _ := json.Marshal(nonNilHeaders(in.Body.Headers))
		row, err := s.q.WebhookEndpointUpdate(ctx, sqlc.WebhookEndpointUpdateParams{ID: in.ID, WorkspaceID: p.WorkspaceID, Url: in.Body.URL,
			Description: in.Body.Description, EventTypes: in.Body.EventTypes, Headers: headers, RatePerSecond: endpointRate(in.Body), Disabled: in.Body.Disabled})
		if db.IsNotFound(err) {
			return nil, notFound("webhook endpoint")
		}
		if err != nil {
			return nil, dependencyError("postgres", err)
		}
		return &endpointOutput{Body: endpointView(row)}, nil
	})

	huma.Register(s.api, huma.Operation{
		OperationID: "delete-webhook-endpoint", Method: http.MethodDelete, Path: "/v1/webhook-endpoints/{id}",
		Summary: "Delete a webhook endpoint", Tags: []string{"webhooks"}, DefaultStatus: http.StatusNoContent,
		Description: "Admin only. Deletes the endpoint with its messages and attempts; deliveries in flight stop.",
		Errors:      []int{401, 403, 404, 429, 503},
	}, func(ctx context.Context, in *endpointIDInput) (*struct{}, error) {
		p, err := requireAdmin(ctx)
		if err != nil {
			return nil, err
		}
		n, err := s.q.WebhookEndpointDelete(ctx, sqlc.WebhookEndpointDeleteParams{ID: in.ID, WorkspaceID: p.WorkspaceID})
		if err != nil {
			return nil, dependencyError("postgres", err)
		}
		if n == 0 {
			return nil, notFound("webhook endpoint")
		}
		return nil, nil
	})

	huma.Register(s.api, huma.Operation{
		OperationID: "list-webhook-messages", Method: http.MethodGet, Path: "/v1/webhook-endpoints/{id}/messages",
		Summary: "An endpoint's messages", Tags: []string{"webhooks"}, Description: "Admin only. Newest first, with status and attempts.",
		Errors: []int{401, 403, 404, 429, 503},
	}, func(ctx context.Context, in *messagesInput) (*messagesOutput, error) {
		e, err := s.adminEndpoint(ctx, in.ID)
		if err != nil {
			return nil, err
		}
		params := sqlc.WebhookMessagesParams{EndpointID: e.ID, WorkspaceID: e.WorkspaceID, MaxRows: int32(in.Limit + 1)}
		if in.Cursor != "" {
			params.Before = &in.Cursor
		}
		rows, err := s.q.WebhookMessages(ctx, params)
		if err != nil {
			return nil, dependencyError("postgres", err)
		}
		out := &messagesOutput{}
		out.Body.Messages = make([]WebhookMessage, 0, len(rows))
		for i, r := range rows {
			if i == in.Limit {
				out.Body.NextCursor = rows[i-1].ID
				break
			}
			out.Body.Messages = append(out.Body.Messages, messageView(r))
		}
		return out, nil
	})

	huma.Register(s.api, huma.Operation{
		OperationID: "list-webhook-attempts", Method: http.MethodGet, Path: "/v1/webhook-endpoints/{id}/messages/{mid}/attempts",
		Summary: "A message's delivery attempts", Tags: []string{"webhooks"}, Errors: []int{401, 403, 404, 429, 503},
	}, func(ctx context.Context, in *messageIDInput) (*attemptsOutput, error) {
		m, err := s.adminMessage(ctx, in)
		if err != nil {
			return nil, err
		}
		rows, err := s.q.WebhookAttempts(ctx, m.ID)
		if err != nil {
			return nil, dependencyError("postgres", err)
		}
		out := &attemptsOutput{}
		out.Body.Attempts = make([]WebhookAttempt, 0, len(rows))
		for _, r := range rows {
			out.Body.Attempts = append(out.Body.Attempts, WebhookAttempt{Generation: int(r.Generation), Attempt: int(r.Attempt), StatusCode: r.StatusCode,
				Error: deref(r.Error), LatencyMS: int(r.LatencyMs), Response: deref(r.Response), AttemptedAt: r.AttemptedAt})
		}
		return out, nil
	})

	huma.Register(s.api, huma.Operation{
		OperationID: "resend-webhook-message", Method: http.MethodPost, Path: "/v1/webhook-endpoints/{id}/messages/{mid}/resend",
		Summary: "Resend a message", Tags: []string{"webhooks"}, DefaultStatus: http.StatusAccepted,
		Description: "Admin only. Delivers the message again with the same webhook-id (receivers that saw it skip it), through a new round of attempts. 409 while it is still being delivered.",
		Errors:      []int{401, 403, 404, 409, 429, 503},
	}, func(ctx context.Context, in *messageIDInput) (*messageOutput, error) {
		m, err := s.adminMessage(ctx, in)
		if err != nil {
			return nil, err
		}
		row, err := s.q.WebhookMessageResend(ctx, m.ID)
		if db.IsNotFound(err) {
			return nil, problem(http.StatusConflict, groundwork.SlugStillDelivering, "the message is still being delivered")
		}
		if err != nil {
			return nil, dependencyError("postgres", err)
		}
		return &messageOutput{Body: messageView(row)}, nil
	})
}

// checkEndpoint validates an endpoint and its URL against the address policy.
func (s *Server) checkEndpoint(e groundwork.WebhookEndpointSpec) error {
	errs := e.Validate()
	if len(errs) == 0 {
		if err := s.d.ResearchPolicy.CheckURL(e.URL); err != nil {
			msg := "the URL is not one Groundwork may call"
			if errors.Is(err, ssrf.ErrBlocked) {
				msg = err.Error()
			}
			errs = append(errs, groundwork.FieldError{Field: "url", Message: msg})
		}
	}
	if len(errs) > 0 {
		return problem(http.StatusUnprocessableEntity, groundwork.SlugValidation, "the webhook endpoint is invalid", errs...)
	}
	return nil
}

func (s *Server) adminEndpoint(ctx context.Context, id string) (sqlc.WebhookEndpoint, error) {
	p, err := requireAdmin(ctx)
	if err != nil {
		return sqlc.WebhookEndpoint{}, err
	}
	e, err := s.q.WebhookEndpointGet(ctx, sqlc.WebhookEndpointGetParams{ID: id, WorkspaceID: p.WorkspaceID})
	if db.IsNotFound(err) {
		return e, notFound("webhook endpoint")
	}
	if err != nil {
		return e, dependencyError("postgres", err)
	}
	return e, nil
}

func (s *Server) adminMessage(ctx context.Context, in *messageIDInput) (sqlc.WebhookMessage, error) {
	e, err := s.adminEndpoint(ctx, in.ID)
	if err != nil {
		return sqlc.WebhookMessage{}, err
	}
	m, err := s.q.WebhookMessageInWorkspace(ctx, sqlc.WebhookMessageInWorkspaceParams{ID: in.MessageID, EndpointID: e.ID, WorkspaceID: e.WorkspaceID})
	if db.IsNotFound(err) {
		return m, notFound("webhook message")
	}
	if err != nil {
		return m, dependencyError("postgres", err)
	}
	return m, nil
}

func endpointRate(e groundwork.WebhookEndpointSpec) int32 {
	if e.RatePerSec <= 0 {
		return defaultEndpointRate
	}
	return int32(e.RatePerSec)
}

func nonNilHeaders(h map[string]string) map[string]string {
	if h == nil {
		return map[string]string{}
	}
	return h
}
