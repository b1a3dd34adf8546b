package test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/groundwork-dev/groundwork"
	"github.com/groundwork-dev/groundwork/internal/notify"
	"github.com/groundwork-dev/groundwork/internal/testkit/smtpfake"
	"github.com/groundwork-dev/groundwork/internal/testkit/testenv"
)

// mailbox reads what the SMTP server accepted for one address.
func mailbox(srv *smtpfake.Server, to string) []smtpfake.Message {
	var out []smtpfake.Message
	for _, m := range srv.Messages() {
		for _, r := range m.To {
			if r == to {
				out = append(out, m)
			}
		}
	}
	return out
}

// waitMail waits for the message with Message-ID id to reach the server.
func waitMail(t *testing.T, srv *smtpfake.Server, id string) smtpfake.Message {
	t.Helper()
	var got smtpfake.Message
	testenv.Eventually(t, 60*time.Second, "e-mail "+id, func() bool {
		for _, m := range srv.Messages() {
			if m.MessageID == id {
				got = m
				return true
			}
		}
		return false
	})
	return got
}

func countMail(srv *smtpfake.Server, id string) int {
	n := 0
	for _, m := range srv.Messages() {
		if m.MessageID == id {
			n++
		}
	}
	return n
}

// runMaintenance runs a scheduled workflow now and waits for it.
func runMaintenance(t *testing.T, s *stack, workflow string, args ...any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	run, err := s.App.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: workflow + "-test-" + time.Now().Format("150405.000000000"),
		TaskQueue: groundwork.TaskQueueDefault}, workflow, args...)
	if err != nil {
		t.Fatal(err)
	}
	if err := run.Get(ctx, nil); err != nil {
		t.Fatalf("%s: %v", workflow, err)
	}
}

// TestEmailNotifications walks the e-mail path end to end on a real SMTP
// server: preferences, one e-mail per run (the kind's own first), a
// signed download link that works without login, retries through a 451,
// a 550 failing for good, the daily digest, an endpoint disabled, a
// stalled customer and the weekly digest, and an unsubscribe link that
// stops everything.
func TestEmailNotifications(t *testing.T) {
	testenv.SkipShort(t, "Postgres and Temporal")
	mail := smtpfake.Start(t)
	smtp, err := notify.ParseSMTP(mail.URL(), "Groundwork <noreply@groundwork.test>")
	if err != nil {
		t.Fatal(err)
	}
	s := startStack(t, stackOptions{temporalHostPort: testenv.StartTemporal(t).FrontendHostPort(), workers: "all", ratePerSec: 10000,
		ratePerMin: 1000000, research: testResearch(), webhookScale: 5000, maxFile: 4096, smtp: &smtp}, true)
	ana := s.client(t, "mail-ana", "mail-ws", "admin")
	bob := s.client(t, "mail-bob", "mail-ws", "member")
	carol := s.client(t, "mail-carol", "mail-ws", "member")
	messageID := func(user, key string) string { return smtp.MessageID(groundwork.EmailID(user, key)) }
	put := func(c *apiClient, prefs map[string]any) response {
		t.Helper()
		b, _ := json.Marshal(prefs)
		return c.do(http.MethodPut, "/v1/notification-preferences", b)
	}
	export := func(c *apiClient, rows int) run {
		t.Helper()
		data := make([][]any, rows)
		for i := range data {
			data[i] = []any{strings.Repeat("x", 20)}
		}
		r, resp := c.startExport(map[string]any{"format": "csv", "filename": "pipeline.csv", "columns": []string{"n"}, "rows": data})
		if resp.Status != http.StatusAccepted {
			t.Fatalf("export: %d %s", resp.Status, resp.Body)
		}
		return c.waitRun(r.ID)
	}

	// Before saving: no address, no e-mail. Bad preferences name each field.
	var prefs groundwork.NotificationPreferences
	ana.do(http.MethodGet, "/v1/notification-preferences", nil).json(t, &prefs)
	if prefs.Email != "" || len(prefs.Events) != 0 || prefs.Delivery != "immediate" {
		t.Errorf("default preferences: %+v", prefs)
	}
	resp := put(ana, map[string]any{"email": "Ana <ana@example.com>", "events": []string{"export.ready", "nope"}})
	if resp.Status != http.StatusUnprocessableEntity || strings.Count(string(resp.Body), `"field"`) != 2 {
		t.Errorf("bad preferences: %d %s", resp.Status, resp.Body)
	}
	if resp := put(ana, map[string]any{"delivery": "hourly"}); resp.Status != http.StatusUnprocessableEntity || !strings.Contains(string(resp.Body), `"delivery"`) {
		t.Errorf("bad delivery: %d %s", resp.Status, resp.Body)
	}
	resp = put(ana, map[string]any{"email": "ana@example.com", "delivery": "immediate", "weekly_digest": true,
		"events": []string{"export.ready", "run.succeeded", "run.failed", "webhook_endpoint.disabled", "customer.stalled"}})
	if resp.Status != http.StatusOK {
		t.Fatalf("save preferences: %d %s", resp.Status, resp.Body)
	}
	put(bob, map[string]any{"email": "bob@example.com", "delivery": "daily", "events": []string{"run.succeeded", "run.failed"}})
	put(carol, map[string]any{"email": "bounce@example.com", "events": []string{"run.succeeded"}})

	// The mail server is busy for ana's first attempt, and knows no bounce@.
	var refusedOnce atomic.Bool
	mail.Refuse(func(m smtpfake.Message) *smtpfake.Error {
		if m.To[0] == "bounce@example.com" {
			return smtpfake.NoSuchUser
		}
		if m.To[0] == "ana@example.com" && refusedOnce.CompareAndSwap(false, true) {
			return smtpfake.TryLater
		}
		return nil
	})

	t.Run("export ready, once, with a working link", func(t *testing.T) {
		r := export(ana, 2)
		if r.Status != "succeeded" {
			t.Fatalf("export: %+v", r)
		}
		m := waitMail(t, mail, messageID("mail-ana", "run:"+r.ID))
		if !refusedOnce.Load() || m.Subject != "Your export is ready: pipeline.csv" {
			t.Errorf("refused first: %v; subject %q", refusedOnce.Load(), m.Subject)
		}
		if m.Header.Get("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" || m.Header.Get("Auto-Submitted") != "auto-generated" {
			t.Errorf("headers: %v", m.Header)
		}
		// The link downloads the file without a token.
		i := strings.Index(m.Text, s.URL+"/v1/exports/")
		if i < 0 {
			t.Fatalf("no download link in:\n%s", m.Text)
		}
		link := strings.Fields(m.Text[i:])[0]
		dl, err := http.Get(link)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(dl.Body)
		dl.Body.Close()
		if dl.StatusCode != http.StatusOK || !strings.HasPrefix(string(body), "n\r\n") && !strings.HasPrefix(string(body), "n\n") {
			t.Errorf("download: %d %q", dl.StatusCode, body)
		}
		// One e-mail for the run: export.ready, not also run.succeeded.
		if n := len(mailbox(mail, "ana@example.com")); n != 1 {
			t.Errorf("ana got %d e-mails", n)
		}
	})

	t.Run("a failed run", func(t *testing.T) {
		r := export(ana, 500) // past the 4 KiB file cap
		if r.Status != "failed" {
			t.Fatalf("big export: %+v", r)
		}
		m := waitMail(t, mail, messageID("mail-ana", "run:"+r.ID))
		if m.Subject != "Your export run failed" || !strings.Contains(m.Text, "file_too_large") {
			t.Errorf("failure e-mail: %q\n%s", m.Subject, m.Text)
		}
	})

	t.Run("a 550 fails the e-mail for good", func(t *testing.T) {
		r := export(carol, 1)
		id := groundwork.EmailID("mail-carol", "run:"+r.ID)
		var status, reason string
		testenv.Eventually(t, 60*time.Second, "carol's e-mail closed", func() bool {
			err := s.App.Pool.QueryRow(context.Background(), `SELECT status, coalesce(error, '') FROM email_messages WHERE id = $1`, id).Scan(&status, &reason)
			return err == nil && status != "pending"
		})
		if status != "failed" || !strings.Contains(reason, "550") || len(mailbox(mail, "bounce@example.com")) != 0 {
			t.Errorf("carol's e-mail: %s %q", status, reason)
		}
	})

	t.Run("daily digest", func(t *testing.T) {
		a, b := export(bob, 1), export(bob, 3)
		runMaintenance(t, s, groundwork.WorkflowEmailDigest, groundwork.DigestInput{Kind: groundwork.DigestDaily})
		testenv.Eventually(t, 60*time.Second, "bob's digest", func() bool { return len(mailbox(mail, "bob@example.com")) > 0 })
		got := mailbox(mail, "bob@example.com")
		if len(got) != 1 || got[0].Subject != "Groundwork: 2 notifications for "+time.Now().UTC().Format("2 Jan 2006") ||
			!strings.Contains(got[0].Text, a.ID) || !strings.Contains(got[0].Text, b.ID) {
			t.Fatalf("bob's mailbox: %+v", got)
		}
		// A second pass has nothing left to send.
		runMaintenance(t, s, groundwork.WorkflowEmailDigest, groundwork.DigestInput{Kind: groundwork.DigestDaily})
		var pending int
		_ = s.App.Pool.QueryRow(context.Background(), `SELECT count(*) FROM email_messages WHERE user_id = 'mail-bob' AND status = 'pending'`).Scan(&pending)
		if pending != 0 || len(mailbox(mail, "bob@example.com")) != 1 {
			t.Errorf("after a second pass: %d pending, %d e-mails", pending, len(mailbox(mail, "bob@example.com")))
		}
	})

	t.Run("endpoint disabled", func(t *testing.T) {
		gone := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusGone) }))
		defer gone.Close()
		b, _ := json.Marshal(map[string]any{"url": gone.URL + "/hook", "event_types": []string{"run.succeeded"}})
		resp := ana.do(http.MethodPost, "/v1/webhook-endpoints", b)
		var ep struct {
			ID string `json:"id"`
		}
		resp.json(t, &ep)
		export(bob, 1)
		testenv.Eventually(t, 60*time.Second, "the endpoint's e-mail", func() bool {
			for _, m := range mailbox(mail, "ana@example.com") {
				if strings.HasPrefix(m.Subject, "Webhook endpoint disabled") && strings.Contains(m.Text, ep.ID) && strings.Contains(m.Text, "410 Gone") {
					return true
				}
			}
			return false
		})
	})

	t.Run("stalled customer and weekly digest", func(t *testing.T) {
		rcv := newReceiver(t, false)
		b, _ := json.Marshal(map[string]any{"url": rcv.srv.URL + "/hook", "event_types": []string{"customer.stalled"}})
		var ep struct {
			ID     string `json:"id"`
			Secret string `json:"secret"`
		}
		ana.do(http.MethodPost, "/v1/webhook-endpoints", b).json(t, &ep)
		rcv.addSecret(t, ep.Secret)
		for _, c := range []map[string]any{
			{"name": "Quiet Co", "owner_user_id": "mail-ana", "started_at": time.Now().AddDate(0, 0, -40)},
			{"name": "Busy Co", "owner_user_id": "mail-ana"},
		} {
			b, _ := json.Marshal(c)
			if r := ana.do(http.MethodPost, "/v1/customers", b); r.Status != http.StatusCreated {
				t.Fatalf("customer: %d %s", r.Status, r.Body)
			}
		}
		for range 2 { // the second pass finds nothing new
			runMaintenance(t, s, groundwork.WorkflowStalledCustomers)
		}
		testenv.Eventually(t, 60*time.Second, "customer.stalled delivered", func() bool { u, _ := rcv.count(); return u == 1 })
		var stalledMails int
		testenv.Eventually(t, 60*time.Second, "the stalled e-mail", func() bool {
			stalledMails = 0
			for _, m := range mailbox(mail, "ana@example.com") {
				if m.Subject == "Quiet Co has gone quiet" {
					stalledMails++
				}
			}
			return stalledMails > 0
		})
		if u, total := rcv.count(); u != 1 || total != 1 || stalledMails != 1 {
			t.Errorf("stalled: %d events (%d deliveries), %d e-mails", u, total, stalledMails)
		}
		y, w := time.Now().UTC().ISOWeek()
		runMaintenance(t, s, groundwork.WorkflowEmailDigest, groundwork.DigestInput{Kind: groundwork.DigestWeekly})
		m := waitMail(t, mail, messageID("mail-ana", fmt.Sprintf("digest:weekly:mail-ws:%d-W%02d", y, w)))
		if !strings.Contains(m.Subject, "1 stalled") || !strings.Contains(m.Text, "Quiet Co (onboarding)") || !strings.Contains(m.Text, "STALLED") ||
			!strings.Contains(m.HTML, "Busy Co") {
			t.Errorf("weekly digest: %q\n%s", m.Subject, m.Text)
		}
	})

	t.Run("unsubscribe", func(t *testing.T) {
		got := mailbox(mail, "ana@example.com")
		if len(got) == 0 {
			t.Fatal("ana has no e-mail")
		}
		link := strings.Trim(got[0].Header.Get("List-Unsubscribe"), "<>")
		if !strings.HasPrefix(link, s.URL+"/unsubscribe/mail-ana?") {
			t.Fatalf("List-Unsubscribe: %q", link)
		}
		// A GET only asks (scanners follow links); a forged link is refused.
		r, _ := http.Get(link)
		page, _ := io.ReadAll(r.Body)
		r.Body.Close()
		if r.StatusCode != http.StatusOK || !strings.Contains(string(page), `<form method="post">`) {
			t.Errorf("GET: %d %s", r.StatusCode, page)
		}
		forged := strings.Replace(link, "/mail-ana?", "/mail-bob?", 1)
		if r, _ := http.Post(forged, "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click")); r.StatusCode != http.StatusForbidden {
			t.Errorf("a link for another user: %d", r.StatusCode)
		}
		ana.do(http.MethodGet, "/v1/notification-preferences", nil).json(t, &prefs)
		if prefs.Unsubscribed {
			t.Fatal("unsubscribed by a GET")
		}
		// The mail client's one-click POST (RFC 8058).
		r, err := http.PostForm(link, url.Values{"List-Unsubscribe": {"One-Click"}})
		if err != nil || r.StatusCode != http.StatusOK {
			t.Fatalf("one-click: %v %v", err, r)
		}
		r.Body.Close()
		ana.do(http.MethodGet, "/v1/notification-preferences", nil).json(t, &prefs)
		if !prefs.Unsubscribed {
			t.Fatal("still subscribed")
		}
		// The run's close decides its e-mail in its own transaction: none now.
		done := export(ana, 1)
		var n int
		_ = s.App.Pool.QueryRow(context.Background(), `SELECT count(*) FROM email_messages WHERE id = $1`, groundwork.EmailID("mail-ana", "run:"+done.ID)).Scan(&n)
		if n != 0 {
			t.Errorf("an e-mail was queued after unsubscribing")
		}
		// Saving the preferences with unsubscribed false subscribes again.
		prefs.Unsubscribed = false
		b, _ := json.Marshal(prefs)
		var again groundwork.NotificationPreferences
		ana.do(http.MethodPut, "/v1/notification-preferences", b).json(t, &again)
		if again.Unsubscribed {
			t.Error("could not subscribe again")
		}
	})
}
