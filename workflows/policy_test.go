package workflows

import (
	"reflect"
	"testing"

	"github.com/stretchr/testify/mock"

	"github.com/groundwork-dev/groundwork"
)

// Matchers for OnActivity arguments.
var (
	ctxAny = mock.Anything
	anyArg = mock.Anything
)

// TestEveryActivityHasAPolicy walks the activity names of the root package
// and requires each to be a local activity or to have options, with a task
// queue and a start-to-close timeout, in policy.go — not both.
func TestEveryActivityHasAPolicy(t *testing.T) {
	names := activityNames(t)
	for _, name := range names {
		opts, remote := activityPolicy[name]
		switch {
		case remote && localActivities[name]:
			t.Errorf("%s is both a local activity and in activityPolicy", name)
		case !remote && !localActivities[name]:
			t.Errorf("%s has no policy in policy.go", name)
		case remote && (opts.TaskQueue == "" || opts.StartToCloseTimeout <= 0 || opts.RetryPolicy == nil):
			t.Errorf("%s: options lack a task queue, a start-to-close timeout or a retry policy: %+v", name, opts)
		}
	}
	if len(activityPolicy)+len(localActivities) != len(names) {
		t.Errorf("policy.go lists %d activities, the root package names %d", len(activityPolicy)+len(localActivities), len(names))
	}
}

// activityNames are the values of the root package's Activity* constants,
// listed here as the worker registers them.
func activityNames(t *testing.T) []string {
	t.Helper()
	return []string{
		groundwork.ActivityExportPrepare, groundwork.ActivityExportRender, groundwork.ActivityExportRecord, groundwork.ActivityExportDiscard,
		groundwork.ActivityExportsDeleteExpired,
		groundwork.ActivityLLMGenerate, groundwork.ActivityGenerateRecord, groundwork.ActivityGenerateDiscard,
		groundwork.ActivityResearchPrepare, groundwork.ActivityResearchFetch, groundwork.ActivityResearchDiscover,
		groundwork.ActivityResearchSummarize, groundwork.ActivityResearchReport, groundwork.ActivityResearchRecord, groundwork.ActivityResearchDiscard,
		groundwork.ActivityAirtablePrepare, groundwork.ActivityAirtableFetch, groundwork.ActivityAirtablePlan, groundwork.ActivityAirtableApply,
		groundwork.ActivityAirtableFinish, groundwork.ActivityAirtableDiscard, groundwork.ActivityAirtableLaunch,
		groundwork.ActivityAssessmentScore, groundwork.ActivityAssessmentRecommend, groundwork.ActivityAssessmentRecord,
		groundwork.ActivityAssessmentDiscard, groundwork.ActivityAnalyticsRollup, groundwork.ActivityEventPartitions,
		groundwork.ActivityWebhookAttempt, groundwork.ActivityWebhookExhausted,
		groundwork.ActivityInboundPrepare, groundwork.ActivityInboundFinish,
		groundwork.ActivityEmailSend, groundwork.ActivityEmailFailed, groundwork.ActivityEmailDigest, groundwork.ActivityStalledCustomers,
	}
}

func TestWithActivityPanicsOnAMissingPolicy(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("withActivity accepted an activity without a policy")
		}
	}()
	withActivity(nil, "NoSuchActivity")
}

func TestAirtableBatchSizesKeepsOverrides(t *testing.T) {
	got := airtableBatchSizes(groundwork.AirtableBatches{PagesPerFetch: 3})
	want := groundwork.AirtableBatches{PagesPerFetch: 3, DecisionsPerPass: airtableDecisionsPerPass, BatchesPerRun: airtableBatchesPerRun}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("airtableBatchSizes = %+v, want %+v", got, want)
	}
}
