// Package metrics holds Groundwork's business metrics: what runs started
// and how they ended, what the LLM providers cost, how long limiters held
// work back, what Airtable, research, webhooks and e-mail did. They are
// process-wide collectors, registered into each process's registry (a
// collector may belong to several, as tests' in-process stacks need).
package metrics

import (
	"errors"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
)

// secondsBuckets fit runs and waits that take from tens of milliseconds to
// an hour: the default buckets stop at 10 s.
var secondsBuckets = []float64{0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600}

// The collectors, by what they count.
var (
	// RunsStarted counts runs the API started, by kind.
	RunsStarted = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "groundwork_runs_started_total",
		Help: "Runs started, by kind."}, []string{"kind"})
	// RunsFinished counts runs that closed, by kind and final status.
	RunsFinished = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "groundwork_runs_finished_total",
		Help: "Runs closed, by kind and status (succeeded, failed, canceled, timed_out)."}, []string{"kind", "status"})
	// RunDuration is a closed run's time from creation to close.
	RunDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "groundwork_run_duration_seconds",
		Help: "Time from a run's creation to its close.", Buckets: secondsBuckets}, []string{"kind", "status"})
	// LLMTokens counts provider tokens, by provider, model and type (input, output).
	LLMTokens = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "groundwork_llm_tokens_total",
		Help: "LLM tokens billed, by provider, model and type (input, output)."}, []string{"provider", "model", "type"})
	// LLMCost counts the providers' list-price cost in USD.
	LLMCost = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "groundwork_llm_cost_usd_total",
		Help: "LLM cost at list prices, USD."}, []string{"provider", "model"})
	// LLMBudgetRefused counts generations refused for a spent monthly budget.
	LLMBudgetRefused = prometheus.NewCounter(prometheus.CounterOpts{Name: "groundwork_llm_budget_refused_total",
		Help: "LLM calls refused because the user's monthly token budget was spent."})
	// LimiterWait is how long a shared rate limiter held a request back.
	LimiterWait = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "groundwork_limiter_wait_seconds",
		Help: "Wait for a shared rate-limit slot, by limiter (airtable, webhook, research…).", Buckets: secondsBuckets}, []string{"limiter"})
	// AirtableRequests counts Airtable API answers by HTTP status ("error": none).
	AirtableRequests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "groundwork_airtable_requests_total",
		Help: "Airtable API requests by HTTP status (error: no answer)."}, []string{"status"})
	// ResearchPages counts research page fetches by outcome (fetched, failed).
	ResearchPages = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "groundwork_research_pages_total",
		Help: "Research page fetches by outcome."}, []string{"outcome"})
	// ResearchBlocked counts requests of research pages the SSRF guard refused.
	ResearchBlocked = prometheus.NewCounter(prometheus.CounterOpts{Name: "groundwork_research_blocked_total",
		Help: "Requests by research pages refused by the SSRF policy."})
	// WebhookDeliveries counts delivery attempts by outcome (delivered, failed).
	WebhookDeliveries = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "groundwork_webhook_deliveries_total",
		Help: "Outbound webhook delivery attempts by outcome."}, []string{"outcome"})
	// Emails counts closed outbox e-mails by status (sent, failed, suppressed).
	Emails = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "groundwork_emails_total",
		Help: "Outbox e-mails closed, by status."}, []string{"status"})
)

// all is every collector Register adds.
var all = []prometheus.Collector{RunsStarted, RunsFinished, RunDuration, LLMTokens, LLMCost, LLMBudgetRefused,
	LimiterWait, AirtableRequests, ResearchPages, ResearchBlocked, WebhookDeliveries, Emails}

// Register adds the business metrics to reg; registering them twice in
// the same registry is not an error.
func Register(reg prometheus.Registerer) error {
	for _, c := range all {
		if err := reg.Register(c); err != nil {
			var are prometheus.AlreadyRegisteredError
			if !errors.As(err, &are) {
				return err
			}
		}
	}
	return nil
}

// LimiterName is a limiter's label from a limiter key ("webhook:whe_…",
// "airtable:base:app…"): its first part, so the label stays bounded.
func LimiterName(key string) string {
	name, _, _ := strings.Cut(key, ":")
	return name
}
