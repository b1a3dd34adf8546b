package devstack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// MailpitOptions configures a local mail catcher.
type MailpitOptions struct {
	// Binary is the path of mailpit (bin/mailpit, built by `make tools`).
	Binary string
	// DBFile keeps the caught mail across restarts.
	DBFile           string
	SMTPPort, UIPort int
	Log              io.Writer
}

// Mailpit is a mail catcher this process started: every e-mail sent to
// its SMTP port is kept and shown, none is delivered.
type Mailpit struct {
	// SMTPURL is the GROUNDWORK_SMTP_URL that reaches it.
	SMTPURL string
	// UIURL is its web UI and API.
	UIURL string
	cmd   *exec.Cmd
	done  chan error
}

// StartMailpit starts mailpit and waits until its SMTP port accepts.
func StartMailpit(ctx context.Context, o MailpitOptions) (*Mailpit, error) {
	if _, err := os.Stat(o.Binary); err != nil {
		return nil, fmt.Errorf("mailpit not found at %s: run `make tools`", o.Binary)
	}
	smtpAddr := fmt.Sprintf("127.0.0.1:%d", o.SMTPPort)
	cmd := exec.Command(o.Binary, "--smtp", smtpAddr, "--listen", fmt.Sprintf("127.0.0.1:%d", o.UIPort),
		"--database", o.DBFile, "--smtp-auth-allow-insecure", "--smtp-auth-accept-any",
		// Nothing here phones home.
		"--disable-version-check", "--max", "2000")
	cmd.Stdout, cmd.Stderr = o.Log, o.Log
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start mailpit: %w", err)
	}
	m := &Mailpit{SMTPURL: "smtp://" + smtpAddr + "?tls=none", UIURL: fmt.Sprintf("http://localhost:%d", o.UIPort), cmd: cmd, done: make(chan error, 1)}
	go func() { m.done <- cmd.Wait() }()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		select {
		case err := <-m.done:
			return nil, fmt.Errorf("mailpit exited: %v (is port %d or %d taken?)", err, o.SMTPPort, o.UIPort)
		default:
		}
		if c, err := net.DialTimeout("tcp", smtpAddr, time.Second); err == nil {
			_ = c.Close()
			return m, nil
		}
		select {
		case <-ctx.Done():
			_ = m.Stop()
			return nil, errors.New("mailpit did not accept SMTP within 30s")
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Stop interrupts mailpit and waits for it to exit.
func (m *Mailpit) Stop() error {
	_ = m.cmd.Process.Signal(os.Interrupt)
	select {
	case <-m.done:
	case <-time.After(10 * time.Second):
		_ = m.cmd.Process.Kill()
		<-m.done
	}
	return nil
}
