package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/groundwork-dev/groundwork/bench/internal/benchstack"
)

// startStack returns what the tool attacks: with --api, an existing API
// whose dependencies are only addressed (stop leaves it alone, restartAPI
// refuses it); otherwise Postgres, the Temporal dev server and
// `groundwork dev` started in a temp dir.
func startStack(ctx context.Context, o options) (*benchstack.Stack, error) {
	if o.apiURL != "" {
		return &benchstack.Stack{
			APIURL:          strings.TrimRight(o.apiURL, "/"),
			DatabaseURL:     o.databaseURL,
			TemporalAddress: o.temporalAddr,
			Namespace:       o.namespace,
		}, nil
	}
	return benchstack.Start(ctx, benchstack.Options{
		TempPrefix:     "groundwork-bench-",
		Groundwork:     o.groundwork,
		Keep:           o.keep,
		PGFast:         o.pgFast,
		TemporalMemory: o.temporalDB == "memory",
		ServerEnv:      o.serverEnv,
		Logf:           logf,
	})
}

// describe records what was measured, for the report.
func describe(st *benchstack.Stack, o options) StackInfo {
	if st.Dir == "" {
		return StackInfo{Mode: "existing API", APIURL: st.APIURL}
	}
	return StackInfo{Mode: "own stack", APIURL: st.APIURL, PGFast: o.pgFast, TemporalDB: o.temporalDB, ServerEnv: o.serverEnv}
}

// logf reports progress on stderr, keeping stdout for the results.
func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "load: "+format+"\n", args...)
}
