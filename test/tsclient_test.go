package test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/groundwork-dev/groundwork/internal/testkit/testenv"
)

// TestTSClient runs the TypeScript client's own tests (clients/typescript,
// node's test runner) against the shared stack: it compiles the client
// with tsc, then streams and polls real runs, checks 304s, problems, paging
// and cancel through it. make test-deps installs its npm dependencies.
func TestTSClient(t *testing.T) {
	s := sharedStack(t)
	dir := filepath.Join(testenv.RepoRoot(), "clients", "typescript")
	for _, dep := range []string{"openapi-fetch", "typescript"} {
		if _, err := os.Stat(filepath.Join(dir, "node_modules", dep)); err != nil {
			t.Fatalf("the TypeScript client's dependencies are not installed: run make test-deps (npm ci in %s)", dir)
		}
	}
	user := s.newUser(t, "ts-user")
	other := s.newUser(t, "ts-other-user")

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "npm", "test", "--silent")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"GROUNDWORK_API_URL="+s.URL,
		"GROUNDWORK_TOKEN="+user.token,
		"GROUNDWORK_OTHER_TOKEN="+other.token,
		"NO_COLOR=1", "FORCE_COLOR=0",
	)
	// On a timeout npm is killed; WaitDelay stops waiting for the output
	// pipes its children (tsc, node --test) may still hold.
	cmd.WaitDelay = 5 * time.Second
	start := time.Now()
	out, err := cmd.CombinedOutput()
	t.Logf("npm test in clients/typescript (%s):\n%s", time.Since(start).Round(time.Millisecond), out)
	if err != nil {
		t.Fatalf("npm test: %v", err)
	}
}
