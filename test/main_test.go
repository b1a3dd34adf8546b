// Package test holds Groundwork's end-to-end tests: a real Postgres, a real
// Temporal dev server, the API and worker in-process, driven over HTTP as
// the frontend would.
package test

import (
	"os"
	"testing"

	"github.com/groundwork-dev/groundwork/internal/testkit/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m, stopPackageStacks)) }
