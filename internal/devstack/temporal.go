package devstack

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"
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

// TemporalCommand returns the `temporal server start-dev` arguments for o
// (creating the directory of its DB file): StartTemporal runs them once,
// `groundwork dev-cluster` under its supervisor, which starts the server
// again on the same ports and DB file when it exits, so the workflows it
// held carry on after a restart.
func TemporalCommand(o TemporalOptions) ([]string, error) {
	if _, err := os.Stat(o.CLI); err != nil {
		return nil, fmt.Errorf("temporal CLI not found at %s: run `make tools`", o.CLI)
	}
	args := []string{"server", "start-dev", "--ip", "127.0.0.1", "--port", fmt.Sprint(o.Port),
		"--ui-port", fmt.Sprint(o.UIPort), "--log-level", "warn", "--namespace", "default"}
	if o.DBFile != "" {
		if err := os.MkdirAll(filepath.Dir(o.DBFile), 0o750); err != nil {
			return nil, fmt.Errorf("create the directory of the temporal DB file: %w", err)
		}
		args = append(args, "--db-filename", o.DBFile)
	}
	return append(args, TemporalArgs()...), nil
}

// StartTemporal starts `temporal server start-dev` and waits until its
// frontend answers health checks.
func StartTemporal(ctx context.Context, o TemporalOptions) (*Temporal, error) {
	args, err := TemporalCommand(o)
	if err != nil {
		return nil, err
	}
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
	exited := func() error {
		select {
		case err := <-t.done:
			t.done <- err
			return fmt.Errorf("temporal dev server exited: %v", err)
		default:
			return nil
		}
	}
	if err := WaitTemporal(ctx, t.Address, 60*time.Second, exited); err != nil {
		_ = t.Stop()
		return nil, err
	}
	return t, nil
}

// WaitTemporal polls the frontend at address until it answers a health
// check, for at most timeout. exited, when not nil, is asked between polls
// and ends the wait with its error (the server died while starting).
func WaitTemporal(ctx context.Context, address string, timeout time.Duration, exited func() error) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		if exited != nil {
			if err := exited(); err != nil {
				return err
			}
		}
		if TemporalHealthy(ctx, address) == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("temporal dev server at %s did not become ready within %v", address, timeout)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// discardLogger keeps the SDK from announcing, at every poll, that it made
// a default logger.
var discardLogger = tlog.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))

// TemporalHealthy checks once that the frontend at address accepts a
// connection and answers its health check.
func TemporalHealthy(ctx context.Context, address string) error {
	conn, err := net.DialTimeout("tcp", address, time.Second)
	if err != nil {
		return fmt.Errorf("temporal at %s: %w", address, err)
	}
	_ = conn.Close()
	c, err := client.Dial(client.Options{HostPort: address, Logger: discardLogger})
	if err != nil {
		return fmt.Errorf("temporal at %s: %w", address, err)
	}
	defer c.Close()
	if _, err := c.CheckHealth(ctx, &client.CheckHealthRequest{}); err != nil {
		return fmt.Errorf("temporal at %s: health check: %w", address, err)
	}
	return nil
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
