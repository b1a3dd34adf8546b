package test

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/groundwork-dev/groundwork"
	"github.com/groundwork-dev/groundwork/internal/config"
	"github.com/groundwork-dev/groundwork/internal/notify"
	"github.com/groundwork-dev/groundwork/internal/testkit/smtpfake"
	"github.com/groundwork-dev/groundwork/internal/testkit/testenv"
	"github.com/groundwork-dev/groundwork/worker"
)

// TestOutboxSurvivesAWorkerKilled runs the runs, webhook deliveries and
// e-mails of 20 exports on a worker process, a slow endpoint and a slow
// mail server keeping deliveries and sends in flight, kills the process
// with SIGKILL, and lets a new worker finish: every message arrives under
// its one webhook-id and every e-mail under its one Message-ID. An
// attempt cut short by the kill may be repeated with the same ID, which
// receivers deduplicate by; a new ID would be a duplicate they cannot see.
func TestOutboxSurvivesAWorkerKilled(t *testing.T) {
	testenv.SkipShort(t, "Postgres, Temporal and a worker process")
	mail := smtpfake.Start(t)
	mail.Slow(time.Second)
	smtp, err := notify.ParseSMTP(mail.URL(), config.DefaultMailFrom)
	if err != nil {
		t.Fatal(err)
	}
	rcv := newReceiver(t, false)
	rcv.delay.Store(int64(300 * time.Millisecond))

	dev := testenv.StartTemporal(t)
	dbURL := testenv.DatabaseURL(t)
	key := make([]byte, 32)
	copy(key, "outbox-kill-test-encryption-key!")
	s := startStack(t, stackOptions{temporalHostPort: dev.FrontendHostPort(), databaseURL: dbURL, workers: "none",
		ratePerSec: 10000, ratePerMin: 1000000, research: testResearch(), smtp: &smtp,
		airtable: config.Airtable{EncryptionKey: key}}, true)
	admin := s.client(t, "kill-admin", "kill-ws", "admin")
	// 4 deliveries a second: the 40 messages take ten seconds, so the kill
	// lands while some are still to go, whatever the machine's speed.
	b, _ := json.Marshal(map[string]any{"url": rcv.srv.URL + "/hook", "event_types": []string{"run.succeeded", "export.ready"}, "rate_per_second": 4})
	var ep struct {
		ID     string `json:"id"`
		Secret string `json:"secret"`
	}
	admin.do(http.MethodPost, "/v1/webhook-endpoints", b).json(t, &ep)
	rcv.addSecret(t, ep.Secret)
	b, _ = json.Marshal(map[string]any{"email": "admin@example.com", "events": []string{"run.succeeded"}})
	if r := admin.do(http.MethodPut, "/v1/notification-preferences", b); r.Status != http.StatusOK {
		t.Fatalf("preferences: %d %s", r.Status, r.Body)
	}

	// The worker process: `groundwork dev` is the one role that may let
	// deliveries reach loopback; its API is not used. Its links are signed
	// with the API's key, so they work on the API.
	proc := startDevProcess(t, dev.FrontendHostPort(), dbURL, "GROUNDWORK_RESEARCH_ALLOW_CIDRS=127.0.0.1/32",
		"GROUNDWORK_ENCRYPTION_KEY="+hex.EncodeToString(key), "GROUNDWORK_SMTP_URL="+mail.URL(),
		"GROUNDWORK_SIGNING_KEY="+hex.EncodeToString(s.App.Cfg.SigningKey), "GROUNDWORK_PUBLIC_URL="+s.URL)
	confirmAddress(t, s, mail, admin, "admin@example.com")
	const runs = 20
	ids := make([]string, runs)
	for i := range runs {
		r, resp := admin.startExport(map[string]any{"format": "csv", "columns": []string{"n"}, "rows": [][]any{{i}}})
		if resp.Status != http.StatusAccepted {
			t.Fatalf("export: %d %s", resp.Status, resp.Body)
		}
		ids[i] = r.ID
	}
	// Kill while an e-mail session is held by the slow server (1 s each)
	// and messages are still to be delivered (4 a second).
	testenv.Eventually(t, 2*time.Minute, "deliveries and sends under way on the worker process", func() bool {
		u, _ := rcv.count()
		return u >= 2 && u < 2*runs && len(mail.Messages()) < runs+1 && mail.Holding() > 0
	})
	if err := proc.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = proc.Wait()
	killedDeliveries, _ := rcv.count()
	killedMails := len(mail.Messages()) - 1 // the confirmation
	if killedDeliveries >= 2*runs || killedMails >= runs {
		t.Fatalf("everything arrived before the kill (%d deliveries, %d e-mails): nothing was in flight", killedDeliveries, killedMails)
	}

	// A new worker takes over the queues and the outbox.
	deps := s.App.WorkerDeps()
	ws, err := worker.New(deps)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range ws {
		if err := w.Start(); err != nil {
			t.Fatal(err)
		}
		defer w.Stop()
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	deps.WebhookDispatchEvery = 50 * time.Millisecond
	go worker.DispatchOutbox(ctx, deps)

	for _, id := range ids {
		if r := admin.waitRun(id); r.Status != "succeeded" {
			t.Fatalf("run %s: %+v", id, r)
		}
	}
	testenv.Eventually(t, 2*time.Minute, "every message delivered", func() bool { u, _ := rcv.count(); return u == 2*runs })
	want := map[string]bool{}
	for _, id := range ids {
		want[smtp.MessageID(groundwork.EmailID("kill-admin", "run:"+id))] = true
	}
	testenv.Eventually(t, 2*time.Minute, "every e-mail sent", func() bool {
		seen := map[string]bool{}
		for _, m := range mail.Messages() {
			if want[m.MessageID] {
				seen[m.MessageID] = true
			}
		}
		return len(seen) == runs
	})

	// Every delivery carried one of the outbox's webhook-ids, and every
	// e-mail one of the expected Message-IDs.
	rows, err := s.App.Pool.Query(context.Background(), `SELECT id FROM webhook_messages WHERE endpoint_id = $1`, ep.ID)
	if err != nil {
		t.Fatal(err)
	}
	outbox := map[string]bool{}
	for rows.Next() {
		var id string
		_ = rows.Scan(&id)
		outbox[id] = true
	}
	rows.Close()
	unique, total := rcv.count()
	rcv.mu.Lock()
	for id := range rcv.got {
		if !outbox[id] {
			t.Errorf("a delivery with webhook-id %s, which is no outbox message", id)
		}
	}
	bad := rcv.bad
	rcv.mu.Unlock()
	if len(outbox) != 2*runs || unique != 2*runs || bad != 0 {
		t.Errorf("outbox %d messages, %d delivered, %d bad signatures", len(outbox), unique, bad)
	}
	perID := map[string]int{}
	for _, m := range mail.Messages() {
		if m.Subject == "Confirm your address for Groundwork e-mails" {
			continue
		}
		if !want[m.MessageID] {
			t.Errorf("an e-mail with Message-ID %s, not one of the runs'", m.MessageID)
		}
		perID[m.MessageID]++
	}
	repeats := 0
	for _, n := range perID {
		repeats += n - 1
	}
	// The one repeat an SMTP sender cannot rule out: the server committed
	// a message and the worker died before it read the 250. The server is
	// slow before the message, not after, so the window is microseconds.
	if repeats > 1 {
		t.Errorf("%d e-mails repeated", repeats)
	}
	t.Logf("killed after %d deliveries and %d e-mails; %d deliveries repeated with their webhook-id, %d e-mails with their Message-ID",
		killedDeliveries, killedMails, total-unique, repeats)
}
