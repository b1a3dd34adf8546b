package workflows

import (
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/groundwork-dev/groundwork"
)

// WebhookDelivery delivers one outbound message: an attempt at once, then
// after each wait of groundwork.DeliverySchedule (divided by in.Scale in
// tests), longer when the endpoint's Retry-After asks it. A 410 Gone or a
// disabled endpoint stops it; when the attempts run out the message is
// dead-lettered.
func WebhookDelivery(ctx workflow.Context, in groundwork.WebhookDeliveryInput) (groundwork.WebhookDeliveryResult, error) {
	actx := withActivity(ctx, groundwork.ActivityWebhookAttempt)
	scale := max(in.Scale, 1)
	var last groundwork.WebhookAttemptOutput
	for attempt := 1; ; attempt++ {
		err := workflow.ExecuteActivity(actx, groundwork.ActivityWebhookAttempt,
			groundwork.WebhookAttemptInput{MessageID: in.MessageID, Generation: in.Generation, Attempt: attempt}).Get(ctx, &last)
		if err != nil {
			// Our own failure (Postgres) past its retries: counts as a failed attempt.
			last = groundwork.WebhookAttemptOutput{Error: err.Error()}
		}
		if last.Delivered {
			return groundwork.WebhookDeliveryResult{Delivered: true, Attempts: attempt}, nil
		}
		if last.Stop || attempt > len(groundwork.DeliverySchedule) {
			lctx := withLocal(ctx)
			err := workflow.ExecuteLocalActivity(lctx, groundwork.ActivityWebhookExhausted, groundwork.WebhookExhaustedInput{
				MessageID: in.MessageID, Generation: in.Generation, Attempts: attempt, Error: last.Error, Stopped: last.Stop}).Get(lctx, nil)
			return groundwork.WebhookDeliveryResult{Attempts: attempt}, err
		}
		wait := groundwork.DeliverySchedule[attempt-1] / time.Duration(scale)
		if last.RetryAfter > wait {
			wait = last.RetryAfter
		}
		if err := workflow.Sleep(ctx, wait); err != nil {
			return groundwork.WebhookDeliveryResult{Attempts: attempt}, err
		}
	}
}
