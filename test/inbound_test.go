package test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/groundwork-dev/groundwork"
	"github.com/groundwork-dev/groundwork/internal/stdwebhook"
	"github.com/groundwork-dev/groundwork/internal/testkit/testenv"
)

// hookSender posts messages to a source as a sender would.
type hookSender struct {
	t   *testing.T
	url string
}

func (h hookSender) send(id string, body []byte, key []byte, at time.Time, extra ...string) int {
	req, _ := http.NewRequest(http.MethodPost, h.url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if key != nil {
		stdwebhook.Sign(req.Header, key, id, at, body)
	}
	for i := 0; i+1 < len(extra); i += 2 {
		req.Header.Set(extra[i], extra[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Errorf("post %s: %v", id, err)
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

func createSource(t *testing.T, c *apiClient, spec string) (id, url, secret string) {
	t.Helper()
	r := c.do(http.MethodPost, "/v1/webhook-sources", []byte(spec))
	if r.Status != http.StatusCreated {
		t.Fatalf("create source: %d %s", r.Status, r.Body)
	}
	var src struct{ ID, URL, Secret string }
	r.json(t, &src)
	return src.ID, src.URL, src.Secret
}

// TestInboundWebhooksActOnceOnValidMessages sends 1,000 messages, 10 %
// of them re-delivered, 5 % with a bad signature and 5 % stale, rotating
// the secret halfway and signing with both: exactly the valid unique ones
// are taken, and each tracks its event once.
func TestInboundWebhooksActOnceOnValidMessages(t *testing.T) {
	s := sharedStack(t)
	c := s.client(t, "in-admin", "in-ws", "admin")
	cu := c.createCustomer(map[string]any{"name": "Hooked"})
	id, url, secret := createSource(t, c, `{"name": "Make: activity", "action": {"type": "track"}, "scenario_header": "X-Make-Execution-Id"}`)
	if !strings.HasSuffix(url, "/hooks/"+id) || !strings.HasPrefix(secret, "whsec_") {
		t.Fatalf("source %s at %s with %q", id, url, secret)
	}
	oldKey, _ := stdwebhook.Key(secret)
	wrongKey, _ := stdwebhook.Key(stdwebhook.NewSecret())
	send := hookSender{t: t, url: url}

	const total = 1000
	var mu sync.Mutex
	var newKey []byte
	valid := map[string]bool{}
	refused, duplicates := 0, 0
	var wg sync.WaitGroup
	jobs := make(chan int)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				msgID := fmt.Sprintf("msg_in_%04d", i)
				body := []byte(fmt.Sprintf(`{"events": [{"id": "in-%d", "customer_id": %q, "type": "login", "occurred_at": %q}]}`,
					i, cu.ID, time.Now().UTC().Format(time.RFC3339)))
				key, at, want := oldKey, time.Now(), http.StatusAccepted
				mu.Lock()
				if newKey != nil && i%2 == 0 {
					key = newKey
				}
				mu.Unlock()
				switch {
				case i%20 == 3:
					key, want = wrongKey, http.StatusUnauthorized
				case i%20 == 7:
					at, want = at.Add(-10*time.Minute), http.StatusUnauthorized
				}
				got := send.send(msgID, body, key, at, "X-Make-Execution-Id", fmt.Sprint("exec-", i))
				if got != want {
					t.Errorf("message %d: %d, want %d", i, got, want)
				}
				mu.Lock()
				if want == http.StatusAccepted {
					valid[msgID] = true
				} else {
					refused++
				}
				mu.Unlock()
				if i%10 == 5 && want == http.StatusAccepted { // re-delivered
					if got := send.send(msgID, body, key, time.Now()); got != http.StatusAccepted {
						t.Errorf("re-delivery of %d: %d", i, got)
					}
					mu.Lock()
					duplicates++
					mu.Unlock()
				}
			}
		}()
	}
	for i := range total {
		if i == total/2 {
			// Rotate mid-stream: both secrets are live for the grace period.
			r := c.do(http.MethodPost, "/v1/webhook-sources/"+id+"/rotate-secret", []byte(`{}`))
			var rot struct{ Secret string }
			r.json(t, &rot)
			k, err := stdwebhook.Key(rot.Secret)
			if r.Status != http.StatusOK || err != nil || rot.Secret == secret {
				t.Fatalf("rotate: %d %s", r.Status, r.Body)
			}
			mu.Lock()
			newKey = k
			mu.Unlock()
		}
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	if refused != total/10 || duplicates == 0 {
		t.Fatalf("%d refused, %d duplicates", refused, duplicates)
	}

	ctx := context.Background()
	var inbox, done, events int
	testenv.Eventually(t, 3*time.Minute, "every taken message acted on", func() bool {
		_ = s.App.Pool.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE status = 'done') FROM webhook_inbox WHERE source_id = $1`, id).Scan(&inbox, &done)
		return done == len(valid)
	})
	_ = s.App.Pool.QueryRow(ctx, `SELECT count(*) FROM events WHERE customer_id = $1`, cu.ID).Scan(&events)
	if inbox != len(valid) || events != len(valid) {
		t.Errorf("%d messages stored, %d events tracked; want %d of each", inbox, events, len(valid))
	}
	var msgs struct {
		Messages []struct{ WebhookID, Status, Scenario string } `json:"messages"`
	}
	c.do(http.MethodGet, "/v1/webhook-sources/"+id+"/messages?limit=5", nil).json(t, &msgs)
	if len(msgs.Messages) != 5 || !strings.HasPrefix(msgs.Messages[0].Scenario, "exec-") || msgs.Messages[0].Status != "done" {
		t.Errorf("messages: %+v", msgs.Messages)
	}

	if got := (hookSender{t: t, url: s.URL + "/hooks/src_nope"}).send("x", []byte(`{}`), oldKey, time.Now()); got != http.StatusNotFound {
		t.Errorf("unknown source: %d", got)
	}
	if got := send.send("big", bytes.Repeat([]byte("x"), groundwork.MaxWebhookBody+1), oldKey, time.Now()); got != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized body: %d", got)
	}
}

// TestInboundWebhookStartsARunOnce: a token source whose action is an
// export starts one run per message, under an ID the message decides, so
// a re-delivery after the run started starts nothing.
func TestInboundWebhookStartsARunOnce(t *testing.T) {
	s := sharedStack(t)
	c := s.client(t, "inrun-admin", "inrun-ws", "admin")
	id, url, token := createSource(t, c, `{"name": "Make: export", "mode": "token",
		"action": {"type": "export", "static": {"format": "csv", "columns": ["name"]}, "map": {"rows": "data.rows"}}}`)
	send := hookSender{t: t, url: url}
	body := []byte(`{"data": {"rows": [["Ada"], ["Grace"]]}}`)
	if got := send.send("", body, nil, time.Now(), groundwork.TokenHeader, "whtok_wrong", "webhook-id", "run-1"); got != http.StatusUnauthorized {
		t.Errorf("wrong token: %d", got)
	}
	for range 3 {
		if got := send.send("", body, nil, time.Now(), groundwork.TokenHeader, token, "webhook-id", "run-1"); got != http.StatusAccepted {
			t.Fatalf("token message: %d", got)
		}
	}
	var runID string
	testenv.Eventually(t, time.Minute, "the message's run recorded", func() bool {
		_ = s.App.Pool.QueryRow(context.Background(), `SELECT coalesce(run_id, '') FROM webhook_inbox WHERE source_id = $1`, id).Scan(&runID)
		return runID != ""
	})
	if done := c.waitRun(runID); done.Status != "succeeded" || done.Result["format"] != "csv" {
		t.Fatalf("the run: %+v", done)
	}
	var runs int
	_ = s.App.Pool.QueryRow(context.Background(), `SELECT count(*) FROM runs WHERE owner_id = 'inrun-admin'`).Scan(&runs)
	if runs != 1 {
		t.Errorf("%d runs started for one message", runs)
	}
}
