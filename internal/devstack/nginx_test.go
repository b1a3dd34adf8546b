package devstack

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// A POST that an API process drops without answering (as one SIGKILLed
// mid-request does) is sent to the other API when it carries an
// Idempotency-Key, body and all, and answered nginx's 502 when it does not.
// Real nginx with the generated configuration; skipped without nginx.
func TestNginxRetriesKeyedPostOnDroppedConnection(t *testing.T) {
	bin, err := FindNginx()
	if err != nil {
		t.Skip(err)
	}
	var deadHits atomic.Int64
	// dead reads the request, then closes the connection without a word.
	dead := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		deadHits.Add(1)
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			_ = conn.Close()
		}
	}))
	defer dead.Close()
	// live echoes the body and the key.
	live := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Key", r.Header.Get("Idempotency-Key"))
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write(b)
	}))
	defer live.Close()

	port, err := FreePort()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	n := &Nginx{Bin: bin, Prefix: filepath.Join(dir, "nginx"), Conf: filepath.Join(dir, "nginx.conf")}
	listen := net.JoinHostPort("127.0.0.1", itoa(port))
	cfg := NginxConfig{Listen: listen, MaxFails: 1, FailTimeout: time.Second, Upstreams: []NginxUpstream{
		{Addr: strings.TrimPrefix(dead.URL, "http://")}, {Addr: strings.TrimPrefix(live.URL, "http://")}}}
	ctx := context.Background()
	if err := n.WriteConfig(ctx, cfg, true); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, n.Args()...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	base := "http://" + listen
	waitFor(t, 10*time.Second, "nginx to listen", func() bool {
		c, err := net.Dial("tcp", listen)
		if err == nil {
			_ = c.Close()
		}
		return err == nil
	})

	post := func(key, body string) (int, string, string) {
		req, _ := http.NewRequest(http.MethodPost, base+"/v1/exports", strings.NewReader(body))
		if key != "" {
			req.Header.Set("Idempotency-Key", key)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("POST through nginx: %v", err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), resp.Header.Get("X-Key")
	}

	// With a key: every POST is answered by live, including those the dead
	// process took first.
	waitFor(t, 10*time.Second, "a keyed POST to reach the dead upstream", func() bool {
		body := `{"format":"csv","n":` + itoa(int(deadHits.Load())) + `}`
		status, got, key := post("k-1", body)
		if status != http.StatusCreated || got != body || key != "k-1" {
			t.Fatalf("keyed POST: %d %q key %q; want 201 with the body and key sent", status, got, key)
		}
		return deadHits.Load() > 0
	})

	// Without a key: the one the dead process took is nginx's 502.
	waitFor(t, 10*time.Second, "an unkeyed POST to get nginx's 502", func() bool {
		before := deadHits.Load()
		status, _, _ := post("", `{}`)
		switch {
		case status == http.StatusBadGateway && deadHits.Load() > before:
			return true
		case status != http.StatusCreated:
			t.Fatalf("unkeyed POST: %d; want 201 from live or 502 from the dead one", status)
		}
		return false
	})
}

// waitFor polls cond every 20 ms until it holds, failing after timeout.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }
