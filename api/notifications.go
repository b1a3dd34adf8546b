package api

import (
	"context"
	"encoding/json"
	"errors"
	"html/template"
	"net/http"
	"net/url"

	"github.com/danielgtaylor/huma/v2"
	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5"

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
	return groundwork.NotificationPreferences{Email: p.Email, PendingEmail: p.PendingEmail, Events: p.Events, Delivery: p.Delivery,
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
			"A new address is used once its owner follows the link e-mailed to it (pending_email until then; one such e-mail a day per address). " +
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
		var row sqlc.NotificationPreference
		err := db.InTx(ctx, s.d.Pool, func(tx pgx.Tx) error {
			q := sqlc.New(tx)
			var err error
			row, err = q.NotificationPrefsPut(ctx, sqlc.NotificationPrefsPutParams{UserID: p.UserID, Email: b.Email, Events: b.Events,
				Delivery: b.Delivery, WeeklyDigest: b.WeeklyDigest, Unsubscribed: b.Unsubscribed})
			if err != nil || row.PendingEmail == "" || row.UnsubscribedAt != nil {
				return err
			}
			// The confirmation goes out with the save, through the outbox.
			data, _ := json.Marshal(map[string]string{"user_id": p.UserID, "email": row.PendingEmail})
			_, err = q.EmailInsert(ctx, sqlc.EmailInsertParams{ID: groundwork.ConfirmEmailID(p.UserID, row.PendingEmail, s.d.Now()),
				UserID: p.UserID, WorkspaceID: p.WorkspaceID, EventType: "address.confirm", Template: groundwork.TemplateConfirmAddress,
				Data: data, ToAddress: &row.PendingEmail})
			return err
		})
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
	s.signedAction(w, r, unsubscribePage, func(user string, _ []string) string { return groundwork.UnsubscribePath(user) },
		func(ctx context.Context, user string, _ []string) (int64, error) {
			return s.q.NotificationUnsubscribe(ctx, user)
		})
}

// confirmPage is what the owner of an address following its confirmation
// link sees: a GET only shows a button, the POST confirms.
var confirmPage = template.Must(template.New("").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><meta name="robots" content="noindex">
<title>Groundwork e-mails</title></head>
<body style="font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;max-width:480px;margin:48px auto;padding:0 16px;color:#1d2330">
{{if .Done}}<h1 style="font-size:20px">Address confirmed</h1><p>Groundwork notifications now go to this address.</p>
{{else if .Error}}<h1 style="font-size:20px">This link does not work</h1><p>{{.Error}}</p>
{{else}}<h1 style="font-size:20px">Send Groundwork notifications to this address?</h1>
<form method="post"><button type="submit" style="background:#2f6fed;color:#fff;border:0;padding:10px 16px;border-radius:6px;font-size:15px">Confirm this address</button></form>{{end}}
</body></html>`))

// confirmAddress serves /notifications/confirm/{user}/{email}: public, but
// only with the signature the confirmation e-mail's link carries.
func (s *Server) confirmAddress(w http.ResponseWriter, r *http.Request) {
	s.signedAction(w, r, confirmPage, func(user string, rest []string) string { return groundwork.ConfirmPath(user, rest[0]) },
		func(ctx context.Context, user string, rest []string) (int64, error) {
			return s.q.NotificationConfirm(ctx, sqlc.NotificationConfirmParams{UserID: user, Email: rest[0]})
		})
}

// signedAction serves a page reached from a link in an e-mail: the path's
// parameters (user, then the others of params) unescaped, the link's
// signature checked over the path they make, a GET answered with page's
// button and a POST carrying out act.
func (s *Server) signedAction(w http.ResponseWriter, r *http.Request, page *template.Template,
	path func(user string, rest []string) string, act func(ctx context.Context, user string, rest []string) (int64, error)) {
	var params []string
	for _, k := range []string{"user", "email"} {
		if v := chi.URLParam(r, k); v != "" {
			// chi hands over the escaped form when the path held %2F and the like.
			u, err := url.PathUnescape(v)
			if err != nil {
				u = v
			}
			params = append(params, u)
		}
	}
	view := struct {
		Done  bool
		Error string
	}{}
	status := http.StatusOK
	var err error
	if len(params) == 0 {
		err = signedurl.ErrInvalid
	} else {
		err = s.d.Signer.Verify(path(params[0], params[1:]), r.URL.Query(), s.d.Now())
	}
	switch {
	case errors.Is(err, signedurl.ErrExpired):
		status, view.Error = http.StatusGone, "It has expired: change your e-mail settings in the app instead."
	case err != nil:
		status, view.Error = http.StatusForbidden, "It is not a link Groundwork sent, or it was cut short: copy the whole link from the e-mail."
	case r.Method == http.MethodPost:
		n, err := act(r.Context(), params[0], params[1:])
		if err != nil {
			writeProblem(w, dependencyError("postgres", err))
			return
		}
		view.Done = true
		if n == 0 && len(params) > 1 {
			status, view.Done, view.Error = http.StatusGone, false, "The address was changed or confirmed since this link was sent."
		}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	_ = page.Execute(w, view)
}
