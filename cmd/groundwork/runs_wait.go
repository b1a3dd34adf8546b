package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/groundwork-dev/groundwork"
	"github.com/groundwork-dev/groundwork/client"
)

// wait follows a run to its end, drawing progress on errOut and the
// final run on out.
func (c *runsClient) wait(ctx context.Context, id string, asJSON bool) error {
	bar := &runBar{w: c.errOut}
	run, err := c.api.WaitRun(ctx, id, bar.update)
	bar.close()
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("wait for run %s: stopped waiting (%w); the run itself is not canceled", id, ctx.Err())
		}
		return err
	}
	if err := c.printRun(run, asJSON); err != nil {
		return err
	}
	return runOutcome(run)
}

// runOutcome is nil for a run that succeeded and an error naming the
// status and the run's error otherwise, so scripts can rely on the exit code.
func runOutcome(r *client.Run) error {
	if r.Status == groundwork.RunSucceeded {
		return nil
	}
	msg := fmt.Sprintf("run %s %s", r.ID, r.Status)
	if r.Error != nil {
		msg += ": " + r.Error.Type
		if r.Error.Message != "" {
			msg += ": " + r.Error.Message
		}
	}
	return errors.New(msg)
}
