package test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
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

// confirmAddress follows the confirmation link e-mailed to addr, as its
// owner would, and checks the address is now c's.
func confirmAddress(t *testing.T, s *stack, mail *smtpfake.Server, c *apiClient, addr string) {
	t.Helper()
	var link string
	testenv.Eventually(t, 60*time.Second, "the confirmation e-mail to "+addr, func() bool {
		for _, m := range mailbox(mail, addr) {
			if i := strings.Index(m.Text, s.URL+"/notifications/confirm/"); m.Subject == "Confirm your address for Groundwork e-mails" && i >= 0 {
				link = strings.Fields(m.Text[i:])[0]
				return true
			}
		}
		return false
	})
	r, err := http.Post(link, "application/x-www-form-urlencoded", nil)
	if err != nil || r.StatusCode != http.StatusOK {
		t.Fatalf("confirm %s: %v %v", addr, err, r)
	}
	r.Body.Close()
	var prefs groundwork.NotificationPreferences
	c.do(http.MethodGet, "/v1/notification-preferences", nil).json(t, &prefs)
	if prefs.Email != addr || prefs.PendingEmail != "" {
		t.Fatalf("after confirming %s: %+v", addr, prefs)
	}
}

// emailStatus is an outbox e-mail's status ("" when there is none).
func emailStatus(t *testing.T, s *stack, id string) string {
	t.Helper()
	var status string
	_ = s.App.Pool.QueryRow(context.Background(), `SELECT status FROM email_messages WHERE id = $1`, id).Scan(&status)
	return status
}

// runMaintenance runs a scheduled workflow now, waits for it and returns
// its workflow ID.
func runMaintenance(t *testing.T, s *stack, workflow string, args ...any) string {
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
	return run.GetID()
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
	resp.json(t, &prefs)
	if resp.Status != http.StatusOK || prefs.Email != "" || prefs.PendingEmail != "ana@example.com" {
		t.Fatalf("save preferences: %d %s", resp.Status, resp.Body)
	}
	// Until its owner confirms it, the address gets nothing but the
	// confirmation: a run's e-mail is not even queued.
	early := export(ana, 1)
	if st := emailStatus(t, s, groundwork.EmailID("mail-ana", "run:"+early.ID)); st != "" {
		t.Errorf("an e-mail to an unconfirmed address: %s", st)
	}
	confirmAddress(t, s, mail, ana, "ana@example.com")
	put(bob, map[string]any{"email": "bob@example.com", "delivery": "daily", "events": []string{"run.succeeded", "run.failed"}})
	confirmAddress(t, s, mail, bob, "bob@example.com")
	// Saving the same address again sends no second confirmation today.
	put(bob, map[string]any{"email": "bob@example.com", "delivery": "daily", "events": []string{"run.succeeded", "run.failed"}})
	// A user ID with characters a path must escape still gets working links.
	odd := s.client(t, "mail/odd,user", "mail-ws", "member")
	put(odd, map[string]any{"email": "odd@example.com", "events": []string{"run.succeeded"}})
	confirmAddress(t, s, mail, odd, "odd@example.com")

	// The mail server is busy for ana's first run e-mail, and knows no bounce@.
	var refusedOnce atomic.Bool
	mail.Refuse(func(m smtpfake.Message) *smtpfake.Error {
		if m.To[0] == "bounce@example.com" {
			return smtpfake.NoSuchUser
		}
		if m.To[0] == "ana@example.com" && m.Subject != "Confirm your address for Groundwork e-mails" && refusedOnce.CompareAndSwap(false, true) {
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
		if !refusedOnce.Load() || m.Subject != "Your export is ready" || !strings.Contains(m.Text, "pipeline.csv") {
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
		// One e-mail for the run: export.ready, not also run.succeeded, and
		// not twice (checked once the outbox row is closed).
		testenv.Eventually(t, 30*time.Second, "the run's e-mail recorded sent", func() bool {
			return emailStatus(t, s, groundwork.EmailID("mail-ana", "run:"+r.ID)) == "sent"
		})
		if st := emailStatus(t, s, groundwork.EmailID("mail-ana", "run:"+r.ID)); st != "sent" || countMail(mail, m.MessageID) != 1 {
			t.Errorf("the run's e-mail: %s, arrived %d times", st, countMail(mail, m.MessageID))
		}
		if n := len(mailbox(mail, "ana@example.com")); n != 2 { // and the confirmation
			t.Errorf("ana got %d e-mails", n)
		}
		// Its send went through a 451 and a retry: a history worth keeping.
		replayAndRecord(t, s.App.Temporal, groundwork.EmailWorkflowID(groundwork.EmailID("mail-ana", "run:"+r.ID)), "email_send_retried.json")
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
		// The confirmation itself is refused: the address is dead.
		put(carol, map[string]any{"email": "bounce@example.com", "events": []string{"run.succeeded"}})
		id := groundwork.ConfirmEmailID("mail-carol", "bounce@example.com", time.Now())
		testenv.Eventually(t, 60*time.Second, "carol's confirmation closed", func() bool { return emailStatus(t, s, id) != "pending" && emailStatus(t, s, id) != "" })
		if st := emailStatus(t, s, id); st != "failed" || len(mailbox(mail, "bounce@example.com")) != 0 {
			t.Errorf("carol's confirmation: %s", st)
		}
		// A confirmed address that starts refusing fails each e-mail for good.
		put(carol, map[string]any{"email": "carol@example.com", "events": []string{"run.succeeded"}})
		confirmAddress(t, s, mail, carol, "carol@example.com")
		mail.Refuse(func(m smtpfake.Message) *smtpfake.Error {
			if m.To[0] == "carol@example.com" {
				return smtpfake.NoSuchUser
			}
			return nil
		})
		r := export(carol, 1)
		id = groundwork.EmailID("mail-carol", "run:"+r.ID)
		var status, reason string
		testenv.Eventually(t, 60*time.Second, "carol's e-mail closed", func() bool {
			err := s.App.Pool.QueryRow(context.Background(), `SELECT status, coalesce(error, '') FROM email_messages WHERE id = $1`, id).Scan(&status, &reason)
			return err == nil && status != "pending"
		})
		if status != "failed" || !strings.Contains(reason, "550") || len(mailbox(mail, "carol@example.com")) != 1 {
			t.Errorf("carol's e-mail: %s %q", status, reason)
		}
		mail.Refuse(nil)
	})

	t.Run("daily digest", func(t *testing.T) {
		a, b := export(bob, 1), export(bob, 3)
		digestID := runMaintenance(t, s, groundwork.WorkflowEmailDigest, groundwork.DigestInput{Kind: groundwork.DigestDaily})
		replayAndRecord(t, s.App.Temporal, digestID, "email_digest_daily.json")
		testenv.Eventually(t, 60*time.Second, "bob's digest", func() bool { return len(mailbox(mail, "bob@example.com")) > 1 })
		var digest []smtpfake.Message
		for _, m := range mailbox(mail, "bob@example.com") {
			if strings.HasPrefix(m.Subject, "Groundwork: ") {
				digest = append(digest, m)
			}
		}
		if len(digest) != 1 || !strings.HasPrefix(digest[0].Subject, "Groundwork: 2 notifications for ") ||
			!strings.Contains(digest[0].Text, a.ID) || !strings.Contains(digest[0].Text, b.ID) {
			t.Fatalf("bob's digests: %+v", digest)
		}
		// A second pass has nothing left to send.
		runMaintenance(t, s, groundwork.WorkflowEmailDigest, groundwork.DigestInput{Kind: groundwork.DigestDaily})
		var pending int
		_ = s.App.Pool.QueryRow(context.Background(), `SELECT count(*) FROM email_messages WHERE user_id = 'mail-bob' AND status = 'pending'`).Scan(&pending)
		if pending != 0 || len(mailbox(mail, "bob@example.com")) != 2 { // the confirmation and the digest
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
				if m.Subject == "A webhook endpoint was disabled" && strings.Contains(m.Text, ep.ID) && strings.Contains(m.Text, "410 Gone") {
					return true
				}
			}
			return false
		})
		// The delivery stopped at the 410 and dead-lettered its message.
		var msgID string
		if err := s.App.Pool.QueryRow(context.Background(), `SELECT id FROM webhook_messages WHERE endpoint_id = $1`, ep.ID).Scan(&msgID); err != nil {
			t.Fatal(err)
		}
		replayAndRecord(t, s.App.Temporal, groundwork.WebhookWorkflowID(msgID, 0), "webhook_delivery_gone.json")
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
		// A stranger, confirmed but in another workspace, named as an owner
		// hears nothing of this one; a stall that began long ago is not news.
		stranger := s.client(t, "mail-stranger", "other-ws", "admin")
		put(stranger, map[string]any{"email": "stranger@example.com", "events": []string{"customer.stalled"}, "weekly_digest": true})
		confirmAddress(t, s, mail, stranger, "stranger@example.com")
		for _, c := range []map[string]any{
			{"name": "Quiet Co", "owner_user_id": "mail-ana", "started_at": time.Now().AddDate(0, 0, -16)},
			{"name": "Busy Co", "owner_user_id": "mail-ana"},
			{"name": "Foreign Co", "owner_user_id": "mail-stranger", "started_at": time.Now().AddDate(0, 0, -16)},
			{"name": "Ancient Co", "owner_user_id": "mail-ana", "started_at": time.Now().AddDate(-3, 0, 0)},
		} {
			b, _ := json.Marshal(c)
			if r := ana.do(http.MethodPost, "/v1/customers", b); r.Status != http.StatusCreated {
				t.Fatalf("customer: %d %s", r.Status, r.Body)
			}
		}
		for i := range 2 { // the second pass finds nothing new
			id := runMaintenance(t, s, groundwork.WorkflowStalledCustomers)
			if i == 0 {
				replayAndRecord(t, s.App.Temporal, id, "stalled_customers.json")
			}
		}
		// Quiet Co and Foreign Co (a workspace customer, whatever its owner
		// field says) are news to the workspace's endpoint; Ancient Co is not.
		testenv.Eventually(t, 60*time.Second, "customer.stalled delivered", func() bool { u, _ := rcv.count(); return u >= 2 })
		var stalledMails int
		testenv.Eventually(t, 60*time.Second, "the stalled e-mail", func() bool {
			stalledMails = 0
			for _, m := range mailbox(mail, "ana@example.com") {
				if m.Subject == "A customer of yours has gone quiet" && strings.Contains(m.Text, "Quiet Co") {
					stalledMails++
				}
			}
			return stalledMails > 0
		})
		if u, total := rcv.count(); u != 2 || total != 2 || stalledMails != 1 {
			t.Errorf("stalled: %d events (%d deliveries), %d e-mails", u, total, stalledMails)
		}
		rcv.mu.Lock()
		var names []string
		for _, m := range rcv.raw {
			var ev struct {
				Data struct {
					Name string `json:"name"`
				} `json:"data"`
			}
			_ = json.Unmarshal([]byte(m.Body), &ev)
			names = append(names, ev.Data.Name)
		}
		rcv.mu.Unlock()
		sort.Strings(names)
		if strings.Join(names, ",") != "Foreign Co,Quiet Co" {
			t.Errorf("customer.stalled for %v", names)
		}
		y, w := time.Now().UTC().AddDate(0, 0, -1).ISOWeek()
		runMaintenance(t, s, groundwork.WorkflowEmailDigest, groundwork.DigestInput{Kind: groundwork.DigestWeekly})
		m := waitMail(t, mail, messageID("mail-ana", fmt.Sprintf("digest:weekly:mail-ws:%d-W%02d", y, w)))
		// Ancient Co is stalled too, though too long ago to be news.
		if !strings.Contains(m.Subject, "2 stalled") || !strings.Contains(m.Text, "Quiet Co (onboarding)") || !strings.Contains(m.Text, "STALLED") ||
			!strings.Contains(m.HTML, "Busy Co") {
			t.Errorf("weekly digest: %q\n%s", m.Subject, m.Text)
		}
		// The stranger got only their confirmation: no stall, no digest.
		if n := len(mailbox(mail, "stranger@example.com")); n != 1 {
			t.Errorf("the stranger got %d e-mails", n)
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
