package main

import (
	"context"
	"errors"
)

// runsCmd is the client for /v1/runs.
func runsCmd(ctx context.Context, args []string) error {
	_ = ctx
	_ = args
	return errors.New("runs: not implemented yet")
}
