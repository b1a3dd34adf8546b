package workflows

import (
	"fmt"

	"go.temporal.io/sdk/workflow"

	"github.com/groundwork-dev/groundwork"
)

// EmailSend sends one outbox e-mail: the send activity is keyed by the
// outbox row, so a retry after a sent-and-recorded attempt sends nothing,
// and a mail server that is down is retried with backoff for about a day
// before the e-mail is marked failed.
func EmailSend(ctx workflow.Context, in groundwork.EmailSendInput) (groundwork.EmailSendResult, error) {
	var res groundwork.EmailSendResult
	actx := emailSendOptions(ctx, max(in.Scale, 1))
	err := workflow.ExecuteActivity(actx, groundwork.ActivityEmailSend, in).Get(ctx, &res)
	if err == nil {
		return res, nil
	}
	lctx := withLocal(ctx)
	if ferr := workflow.ExecuteLocalActivity(lctx, groundwork.ActivityEmailFailed,
		groundwork.EmailFailedInput{EmailID: in.EmailID, Error: err.Error()}).Get(lctx, nil); ferr != nil {
		return res, ferr
	}
	return groundwork.EmailSendResult{Status: "failed"}, nil
}

// EmailDigest writes the daily digests (every user's waiting
// notifications, one e-mail per user and workspace) or the weekly
// customer digests to the outbox. Its schedules run it at 08:00 UTC
// daily and on Mondays; a second pass writes nothing twice.
func EmailDigest(ctx workflow.Context, in groundwork.DigestInput) (groundwork.DigestResult, error) {
	prog, err := newProgressTracker(ctx)
	if err != nil {
		return groundwork.DigestResult{}, err
	}
	prog.set(ctx, groundwork.StageDigesting, 0, 0, "writing "+in.Kind+" digests")
	var res groundwork.DigestResult
	actx := withActivity(ctx, groundwork.ActivityEmailDigest)
	if err := workflow.ExecuteActivity(actx, groundwork.ActivityEmailDigest, in).Get(ctx, &res); err != nil {
		prog.set(ctx, groundwork.StageFailed, 0, 0, "digest failed; the next scheduled run retries")
		return res, err
	}
	prog.set(ctx, groundwork.StageDone, int64(res.Digests), int64(res.Digests), fmt.Sprintf("%d %s digests", res.Digests, in.Kind))
	return res, nil
}

// StalledCustomers records customer.stalled for every customer that went
// quiet since the last pass (webhook event and the owner's e-mail). Its
// schedule runs it hourly.
func StalledCustomers(ctx workflow.Context) (groundwork.StalledResult, error) {
	prog, err := newProgressTracker(ctx)
	if err != nil {
		return groundwork.StalledResult{}, err
	}
	prog.set(ctx, groundwork.StageDetecting, 0, 0, "looking for stalled customers")
	var res groundwork.StalledResult
	actx := withActivity(ctx, groundwork.ActivityStalledCustomers)
	if err := workflow.ExecuteActivity(actx, groundwork.ActivityStalledCustomers).Get(ctx, &res); err != nil {
		prog.set(ctx, groundwork.StageFailed, 0, 0, "detection failed; the next scheduled run retries")
		return res, err
	}
	prog.set(ctx, groundwork.StageDone, int64(res.Stalled), int64(res.Stalled), fmt.Sprintf("%d customers newly stalled", res.Stalled))
	return res, nil
}
