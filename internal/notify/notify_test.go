package notify_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/groundwork-dev/groundwork"
	"github.com/groundwork-dev/groundwork/internal/notify"
	"github.com/groundwork-dev/groundwork/internal/testkit/smtpfake"
)

func samples() map[string]any {
	at := time.Date(2026, 12, 7, 9, 30, 0, 0, time.UTC)
	run := notify.Run{ID: "export-01J", Kind: "export", Status: "succeeded"}
	return map[string]any{
		groundwork.TemplateRunFinished: notify.Run{ID: "research-01J", Kind: "research", Status: "failed", Failed: true,
			ErrorType: "provider_unavailable", Error: "every provider failed <b>twice</b>"},
		groundwork.TemplateExportReady: notify.ExportReady{Run: run, Filename: "Q4 <pipeline>.pdf", Format: "pdf", SizeBytes: 123456,
			DownloadURL: "https://api.example.com/v1/exports/x/download?expires=1&signature=a", ExpiresAt: at},
		groundwork.TemplateResearchCompleted: notify.ResearchCompleted{Run: run, Company: "Acme", Domain: "acme.test", Pages: 12},
		groundwork.TemplateEndpointDisabled:  notify.EndpointDisabled{EndpointID: "whe_1", URL: "https://hook.eu1.make.com/abc", Reason: "the endpoint answered 410 Gone"},
		groundwork.TemplateCustomerStalled:   notify.CustomerStalled{CustomerID: "cus_1", Name: "Acme", LastActivity: at, Days: 15},
		groundwork.TemplateDailyDigest: notify.DailyDigest{Date: "7 Dec 2026", Items: []notify.DigestItem{
			{Subject: "Your export is ready: a.csv", Summary: "Export a.csv is ready", At: at}}},
		groundwork.TemplateConfirmAddress: notify.ConfirmAddress{Email: "ana@example.com", ConfirmURL: "https://api.example.com/notifications/confirm/u/a?x=1", Expires: at},
		groundwork.TemplateWeeklyDigest: notify.WeeklyDigest{Week: "2026-W50", Total: 2, Stalled: 1, Dropped: 1, Customers: []notify.CustomerLine{
			{Name: "Acme <Corp>", Stage: "onboarding", Engagement: 12, Trend: "falling", Events7d: 1, EventsPrior: 30, Stalled: true},
			{Name: "Globex", Stage: "active", Engagement: 80, Trend: "steady", Events7d: 50, EventsPrior: 48, LastActivity: &at}}},
	}
}

// Every template renders a subject on one line, a summary, and both
// bodies; HTML escapes what users wrote.
func TestRenderEveryTemplate(t *testing.T) {
	s := samples()
	for _, name := range notify.Templates {
		body, ok := s[name]
		if !ok {
			t.Fatalf("no sample for template %s", name)
		}
		m, err := notify.Render(name, notify.Envelope{UnsubscribeURL: "https://api.example.com/unsubscribe?user=u&signature=s", Body: body})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if m.Subject == "" || strings.ContainsAny(m.Subject, "\r\n") || m.Summary == "" || m.Text == "" || m.HTML == "" {
			t.Errorf("%s: incomplete message %+v", name, m)
		}
		// Subjects carry no text a user wrote: nobody can word a mail
		// Groundwork sends in their own terms.
		for _, userText := range []string{"pipeline", "Acme", "make.com", "<b>"} {
			if strings.Contains(m.Subject, userText) {
				t.Errorf("%s: subject %q carries user text", name, m.Subject)
			}
		}
		if !strings.Contains(m.Text, "Unsubscribe") || !strings.Contains(m.HTML, "unsubscribe?user=u&amp;signature=s") {
			t.Errorf("%s: no unsubscribe link:\n%s", name, m.HTML)
		}
		if strings.Contains(m.HTML, "<b>twice") || strings.Contains(m.HTML, "<pipeline>") || strings.Contains(m.HTML, "<Corp>") {
			t.Errorf("%s: user text not escaped in HTML", name)
		}
	}
}

func TestSendOverSMTP(t *testing.T) {
	srv := smtpfake.Start(t)
	cfg, err := notify.ParseSMTP(srv.URL(), "Groundwork <noreply@groundwork.example>")
	if err != nil {
		t.Fatal(err)
	}
	m, err := notify.Render(groundwork.TemplateExportReady, notify.Envelope{UnsubscribeURL: "https://api.example.com/unsubscribe?x=1", Body: samples()[groundwork.TemplateExportReady]})
	if err != nil {
		t.Fatal(err)
	}
	mail := notify.Mail{ID: "em_abc", To: "ana@example.com", Message: m, UnsubscribeURL: "https://api.example.com/unsubscribe?x=1", Date: time.Now()}
	if err := cfg.Send(context.Background(), mail); err != nil {
		t.Fatal(err)
	}
	got := srv.Messages()
	if len(got) != 1 {
		t.Fatalf("%d messages arrived", len(got))
	}
	g := got[0]
	if g.MessageID != "em_abc@groundwork.example" || g.To[0] != "ana@example.com" || g.Subject != m.Subject {
		t.Errorf("arrived %+v", g)
	}
	if g.Header.Get("List-Unsubscribe") != "<https://api.example.com/unsubscribe?x=1>" || g.Header.Get("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" {
		t.Errorf("unsubscribe headers %v", g.Header)
	}
	if !strings.Contains(g.Text, "Download it") || !strings.Contains(g.HTML, "Download</a>") || !strings.Contains(g.Text, "Q4 <pipeline>.pdf") {
		t.Errorf("bodies: text %q html %q", g.Text, g.HTML)
	}

	// A 451 is worth a retry; a 550 is not.
	srv.Refuse(func(smtpfake.Message) *smtpfake.Error { return smtpfake.TryLater })
	err = cfg.Send(context.Background(), mail)
	var perm *notify.PermanentError
	if err == nil || errors.As(err, &perm) {
		t.Errorf("451: %v", err)
	}
	srv.Refuse(func(smtpfake.Message) *smtpfake.Error { return smtpfake.NoSuchUser })
	if err := cfg.Send(context.Background(), mail); !errors.As(err, &perm) {
		t.Errorf("550: %v, want a PermanentError", err)
	}
}

func TestParseSMTP(t *testing.T) {
	for _, bad := range []string{"", "http://x", "smtp://", "smtps://h?tls=none", "smtp://h?tls=maybe"} {
		if _, err := notify.ParseSMTP(bad, "a@b.c"); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	s, err := notify.ParseSMTP("smtps://u:p%40ss@mail.example.com", "Groundwork <noreply@example.com>")
	if err != nil || s.Port != 465 || s.TLS != "implicit" || s.Password != "p@ss" {
		t.Errorf("smtps: %+v %v", s, err)
	}
	if _, err := notify.ParseSMTP("smtp://h", "not an address"); err == nil {
		t.Error("bad from accepted")
	}
}
