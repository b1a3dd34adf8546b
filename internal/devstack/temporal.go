package devstack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"go.temporal.io/sdk/client"
)

// TemporalArgs are the dev-server flags Groundwork relies on: WAL SQLite
// (default pragmas halve workflow starts per second here), eager workflow
// start, and the search attributes of DESIGN.md.
func TemporalArgs() []string {
	return []string{
		"--sqlite-pragma", "journal_mode=wal",
		"--sqlite-pragma", "synchronous=normal",
		"--dynamic-config-value", "system.enableEagerWorkflowStart=true",
		"--search-attribute", "GroundworkOwner=Keyword",
		"--search-attribute", "GroundworkKind=Keyword",
	}
}

// TemporalOptions configures a dev server.
type TemporalOptions struct {
	// CLI is the path of the temporal binary (bin/temporal).
	CLI string
	// DBFile persists state; empty keeps it in memory.
	DBFile string
	Port   int
	UIPort int
	// Log receives the server's output.
	Log io.Writer
}

// Temporal is a dev server this process started.
type Temporal struct {
	Address string
	UIURL   string
	cmd     *exec.Cmd
	done    chan error
}

// StartTemporal starts `temporal server start-dev` and waits until its
// frontend answers health checks.
func StartTemporal(ctx context.Context, o TemporalOptions) (*Temporal, error) {
	if _, err := os.Stat(o.CLI); err != nil {
		return nil, fmt.Errorf("temporal CLI not found at %s: run `make tools`", o.CLI)
	}
	args := []string{"server", "start-dev", "--ip", "127.0.0.1", "--port", fmt.Sprint(o.Port),
		"--ui-port", fmt.Sprint(o.UIPort), "--log-level", "warn", "--namespace", "default"}
	if o.DBFile != "" {
		if err := os.MkdirAll(filepath.Dir(o.DBFile), 0o750); err != nil {
			return nil, err
		}
		args = append(args, "--db-filename", o.DBFile)
	}
	args = append(args, TemporalArgs()...)
	cmd := exec.Command(o.CLI, args...)
	cmd.Stdout, cmd.Stderr = o.Log, o.Log
	// Die with us even if we are killed without a chance to clean up.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start temporal: %w", err)
	}
	t := &Temporal{
		Address: fmt.Sprintf("127.0.0.1:%d", o.Port),
		UIURL:   fmt.Sprintf("http://localhost:%d", o.UIPort),
		cmd:     cmd,
		done:    make(chan error, 1),
	}
	go func() { t.done <- cmd.Wait() }()
	if err := t.waitReady(ctx); err != nil {
		_ = t.Stop()
		return nil, err
	}
	return t, nil
}

func (t *Temporal) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	for {
		select {
		case err := <-t.done:
			t.done <- err
			return fmt.Errorf("temporal dev server exited: %v", err)
		default:
		}
		if conn, err := net.DialTimeout("tcp", t.Address, time.Second); err == nil {
			_ = conn.Close()
			c, err := client.Dial(client.Options{HostPort: t.Address})
			if err == nil {
				_, herr := c.CheckHealth(ctx, &client.CheckHealthRequest{})
				c.Close()
				if herr == nil {
					return nil
				}
			}
		}
		select {
		case <-ctx.Done():
			return errors.New("temporal dev server did not become ready within 60s")
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Stop interrupts the server and waits for it to exit.
func (t *Temporal) Stop() error {
	if t.cmd.Process == nil {
		return nil
	}
	_ = t.cmd.Process.Signal(os.Interrupt)
	select {
	case <-t.done:
	case <-time.After(15 * time.Second):
		_ = t.cmd.Process.Kill()
		<-t.done
	}
	return nil
}
