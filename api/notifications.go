package api

import (
	"context"
	"errors"
	"html/template"
	"net/http"

	"github.com/danielgtaylor/huma/v2"
	"github.com/go-chi/chi/v5"

	"github.com/groundwork-dev/groundwork"
	"github.com/groundwork-dev/groundwork/db"
	"github.com/groundwork-dev/groundwork/db/sqlc"
	"github.com/groundwork-dev/groundwork/internal/signedurl"
)

type prefsOutput struct {
	Body groundwork.NotificationPreferences
}

type prefsInput struct {
	Body groundwork.NotificationPreferences
}

func prefsView(p sqlc.NotificationPreference) groundwork.NotificationPreferences {
	return groundwork.NotificationPreferences{Email: p.Email, Events: p.Events, Delivery: p.Delivery,
		WeeklyDigest: p.WeeklyDigest, Unsubscribed: p.UnsubscribedAt != nil}
}

// defaultPrefs are a user's preferences before they save any: no e-mail.
var defaultPrefs = groundwork.NotificationPreferences{Events: []string{}, Delivery: groundwork.DeliveryImmediate}

func (s *Server) registerNotifications() {
	huma.Register(s.api, huma.Operation{
		OperationID: "get-notification-preferences", Method: http.MethodGet, Path: "/v1/notification-preferences",
		Summary: "Your e-mail notification preferences", Tags: []string{"notifications"}, Errors: []int{401, 429, 503},
		Description: "Until saved: no address and no e-mail.",
	}, func(ctx context.Context, _ *struct{}) (*prefsOutput, error) {
		p, _ := PrincipalFrom(ctx)
		row, err := s.q.NotificationPrefsGet(ctx, p.UserID)
		if db.IsNotFound(err) {
			return &prefsOutput{Body: defaultPrefs}, nil
		}
		if err != nil {
			return nil, dependencyError("postgres", err)
		}
		return &prefsOutput{Body: prefsView(row)}, nil
	})

	huma.Register(s.api, huma.Operation{
		OperationID: "put-notification-preferences", Method: http.MethodPut, Path: "/v1/notification-preferences",
		Summary: "Save your e-mail notification preferences", Tags: []string{"notifications"}, Errors: []int{401, 422, 429, 503},
		Description: "Which notifications go to which address, each at once or in a daily digest, and the weekly customer digest. " +
			"Every e-mail carries an unsubscribe link that works without login; saving with unsubscribed false subscribes again.",
	}, func(ctx context.Context, in *prefsInput) (*prefsOutput, error) {
		p, _ := PrincipalFrom(ctx)
		b := in.Body
		if b.Delivery == "" {
			b.Delivery = groundwork.DeliveryImmediate
		}
		if errs := b.Validate(); len(errs) > 0 {
			return nil, problem(http.StatusUnprocessableEntity, groundwork.SlugValidation, "the preferences are invalid", errs...)
		}
		if b.Events == nil {
			b.Events = []string{}
		}
		row, err := s.q.NotificationPrefsPut(ctx, sqlc.NotificationPrefsPutParams{UserID: p.UserID, Email: b.Email, Events: b.Events,
			Delivery: b.Delivery, WeeklyDigest: b.WeeklyDigest, Unsubscribed: b.Unsubscribed})
		if err != nil {
			return nil, dependencyError("postgres", err)
		}
		return &prefsOutput{Body: prefsView(row)}, nil
	})
}

// unsubscribePage is what a person following an e-mail's unsubscribe link
// sees: a GET only shows a button (mail scanners follow links), the POST
// (the button, or a mail client's RFC 8058 one-click) unsubscribes.
var unsubscribePage = template.Must(template.New("").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><meta name="robots" content="noindex">
<title>Groundwork e-mails</title></head>
<body style="font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;max-width:480px;margin:48px auto;padding:0 16px;color:#1d2330">
{{if .Done}}<h1 style="font-size:20px">You are unsubscribed</h1><p>Groundwork will send you no more e-mails. You can turn them on again in your notification settings.</p>
{{else if .Error}}<h1 style="font-size:20px">This link does not work</h1><p>{{.Error}}</p>
{{else}}<h1 style="font-size:20px">Stop Groundwork e-mails?</h1>
<form method="post"><button type="submit" style="background:#2f6fed;color:#fff;border:0;padding:10px 16px;border-radius:6px;font-size:15px">Unsubscribe from all Groundwork e-mails</button></form>{{end}}
</body></html>`))

// unsubscribe serves /unsubscribe/{user}: public, but only with the
// signature an e-mail's link carries.
func (s *Server) unsubscribe(w http.ResponseWriter, r *http.Request) {
	user := chi.URLParam(r, "user")
	page := struct {
		Done  bool
		Error string
	}{}
	status := http.StatusOK
	err := s.d.Signer.Verify(groundwork.UnsubscribePath(user), r.URL.Query(), s.d.Now())
	switch {
	case errors.Is(err, signedurl.ErrExpired):
		status, page.Error = http.StatusGone, "It has expired: turn e-mails off in your notification settings instead."
	case err != nil:
		status, page.Error = http.StatusForbidden, "It is not a link Groundwork sent, or it was cut short: copy the whole link from the e-mail."
	case r.Method == http.MethodPost:
		if _, err := s.q.NotificationUnsubscribe(r.Context(), user); err != nil {
			writeProblem(w, dependencyError("postgres", err))
			return
		}
		page.Done = true
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	_ = unsubscribePage.Execute(w, page)
}
