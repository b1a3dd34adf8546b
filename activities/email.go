package activities

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/groundwork-dev/groundwork"
	"github.com/groundwork-dev/groundwork/db"
	"github.com/groundwork-dev/groundwork/db/sqlc"
	"github.com/groundwork-dev/groundwork/internal/health"
	"github.com/groundwork-dev/groundwork/internal/metrics"
	"github.com/groundwork-dev/groundwork/internal/notify"
	"github.com/groundwork-dev/groundwork/internal/signedurl"
)

// Email sends the e-mail outbox and writes the digests.
type Email struct {
	Pool *pgxpool.Pool
	// SMTP is the mail server; nil: e-mails are recorded as suppressed.
	SMTP *notify.SMTP
	// Signer signs download and unsubscribe links; nil: e-mails carry none.
	Signer *signedurl.Signer
	// PublicURL is the API's address links start with.
	PublicURL string
	// StalledAfter is how long without an event makes a customer stalled.
	StalledAfter time.Duration
	Log          *slog.Logger
	Now          func() time.Time
}

func (e *Email) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

// EmailSend sends one outbox e-mail unless it was sent (or closed)
// already. Its Message-ID is the row's, derived from the event, so the
// one repeat this cannot rule out (the server accepted, the worker died
// before recording it) repeats the same Message-ID. A 5xx refusal fails
// the e-mail at once; anything else is retried by the workflow.
func (e *Email) EmailSend(ctx context.Context, in groundwork.EmailSendInput) (groundwork.EmailSendResult, error) {
	q := sqlc.New(e.Pool)
	row, err := q.EmailGet(ctx, in.EmailID)
	if db.IsNotFound(err) {
		return groundwork.EmailSendResult{Status: "deleted"}, nil // with its user
	}
	if err != nil {
		return groundwork.EmailSendResult{}, fmt.Errorf("load e-mail: %w", err)
	}
	m := row.EmailMessage
	if m.Status != "pending" {
		return groundwork.EmailSendResult{Status: m.Status}, nil
	}
	switch {
	case !row.Subscribed:
		return e.close(ctx, m.ID, "suppressed", "the user unsubscribed or has no address")
	case e.SMTP == nil:
		return e.close(ctx, m.ID, "suppressed", "no SMTP server is configured (GROUNDWORK_SMTP_URL)")
	}
	unsub := e.unsubscribeURL(m.UserID)
	msg, err := e.render(ctx, m.Template, m.Data, unsub)
	if err != nil {
		if _, cerr := e.close(ctx, m.ID, "failed", err.Error()); cerr != nil {
			return groundwork.EmailSendResult{}, cerr
		}
		return groundwork.EmailSendResult{}, temporal.NewNonRetryableApplicationError(err.Error(), groundwork.ErrTypeInvalidInput, err)
	}
	// Beat while the server holds the session: a worker killed mid-send
	// is noticed within the heartbeat timeout.
	stop := heartbeatEvery(ctx, 2*time.Second, nil)
	err = e.SMTP.Send(ctx, notify.Mail{ID: m.ID, To: row.Address, Message: msg, UnsubscribeURL: unsub, Date: m.CreatedAt})
	stop()
	var perm *notify.PermanentError
	switch {
	case errors.As(err, &perm):
		return e.close(ctx, m.ID, "failed", err.Error())
	case err != nil:
		text := err.Error()
		if aerr := q.EmailAttempted(ctx, sqlc.EmailAttemptedParams{ID: m.ID, Error: &text}); aerr != nil {
			e.Log.Warn("record e-mail attempt", "email", m.ID, "error", aerr)
		}
		return groundwork.EmailSendResult{}, err
	}
	return e.close(ctx, m.ID, "sent", "")
}

// EmailFailed records a send that ran out of retries.
func (e *Email) EmailFailed(ctx context.Context, in groundwork.EmailFailedInput) error {
	_, err := e.close(ctx, in.EmailID, "failed", in.Error)
	return err
}

func (e *Email) close(ctx context.Context, id, status, reason string) (groundwork.EmailSendResult, error) {
	var text *string
	if reason != "" {
		text = &reason
	}
	n, err := sqlc.New(e.Pool).EmailClose(ctx, sqlc.EmailCloseParams{ID: id, Status: status, Error: text})
	if err != nil {
		return groundwork.EmailSendResult{}, fmt.Errorf("record e-mail %s: %w", status, err)
	}
	if n > 0 {
		metrics.Emails.WithLabelValues(status).Inc()
	}
	return groundwork.EmailSendResult{Status: status}, nil
}

func (e *Email) unsubscribeURL(userID string) string {
	if e.Signer == nil {
		return ""
	}
	path := groundwork.UnsubscribePath(userID)
	return e.PublicURL + path + "?" + e.Signer.Sign(path, e.now().Add(groundwork.UnsubscribeTTL))
}

// render builds the e-mail of an outbox row from its template and data.
func (e *Email) render(ctx context.Context, template string, data json.RawMessage, unsub string) (notify.Message, error) {
	body, err := e.body(ctx, template, data)
	if err != nil {
		return notify.Message{}, err
	}
	return notify.Render(template, notify.Envelope{UnsubscribeURL: unsub, Body: body})
}

// body decodes a row's data into its template's type.
func (e *Email) body(ctx context.Context, template string, data json.RawMessage) (any, error) {
	switch template {
	case groundwork.TemplateRunFinished, groundwork.TemplateExportReady, groundwork.TemplateResearchCompleted:
		var ev db.RunEventData
		if err := json.Unmarshal(data, &ev); err != nil {
			return nil, fmt.Errorf("decode run notification: %w", err)
		}
		run := notify.Run{ID: ev.RunID, Kind: ev.Kind, Status: ev.Status, Failed: ev.Status == string(sqlc.RunStatusFailed) || ev.Status == string(sqlc.RunStatusTimedOut)}
		if ev.Error != nil {
			run.ErrorType, run.Error = ev.Error.Type, ev.Error.Message
		}
		switch template {
		case groundwork.TemplateExportReady:
			var r groundwork.ExportResult
			if err := json.Unmarshal(ev.Result, &r); err != nil {
				return nil, fmt.Errorf("decode export result: %w", err)
			}
			out := notify.ExportReady{Run: run, Filename: r.Filename, Format: r.Format, SizeBytes: r.SizeBytes, ExpiresAt: r.ExpiresAt}
			if e.Signer != nil && r.ExportID != "" {
				path := "/v1/exports/" + r.ExportID + "/download"
				out.DownloadURL = e.PublicURL + path + "?" + e.Signer.Sign(path, r.ExpiresAt)
			}
			return out, nil
		case groundwork.TemplateResearchCompleted:
			var r groundwork.ResearchResult
			if err := json.Unmarshal(ev.Result, &r); err != nil {
				return nil, fmt.Errorf("decode research result: %w", err)
			}
			return notify.ResearchCompleted{Run: run, Company: r.Company, Domain: r.Domain, Pages: r.Pages}, nil
		}
		return run, nil
	case groundwork.TemplateEndpointDisabled:
		var d db.EndpointDisabledData
		if err := json.Unmarshal(data, &d); err != nil {
			return nil, fmt.Errorf("decode endpoint notification: %w", err)
		}
		return notify.EndpointDisabled{EndpointID: d.EndpointID, URL: d.URL, Reason: d.Reason}, nil
	case groundwork.TemplateCustomerStalled:
		var d StalledData
		if err := json.Unmarshal(data, &d); err != nil {
			return nil, fmt.Errorf("decode stalled notification: %w", err)
		}
		return notify.CustomerStalled{CustomerID: d.CustomerID, Name: d.Name, ExternalID: d.ExternalID,
			LastActivity: d.LastActivityAt, Days: d.StalledDays}, nil
	case groundwork.TemplateDailyDigest:
		var entries []digestEntry
		if err := json.Unmarshal(data, &entries); err != nil {
			return nil, fmt.Errorf("decode digest: %w", err)
		}
		d := notify.DailyDigest{}
		for _, en := range entries {
			m, err := e.render(ctx, en.Template, en.Data, "")
			if err != nil {
				return nil, err
			}
			d.Items = append(d.Items, notify.DigestItem{Subject: m.Subject, Summary: m.Summary, At: en.At})
		}
		if len(entries) > 0 {
			d.Date = entries[len(entries)-1].At.UTC().Format("2 Jan 2006")
		}
		return d, nil
	case groundwork.TemplateConfirmAddress:
		var d ConfirmData
		if err := json.Unmarshal(data, &d); err != nil {
			return nil, fmt.Errorf("decode confirmation: %w", err)
		}
		if e.Signer == nil {
			return nil, errors.New("a confirmation needs GROUNDWORK_SIGNING_KEY on the worker")
		}
		path := groundwork.ConfirmPath(d.UserID, d.Email)
		expires := e.now().Add(groundwork.ConfirmTTL)
		return notify.ConfirmAddress{Email: d.Email, Expires: expires,
			ConfirmURL: e.PublicURL + path + "?" + e.Signer.Sign(path, expires)}, nil
	case groundwork.TemplateWeeklyDigest:
		var d notify.WeeklyDigest
		if err := json.Unmarshal(data, &d); err != nil {
			return nil, fmt.Errorf("decode weekly digest: %w", err)
		}
		return d, nil
	}
	return nil, fmt.Errorf("no e-mail template %q", template)
}

// ConfirmData is the data of an address confirmation.
type ConfirmData struct {
	UserID string `json:"user_id"`
	Email  string `json:"email"`
}

// digestEntry is one notification a daily digest holds.
type digestEntry struct {
	Template string          `json:"template"`
	Data     json.RawMessage `json:"data"`
	At       time.Time       `json:"at"`
}

// digestBatch is the most users one digest pass reads at once.
const digestBatch = 200

// EmailDigest writes the daily or weekly digests to the outbox.
func (e *Email) EmailDigest(ctx context.Context, in groundwork.DigestInput) (groundwork.DigestResult, error) {
	switch in.Kind {
	case groundwork.DigestDaily:
		return e.daily(ctx)
	case groundwork.DigestWeekly:
		return e.weekly(ctx)
	}
	return groundwork.DigestResult{}, temporal.NewNonRetryableApplicationError("unknown digest "+in.Kind, groundwork.ErrTypeInvalidInput, nil)
}

// daily turns every user's waiting notifications into one e-mail per
// user and workspace; the rows it takes and the digest it writes commit
// together, so a retried pass neither loses nor repeats one.
func (e *Email) daily(ctx context.Context) (groundwork.DigestResult, error) {
	var res groundwork.DigestResult
	before := e.now()
	for {
		users, err := sqlc.New(e.Pool).EmailDigestUsers(ctx, sqlc.EmailDigestUsersParams{Before: before, MaxRows: digestBatch})
		if err != nil {
			return res, fmt.Errorf("list digest users: %w", err)
		}
		for _, u := range users {
			err := db.InTx(ctx, e.Pool, func(tx pgx.Tx) error {
				q := sqlc.New(tx)
				items, err := q.EmailDigestTake(ctx, sqlc.EmailDigestTakeParams{UserID: u.UserID, WorkspaceID: u.WorkspaceID, Before: before})
				if err != nil || len(items) == 0 {
					return err
				}
				entries := make([]digestEntry, len(items))
				for i, it := range items {
					entries[i] = digestEntry{Template: it.Template, Data: it.Data, At: it.CreatedAt}
				}
				data, err := json.Marshal(entries)
				if err != nil {
					return err
				}
				// Keyed by its first item: a second pass the same day makes a
				// digest of what came after.
				_, err = q.EmailInsert(ctx, sqlc.EmailInsertParams{ID: groundwork.EmailID(u.UserID, "digest:daily:"+items[0].ID),
					UserID: u.UserID, WorkspaceID: u.WorkspaceID, EventType: "digest.daily", Template: groundwork.TemplateDailyDigest, Data: data})
				res.Digests++
				return err
			})
			if err != nil {
				return res, fmt.Errorf("digest for %s: %w", u.UserID, err)
			}
			activity.RecordHeartbeat(ctx, res)
		}
		if len(users) < digestBatch {
			return res, nil
		}
	}
}

// weekly writes each user's customer digest for the ISO week, one per
// workspace where they own customers.
func (e *Email) weekly(ctx context.Context) (groundwork.DigestResult, error) {
	var res groundwork.DigestResult
	now := e.now().UTC()
	// Monday's digest is about the week that just ended.
	y, w := now.AddDate(0, 0, -1).ISOWeek()
	week := fmt.Sprintf("%d-W%02d", y, w)
	q := sqlc.New(e.Pool)
	after := ""
	for {
		users, err := q.EmailWeeklyUsers(ctx, sqlc.EmailWeeklyUsersParams{AfterUser: after, MaxRows: digestBatch})
		if err != nil {
			return res, fmt.Errorf("list weekly digest users: %w", err)
		}
		for _, user := range users {
			workspaces, err := q.EmailWeeklyWorkspaces(ctx, user)
			if err != nil {
				return res, fmt.Errorf("list workspaces of %s: %w", user, err)
			}
			for _, ws := range workspaces {
				id := groundwork.EmailID(user, "digest:weekly:"+ws+":"+week)
				// A retried pass skips the digests it wrote before it died,
				// so a long pass makes progress across retries.
				if done, err := q.EmailExists(ctx, id); err != nil {
					return res, fmt.Errorf("check weekly digest: %w", err)
				} else if done {
					continue
				}
				d, err := e.weeklyDigest(ctx, q, user, ws, now)
				if err != nil {
					return res, err
				}
				d.Week = week
				data, err := json.Marshal(d)
				if err != nil {
					return res, err
				}
				// Keyed by the week: a second pass writes nothing.
				n, err := q.EmailInsert(ctx, sqlc.EmailInsertParams{ID: id,
					UserID: user, WorkspaceID: ws, EventType: "digest.weekly", Template: groundwork.TemplateWeeklyDigest, Data: data})
				if err != nil {
					return res, fmt.Errorf("write weekly digest: %w", err)
				}
				res.Digests += int(n)
			}
			activity.RecordHeartbeat(ctx, res)
		}
		if len(users) < digestBatch {
			return res, nil
		}
		after = users[len(users)-1]
	}
}

func (e *Email) weeklyDigest(ctx context.Context, q *sqlc.Queries, userID, workspace string, now time.Time) (notify.WeeklyDigest, error) {
	customers, err := q.EmailWeeklyCustomers(ctx, sqlc.EmailWeeklyCustomersParams{WorkspaceID: workspace, UserID: &userID})
	if err != nil {
		return notify.WeeklyDigest{}, fmt.Errorf("load customers: %w", err)
	}
	ids := make([]string, len(customers))
	for i, c := range customers {
		ids[i] = c.ID
	}
	rows, err := q.CustomersActivityDays(ctx, sqlc.CustomersActivityDaysParams{Ids: ids, Since: now.AddDate(0, 0, -30)})
	if err != nil {
		return notify.WeeklyDigest{}, fmt.Errorf("load activity: %w", err)
	}
	days := map[string][]health.Day{}
	for _, r := range rows {
		days[r.CustomerID] = append(days[r.CustomerID], health.Day{Day: r.Day, Type: r.Type, Events: int64(r.Events)})
	}
	d := notify.WeeklyDigest{Total: len(customers)}
	for _, c := range customers {
		en := health.Compute(days[c.ID], now)
		seen := c.StartedAt
		if c.LastActivityAt != nil {
			seen = *c.LastActivityAt
		}
		line := notify.CustomerLine{Name: c.Name, Stage: c.Stage, Engagement: en.Score, Trend: en.Trend, Events7d: en.Events7,
			LastActivity: c.LastActivityAt, Stalled: now.Sub(seen) > e.StalledAfter}
		today := now.Truncate(24 * time.Hour)
		for _, day := range days[c.ID] {
			if age := today.Sub(day.Day.UTC().Truncate(24*time.Hour)) / (24 * time.Hour); age >= 7 && age < 14 {
				line.EventsPrior += day.Events
			}
		}
		if line.Stalled {
			d.Stalled++
		}
		if en.Trend == "down" {
			d.Dropped++
		}
		d.Customers = append(d.Customers, line)
	}
	// The ones needing attention first: stalled, then falling, then by score.
	slices.SortStableFunc(d.Customers, func(a, b notify.CustomerLine) int {
		return cmp.Or(-cmp.Compare(boolRank(a.Stalled), boolRank(b.Stalled)),
			-cmp.Compare(boolRank(a.Trend == "down"), boolRank(b.Trend == "down")), cmp.Compare(a.Engagement, b.Engagement))
	})
	return d, nil
}

func boolRank(b bool) int {
	if b {
		return 1
	}
	return 0
}
