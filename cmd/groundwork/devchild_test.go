package main

import (
	"strings"
	"testing"

	"github.com/groundwork-dev/groundwork/internal/config"
)

// A process not started by `groundwork dev-cluster` (here: by go test)
// refuses --dev-cluster-child rather than take the dev role; without the
// flag it gets its own role only.
func TestServeRoleDevClusterChild(t *testing.T) {
	if _, err := serveRole("api", config.RoleAPI, []string{"--" + devClusterFlag}); err == nil || !strings.Contains(err.Error(), "only `groundwork dev-cluster`") {
		t.Fatalf("--%s outside dev-cluster: got %v, want a refusal", devClusterFlag, err)
	}
	role, err := serveRole("worker", config.RoleWorker, nil)
	if err != nil || role != config.RoleWorker {
		t.Fatalf("no flag: role %v, err %v; want RoleWorker", role, err)
	}
	if _, err := serveRole("api", config.RoleAPI, []string{"extra"}); err == nil {
		t.Fatal("an unexpected argument was accepted")
	}
}
