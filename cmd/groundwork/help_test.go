package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestHelpNeedsNoConfiguration runs the built binary as a newcomer would,
// with no configuration at all: every subcommand's --help answers with
// text and exit 0, --version names the build, and a mistake exits 2.
func TestHelpNeedsNoConfiguration(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "groundwork")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	// Only what finding programs needs: no DATABASE_URL, no TEMPORAL_ADDRESS,
	// no GROUNDWORK_*.
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	groundwork := func(args ...string) (string, int) {
		t.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Env = env
		cmd.Dir = t.TempDir()
		out, err := cmd.CombinedOutput()
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return string(out), exit.ExitCode()
		}
		if err != nil {
			t.Fatalf("groundwork %s: %v", strings.Join(args, " "), err)
		}
		return string(out), 0
	}

	for _, args := range [][]string{
		{"--help"}, {"help"}, {"-h"},
		{"api", "--help"}, {"worker", "--help"}, {"migrate", "--help"},
		{"dev", "--help"}, {"dev-cluster", "--help"},
		{"apikey", "--help"}, {"apikey", "create", "--help"},
		{"airtable", "--help"},
		{"runs", "--help"}, {"runs", "list", "--help"}, {"runs", "get", "--help"},
		{"runs", "wait", "--help"}, {"runs", "cancel", "--help"},
		{"healthcheck", "--help"},
	} {
		out, code := groundwork(args...)
		if code != 0 || strings.TrimSpace(out) == "" {
			t.Errorf("groundwork %s: exit %d, output %q; want help and exit 0", strings.Join(args, " "), code, out)
		}
	}
	for _, args := range [][]string{{"--version"}, {"version"}} {
		if out, code := groundwork(args...); code != 0 || !strings.HasPrefix(out, "groundwork ") {
			t.Errorf("groundwork %s: exit %d, %q", args[0], code, out)
		}
	}
	// Usage mistakes exit 2 with the usage; errors of a command exit 1.
	if out, code := groundwork("no-such-command"); code != 2 || !strings.Contains(out, `unknown command "no-such-command"`) || !strings.Contains(out, "Usage:") {
		t.Errorf("an unknown command: exit %d, %q", code, out)
	}
	for _, args := range [][]string{{}, {"apikey"}, {"apikey", "rotate"}, {"airtable"}, {"apikey", "create", "--no-such-flag"}, {"dev", "--no-such-flag"},
		{"runs"}, {"runs", "get"}, {"runs", "frobnicate"}, {"runs", "list", "--no-such-flag"}, {"runs", "list", "extra"},
		{"api", "--no-such-flag"}, {"worker", "extra"}, {"dev-cluster", "--no-such-flag"}} {
		if out, code := groundwork(args...); code != 2 || !strings.Contains(strings.ToLower(out), "usage") {
			t.Errorf("groundwork %s: exit %d, %q; want the usage and exit 2", strings.Join(args, " "), code, out)
		}
	}
	if out, code := groundwork("migrate"); code != 1 || !strings.Contains(out, "DATABASE_URL") {
		t.Errorf("migrate without DATABASE_URL: exit %d, %q; want 1 naming DATABASE_URL", code, out)
	}
}
