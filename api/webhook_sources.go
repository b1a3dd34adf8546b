package api

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5"
	"github.com/oklog/ulid/v2"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/groundwork-dev/groundwork"
	"github.com/groundwork-dev/groundwork/db"
	"github.com/groundwork-dev/groundwork/db/sqlc"
	"github.com/groundwork-dev/groundwork/internal/stdwebhook"
)

// defaultRotationGrace is how long a rotated-out source secret stays valid.
const defaultRotationGrace = 24 * time.Hour

// WebhookSource is an inbound source as the API shows it.
type WebhookSource struct {
	ID string `json:"id" example:"src_01JD4X7Q2W6ZC5D3V9N8K1M2P3"`
	groundwork.WebhookSourceSpec
	URL string `json:"url" doc:"Where the sender POSTs: the API's public URL + /hooks/{id}."`
	// Secret is shown once, when created or rotated.
	Secret    string    `json:"secret,omitempty" doc:"In the answer to a create or rotate only: the whsec_ signing secret, or the token of a token-mode source."`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// InboundMessage is one message a source received.
type InboundMessage struct {
	WebhookID  string    `json:"webhook_id"`
	Status     string    `json:"status" enum:"received,done,failed"`
	RunID      string    `json:"run_id,omitempty" doc:"The run the message started (or signaled)."`
	Error      string    `json:"error,omitempty"`
	Scenario   string    `json:"scenario,omitempty" doc:"The sender's execution ID, from the source's scenario_header."`
	ReceivedAt time.Time `json:"received_at"`
}

type sourceBodyInput struct {
	Body groundwork.WebhookSourceSpec
}

type sourceIDInput struct {
	ID string `path:"id" maxLength:"64" doc:"Source ID."`
}

type sourceUpdateInput struct {
	ID   string `path:"id" maxLength:"64" doc:"Source ID."`
	Body groundwork.WebhookSourceSpec
}

type rotateInput struct {
	ID   string `path:"id" maxLength:"64" doc:"Source ID."`
	Body struct {
		GraceSeconds int `json:"grace_seconds,omitempty" minimum:"0" maximum:"2592000" doc:"How long the current secrets stay valid; default a day."`
	}
}

type sourceOutput struct {
	Body WebhookSource
}

type sourceListOutput struct {
	Body struct {
		Sources []WebhookSource `json:"sources"`
	}
}

type inboxInput struct {
	ID     string    `path:"id" maxLength:"64" doc:"Source ID."`
	Limit  int       `query:"limit" minimum:"1" maximum:"200" default:"50"`
	Before time.Time `query:"before" doc:"Messages received before this time (RFC 3339): the previous page's last received_at."`
}

type inboxOutput struct {
	Body struct {
		Messages []InboundMessage `json:"messages"`
	}
}

func (s *Server) sourceView(src sqlc.WebhookSource) WebhookSource {
	v := WebhookSource{ID: src.ID, URL: s.d.PublicURL + "/hooks/" + src.ID, CreatedAt: src.CreatedAt, UpdatedAt: src.UpdatedAt,
		WebhookSourceSpec: groundwork.WebhookSourceSpec{Name: src.Name, Mode: src.Mode, ScenarioHeader: src.ScenarioHeader, Disabled: src.DisabledAt != nil}}
	_ = json.Unmarshal(src.Action, &v.Action)
	return v
}

// newSourceSecret returns a secret for a source of mode.
func newSourceSecret(mode string) string {
	if mode == groundwork.SourceToken {
		b := make([]byte, 32)
		_, _ = rand.Read(b)
		return "whtok_" + base64.RawURLEncoding.EncodeToString(b)
	}
	return stdwebhook.NewSecret()
}

func (s *Server) registerWebhookSources() {
	huma.Register(s.api, huma.Operation{
		OperationID: "create-webhook-source", Method: http.MethodPost, Path: "/v1/webhook-sources",
		Summary: "Create an inbound webhook source", Tags: []string{"webhooks"}, DefaultStatus: http.StatusCreated,
		Description: "Admin only. Senders POST to the answer's url, signed per Standard Webhooks with the secret in this answer (shown once); each message becomes the action, as the admin creating the source.",
		Errors:      []int{400, 401, 403, 413, 422, 429, 503},
	}, func(ctx context.Context, in *sourceBodyInput) (*sourceOutput, error) {
		p, err := requireAdmin(ctx)
		if err != nil {
			return nil, err
		}
		spec := in.Body
		if spec.Mode == "" {
			spec.Mode = groundwork.SourceSignature
		}
		if errs := spec.Validate(); len(errs) > 0 {
			return nil, problem(http.StatusUnprocessableEntity, groundwork.SlugValidation, "the webhook source is invalid", errs...)
		}
		id := "src_" + ulid.MustNew(ulid.Timestamp(s.d.Now()), rand.Reader).String()
		secret := newSourceSecret(spec.Mode)
		sealed, err := s.d.Secrets.Seal([]byte(secret), id)
		if err != nil {
			return nil, problem(http.StatusServiceUnavailable, groundwork.SlugUnavailable, "webhook sources need GROUNDWORK_ENCRYPTION_KEY on the API")
		}
		action, _ := json.Marshal(spec.Action)
		var row sqlc.WebhookSource
		err = db.InTx(ctx, s.d.Pool, func(tx pgx.Tx) error {
			q := sqlc.New(tx)
			var err error
			if row, err = q.WebhookSourceInsert(ctx, sqlc.WebhookSourceInsertParams{ID: id, WorkspaceID: p.WorkspaceID, OwnerID: p.UserID,
				Name: spec.Name, Mode: spec.Mode, Action: action, ScenarioHeader: spec.ScenarioHeader}); err != nil {
				return err
			}
			return q.WebhookSourceSecretAdd(ctx, sqlc.WebhookSourceSecretAddParams{SourceID: id, Ciphertext: sealed})
		})
		if err != nil {
			return nil, dependencyError("postgres", err)
		}
		v := s.sourceView(row)
		v.Secret = secret
		return &sourceOutput{Body: v}, nil
	})

	huma.Register(s.api, huma.Operation{
		OperationID: "list-webhook-sources", Method: http.MethodGet, Path: "/v1/webhook-sources",
		Summary: "List your workspace's webhook sources", Tags: []string{"webhooks"}, Errors: []int{401, 403, 429, 503},
	}, func(ctx context.Context, _ *struct{}) (*sourceListOutput, error) {
		p, err := requireAdmin(ctx)
		if err != nil {
			return nil, err
		}
		rows, err := s.q.WebhookSourceList(ctx, p.WorkspaceID)
		if err != nil {
			return nil, dependencyError("postgres", err)
		}
		out := &sourceListOutput{}
		out.Body.Sources = make([]WebhookSource, 0, len(rows))
		for _, r := range rows {
			out.Body.Sources = append(out.Body.Sources, s.sourceView(r))
		}
		return out, nil
	})

	huma.Register(s.api, huma.Operation{
		OperationID: "get-webhook-source", Method: http.MethodGet, Path: "/v1/webhook-sources/{id}",
		Summary: "Get a webhook source", Tags: []string{"webhooks"}, Errors: []int{401, 403, 404, 429, 503},
	}, func(ctx context.Context, in *sourceIDInput) (*sourceOutput, error) {
		src, err := s.adminSource(ctx, in.ID)
		if err != nil {
			return nil, err
		}
		return &sourceOutput{Body: s.sourceView(src)}, nil
	})

	huma.Register(s.api, huma.Operation{
		OperationID: "update-webhook-source", Method: http.MethodPut, Path: "/v1/webhook-sources/{id}",
		Summary: "Replace a webhook source", Tags: []string{"webhooks"},
		Description: "Admin only. The mode and secrets stay (rotate them with rotate-secret).",
		Errors:      []int{400, 401, 403, 404, 413, 422, 429, 503},
	}, func(ctx context.Context, in *sourceUpdateInput) (*sourceOutput, error) {
		src, err := s.adminSource(ctx, in.ID)
		if err != nil {
			return nil, err
		}
		spec := in.Body
		spec.Mode = src.Mode
		if errs := spec.Validate(); len(errs) > 0 {
			return nil, problem(http.StatusUnprocessableEntity, groundwork.SlugValidation, "the webhook source is invalid", errs...)
		}
		action, _ := json.Marshal(spec.Action)
		row, err := s.q.WebhookSourceUpdate(ctx, sqlc.WebhookSourceUpdateParams{ID: src.ID, WorkspaceID: src.WorkspaceID, Name: spec.Name,
			Action: action, ScenarioHeader: spec.ScenarioHeader, Disabled: spec.Disabled})
		if err != nil {
			return nil, dependencyError("postgres", err)
		}
		return &sourceOutput{Body: s.sourceView(row)}, nil
	})

	huma.Register(s.api, huma.Operation{
		OperationID: "delete-webhook-source", Method: http.MethodDelete, Path: "/v1/webhook-sources/{id}",
		Summary: "Delete a webhook source", Tags: []string{"webhooks"}, DefaultStatus: http.StatusNoContent,
		Errors: []int{401, 403, 404, 429, 503},
	}, func(ctx context.Context, in *sourceIDInput) (*struct{}, error) {
		src, err := s.adminSource(ctx, in.ID)
		if err != nil {
			return nil, err
		}
		if _, err := s.q.WebhookSourceDelete(ctx, sqlc.WebhookSourceDeleteParams{ID: src.ID, WorkspaceID: src.WorkspaceID}); err != nil {
			return nil, dependencyError("postgres", err)
		}
		return nil, nil
	})

	huma.Register(s.api, huma.Operation{
		OperationID: "rotate-webhook-source-secret", Method: http.MethodPost, Path: "/v1/webhook-sources/{id}/rotate-secret",
		Summary: "Rotate a source's secret", Tags: []string{"webhooks"},
		Description: "Admin only. Answers a new secret; the current ones stay valid for grace_seconds (a day by default), so senders can switch without losing a message.",
		Errors:      []int{400, 401, 403, 404, 422, 429, 503},
	}, func(ctx context.Context, in *rotateInput) (*sourceOutput, error) {
		src, err := s.adminSource(ctx, in.ID)
		if err != nil {
			return nil, err
		}
		grace := defaultRotationGrace
		if in.Body.GraceSeconds > 0 {
			grace = time.Duration(in.Body.GraceSeconds) * time.Second
		}
		secret := newSourceSecret(src.Mode)
		sealed, err := s.d.Secrets.Seal([]byte(secret), src.ID)
		if err != nil {
			return nil, problem(http.StatusServiceUnavailable, groundwork.SlugUnavailable, "webhook sources need GROUNDWORK_ENCRYPTION_KEY on the API")
		}
		err = db.InTx(ctx, s.d.Pool, func(tx pgx.Tx) error {
			q := sqlc.New(tx)
			if err := q.WebhookSourceSecretsExpire(ctx, sqlc.WebhookSourceSecretsExpireParams{SourceID: src.ID, ExpiresAt: ptrTime(s.d.Now().Add(grace))}); err != nil {
				return err
			}
			return q.WebhookSourceSecretAdd(ctx, sqlc.WebhookSourceSecretAddParams{SourceID: src.ID, Ciphertext: sealed})
		})
		if err != nil {
			return nil, dependencyError("postgres", err)
		}
		v := s.sourceView(src)
		v.Secret = secret
		return &sourceOutput{Body: v}, nil
	})

	huma.Register(s.api, huma.Operation{
		OperationID: "list-webhook-source-messages", Method: http.MethodGet, Path: "/v1/webhook-sources/{id}/messages",
		Summary: "A source's messages", Tags: []string{"webhooks"}, Description: "Admin only. Newest first, with the run each started and the sender's execution ID.",
		Errors: []int{401, 403, 404, 429, 503},
	}, func(ctx context.Context, in *inboxInput) (*inboxOutput, error) {
		src, err := s.adminSource(ctx, in.ID)
		if err != nil {
			return nil, err
		}
		params := sqlc.WebhookInboxListParams{SourceID: src.ID, WorkspaceID: src.WorkspaceID, MaxRows: int32(in.Limit)}
		if !in.Before.IsZero() {
			params.Before = &in.Before
		}
		rows, err := s.q.WebhookInboxList(ctx, params)
		if err != nil {
			return nil, dependencyError("postgres", err)
		}
		out := &inboxOutput{}
		out.Body.Messages = make([]InboundMessage, 0, len(rows))
		for _, r := range rows {
			out.Body.Messages = append(out.Body.Messages, InboundMessage{WebhookID: r.WebhookID, Status: r.Status, RunID: deref(r.RunID),
				Error: deref(r.Error), Scenario: deref(r.Scenario), ReceivedAt: r.ReceivedAt})
		}
		return out, nil
	})
}

func (s *Server) adminSource(ctx context.Context, id string) (sqlc.WebhookSource, error) {
	p, err := requireAdmin(ctx)
	if err != nil {
		return sqlc.WebhookSource{}, err
	}
	src, err := s.q.WebhookSourceGet(ctx, sqlc.WebhookSourceGetParams{ID: id, WorkspaceID: p.WorkspaceID})
	if db.IsNotFound(err) {
		return src, notFound("webhook source")
	}
	if err != nil {
		return src, dependencyError("postgres", err)
	}
	return src, nil
}

func ptrTime(t time.Time) *time.Time { return &t }

// receiveHook is POST /hooks/{source_id}: public, but a message is taken
// only when signed with one of the source's live secrets (or, for a token
// source, carrying its token). A taken message is stored before the
// answer, and its action starts as a workflow whose ID derives from the
// webhook-id: a re-delivery is acknowledged and changes nothing.
func (s *Server) receiveHook(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	body, err := io.ReadAll(io.LimitReader(r.Body, groundwork.MaxWebhookBody+1))
	if err != nil {
		writeProblem(w, problem(http.StatusBadRequest, groundwork.SlugMalformed, "the body could not be read"))
		return
	}
	if len(body) > groundwork.MaxWebhookBody {
		w.Header().Set("Connection", "close")
		writeProblem(w, problem(http.StatusRequestEntityTooLarge, groundwork.SlugTooLarge, fmt.Sprintf("the body is larger than %d bytes", groundwork.MaxWebhookBody)))
		return
	}
	src, err := s.q.WebhookSourceByID(ctx, chi.URLParam(r, "source_id"))
	if db.IsNotFound(err) || err == nil && src.DisabledAt != nil {
		writeProblem(w, notFound("webhook source"))
		return
	}
	if err != nil {
		writeProblem(w, dependencyError("postgres", err))
		return
	}
	sealed, err := s.q.WebhookSourceSecretsLive(ctx, src.ID)
	if err != nil {
		writeProblem(w, dependencyError("postgres", err))
		return
	}
	var secrets []string
	for _, c := range sealed {
		if b, err := s.d.Secrets.Open(c, src.ID); err == nil {
			secrets = append(secrets, string(b))
		}
	}
	webhookID, reason := verifyInbound(src.Mode, r.Header, body, secrets, s.d.Now())
	if reason != "" {
		s.metrics.hookRejected.WithLabelValues(reason).Inc()
		writeProblem(w, problem(http.StatusUnauthorized, groundwork.SlugUnauthorized, "the message is not signed with a live secret of this source, or its timestamp is more than 5 minutes off"))
		return
	}
	var scenario *string
	if h := src.ScenarioHeader; h != "" && r.Header.Get(h) != "" {
		v := r.Header.Get(h)
		scenario = &v
	}
	n, err := s.q.WebhookInboxInsert(ctx, sqlc.WebhookInboxInsertParams{SourceID: src.ID, WebhookID: webhookID, WorkspaceID: src.WorkspaceID, Body: body, Scenario: scenario})
	if err != nil {
		writeProblem(w, dependencyError("postgres", err))
		return
	}
	status := "accepted"
	if n == 0 {
		status = "duplicate"
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	_ = json.NewEncoder(w).Encode(map[string]string{"status": status, "webhook_id": webhookID})
	if n > 0 {
		s.startInboundLater(ctx, src.ID, webhookID)
	}
}

// inboundStartsAtOnce bounds the action starts one API process runs
// after answering senders.
const inboundStartsAtOnce = 32

// startInboundLater starts a stored message's action after the sender has
// its answer: the sender waits for the store, not for Temporal (a start
// cost hundreds of milliseconds on a busy machine, measured in
// bench/webhooks). A message past the bound, or whose start fails, is
// started by a worker's dispatcher a few seconds later.
func (s *Server) startInboundLater(ctx context.Context, sourceID, webhookID string) {
	select {
	case s.inboundStarts <- struct{}{}:
	default:
		return
	}
	go func() {
		defer func() { <-s.inboundStarts }()
		if err := s.startInbound(context.WithoutCancel(ctx), sourceID, webhookID); err != nil {
			s.d.Log.WarnContext(ctx, "start inbound action; the dispatcher will", "source", sourceID, "error", err)
		}
	}()
}

// verifyInbound checks a message against a source's live secrets and
// returns its webhook-id, or why it is refused.
func verifyInbound(mode string, h http.Header, body []byte, secrets []string, now time.Time) (string, string) {
	if mode == groundwork.SourceToken {
		tok := h.Get(groundwork.TokenHeader)
		for _, s := range secrets {
			if subtle.ConstantTimeCompare([]byte(tok), []byte(s)) == 1 {
				id := h.Get(stdwebhook.HeaderID)
				if id == "" || len(id) > 255 {
					return "", "no_id"
				}
				return id, ""
			}
		}
		return "", "bad_token"
	}
	var keys [][]byte
	for _, s := range secrets {
		if k, err := stdwebhook.Key(s); err == nil {
			keys = append(keys, k)
		}
	}
	id, err := stdwebhook.Verify(h, body, keys, now, groundwork.WebhookTolerance)
	switch {
	case errors.Is(err, stdwebhook.ErrTimestamp):
		return "", "stale"
	case err != nil:
		return "", "bad_signature"
	}
	return id, ""
}

// startInbound starts the action workflow of a stored message.
func (s *Server) startInbound(ctx context.Context, sourceID, webhookID string) error {
	sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	_, err := s.d.Temporal.ExecuteWorkflow(sctx, client.StartWorkflowOptions{
		ID:                       groundwork.InboundWorkflowID(sourceID, webhookID),
		TaskQueue:                groundwork.TaskQueueDefault,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		WorkflowExecutionTimeout: time.Hour,
		EnableEagerStart:         s.d.EagerStart,
	}, groundwork.WorkflowWebhookInbound, groundwork.InboundInput{SourceID: sourceID, WebhookID: webhookID})
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if err != nil && !errors.As(err, &started) {
		return err
	}
	return s.q.WebhookInboxStarted(context.WithoutCancel(ctx), sqlc.WebhookInboxStartedParams{SourceID: sourceID, WebhookID: webhookID})
}
