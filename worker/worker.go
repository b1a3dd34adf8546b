// Package worker wires workflows and activities to their dependencies and
// polls Groundwork's task queues.
package worker

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os/exec"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"
	"gocloud.dev/blob"

	"github.com/groundwork-dev/groundwork"
	"github.com/groundwork-dev/groundwork/activities"
	"github.com/groundwork-dev/groundwork/internal/browser"
	"github.com/groundwork-dev/groundwork/internal/config"
	"github.com/groundwork-dev/groundwork/internal/llm"
	"github.com/groundwork-dev/groundwork/internal/notify"
	"github.com/groundwork-dev/groundwork/internal/pglimit"
	"github.com/groundwork-dev/groundwork/internal/secretbox"
	"github.com/groundwork-dev/groundwork/internal/signedurl"
	"github.com/groundwork-dev/groundwork/internal/ssrf"
	"github.com/groundwork-dev/groundwork/internal/tracing"
	"github.com/groundwork-dev/groundwork/workflows"
)

// Deps are the dependencies every activity set is built from.
type Deps struct {
	Client client.Client
	Pool   *pgxpool.Pool
	Bucket *blob.Bucket
	Log    *slog.Logger
	// Pollers is the number of pollers per task queue and task type. The
	// SDK's default of 2 stalls for seconds under concurrency.
	Pollers int
	// RenderConcurrency bounds CPU-bound renders per process.
	RenderConcurrency int
	ExportTTL         time.Duration
	MaxFileBytes      int64
	// QuotaBytes caps each user's unexpired exports (0: no quota).
	QuotaBytes int64
	// Schedules are the intervals of the maintenance schedules.
	Schedules Schedules
	// EventRetention is how long tracked events are kept.
	EventRetention time.Duration
	// WebhookScale divides the webhook retry schedule (tests); 0 is real time.
	WebhookScale int
	// WebhookDispatchEvery is how often the outbox is read (0: the default).
	WebhookDispatchEvery time.Duration
	// Traces, when on, makes each outbound HTTP request (LLM, Airtable,
	// webhooks) a span of the activity's trace.
	Traces *tracing.Provider
	// SMTP is the mail server e-mails go through; nil: none are sent
	// (each is recorded as suppressed).
	SMTP *notify.SMTP
	// Signer signs the links in e-mails (downloads, unsubscribe); nil: none.
	Signer *signedurl.Signer
	// PublicURL is the API's address e-mail links start with.
	PublicURL string
	// StalledAfter is how long without an event makes a customer stalled.
	StalledAfter time.Duration
	// LLM configures generation: providers, limits, prices.
	LLM config.LLM
	// LLMHTTPClient, when set, is the providers' HTTP client.
	LLMHTTPClient *http.Client
	// Airtable configures the Airtable sync.
	Airtable config.Airtable
	// AirtableHTTPClient, when set, is the Airtable client's HTTP client.
	AirtableHTTPClient *http.Client
	// Research configures company research: Chrome, politeness, SSRF.
	Research config.Research
	// Browser renders research pages; without one the worker does not
	// poll the browser queue. Run starts one from Research.
	Browser *browser.Browser
	// Now is the activities' clock; tests replace it to expire exports.
	Now func() time.Time
}

// Run starts one Temporal worker per task queue and blocks until ctx is
// done, then stops them, letting running activities finish within their
// stop timeout.
func Run(ctx context.Context, d Deps) error {
	if d.Browser == nil {
		b, err := NewBrowser(d.Research, d.Log)
		if err != nil {
			d.Log.Error("research is off on this worker: it does not poll the browser queue", "error", err)
		} else {
			d.Browser = b
			defer b.Close()
		}
	}
	workers, err := New(d)
	if err != nil {
		return err
	}
	if err := EnsureSchedules(ctx, d.Client, d.Schedules); err != nil {
		return err
	}
	dctx, stopDispatch := context.WithCancel(ctx)
	defer stopDispatch()
	go DispatchOutbox(dctx, d)
	for i, w := range workers {
		if err := w.Start(); err != nil {
			for _, started := range workers[:i] {
				started.Stop()
			}
			return fmt.Errorf("start worker: %w", err)
		}
	}
	queues := []string{groundwork.TaskQueueDefault, groundwork.TaskQueueRender, groundwork.TaskQueueLLM, groundwork.TaskQueueAirtable, groundwork.TaskQueueAssessment, groundwork.TaskQueueDelivery}
	if d.Browser != nil {
		queues = append(queues, groundwork.TaskQueueBrowser)
	}
	d.Log.Info("worker started", "task_queues", queues, "pollers", d.Pollers, "llm_providers", d.LLM.Names(), "email", d.SMTP != nil)
	<-ctx.Done()
	d.Log.Info("worker stopping")
	for _, w := range workers {
		w.Stop()
	}
	return nil
}

// New builds (without starting) the workers for every task queue: main,
// render, llm and, when d.Browser is set, browser.
func New(d Deps) ([]sdkworker.Worker, error) {
	if d.Client == nil || d.Pool == nil || d.Bucket == nil {
		return nil, errors.New("worker: client, pool and bucket are required")
	}
	if d.Traces.Enabled() {
		d.LLMHTTPClient = tracedClient(d.Traces, d.LLMHTTPClient)
		d.AirtableHTTPClient = tracedClient(d.Traces, d.AirtableHTTPClient)
	}
	pollers := cmp.Or(max(d.Pollers, 0), config.DefaultPollers)
	renderConc := cmp.Or(max(d.RenderConcurrency, 0), config.DefaultRenderConcurrency)
	exports := &activities.Exports{
		Pool:         d.Pool,
		Bucket:       d.Bucket,
		TTL:          d.ExportTTL,
		MaxFileBytes: d.MaxFileBytes,
		QuotaBytes:   d.QuotaBytes,

		ResearchRetention: d.Research.Retention,
		Sources: activities.Sources{Pool: d.Pool, Kinds: map[groundwork.Kind]activities.Source{
			groundwork.KindResearch:   &activities.ResearchSource{Pool: d.Pool, Bucket: d.Bucket},
			groundwork.KindGeneration: &activities.GenerationSource{Pool: d.Pool},
			groundwork.KindAssessment: &activities.AssessmentSource{Pool: d.Pool},
		}},
		Now: d.Now,
	}

	gen, err := newLLM(d)
	if err != nil {
		return nil, err
	}

	main := sdkworker.New(d.Client, groundwork.TaskQueueDefault, sdkworker.Options{
		MaxConcurrentWorkflowTaskPollers: pollers,
		MaxConcurrentActivityTaskPollers: pollers,
		WorkerStopTimeout:                config.WorkerStopTimeout,
	})
	workflows.RegisterAll(main)
	main.RegisterActivityWithOptions(exports.ExportsDeleteExpired, activity.RegisterOptions{Name: groundwork.ActivityExportsDeleteExpired})
	// Local activities run inside this worker's workflow tasks.
	main.RegisterActivityWithOptions(exports.ExportPrepare, activity.RegisterOptions{Name: groundwork.ActivityExportPrepare})
	main.RegisterActivityWithOptions(exports.ExportRecord, activity.RegisterOptions{Name: groundwork.ActivityExportRecord})
	// Small tables render here, in the workflow task (ExportPlan.Local).
	main.RegisterActivityWithOptions(exports.ExportRender, activity.RegisterOptions{Name: groundwork.ActivityExportRender})
	main.RegisterActivityWithOptions(exports.ExportDiscard, activity.RegisterOptions{Name: groundwork.ActivityExportDiscard})
	main.RegisterActivityWithOptions(gen.GenerateRecord, activity.RegisterOptions{Name: groundwork.ActivityGenerateRecord})
	main.RegisterActivityWithOptions(gen.GenerateDiscard, activity.RegisterOptions{Name: groundwork.ActivityGenerateDiscard})
	res := newResearch(d)
	main.RegisterActivityWithOptions(res.ResearchPrepare, activity.RegisterOptions{Name: groundwork.ActivityResearchPrepare})
	main.RegisterActivityWithOptions(res.ResearchReport, activity.RegisterOptions{Name: groundwork.ActivityResearchReport})
	main.RegisterActivityWithOptions(res.ResearchRecord, activity.RegisterOptions{Name: groundwork.ActivityResearchRecord})
	main.RegisterActivityWithOptions(res.ResearchDiscard, activity.RegisterOptions{Name: groundwork.ActivityResearchDiscard})
	as := &activities.Assessments{Pool: d.Pool, LLM: len(gen.Providers) > 0}
	main.RegisterActivityWithOptions(as.AssessmentRecord, activity.RegisterOptions{Name: groundwork.ActivityAssessmentRecord})
	main.RegisterActivityWithOptions(as.AssessmentDiscard, activity.RegisterOptions{Name: groundwork.ActivityAssessmentDiscard})
	an := &activities.Analytics{Pool: d.Pool, EventRetention: d.EventRetention, Now: d.Now}
	main.RegisterActivityWithOptions(an.AnalyticsRollup, activity.RegisterOptions{Name: groundwork.ActivityAnalyticsRollup})
	main.RegisterActivityWithOptions(an.EventPartitions, activity.RegisterOptions{Name: groundwork.ActivityEventPartitions})
	// Scoring is CPU-bound: a queue of its own, so a burst of assessments
	// waits there instead of crowding the workflow worker.
	assessQueue := sdkworker.New(d.Client, groundwork.TaskQueueAssessment, sdkworker.Options{
		MaxConcurrentActivityTaskPollers:   pollers,
		MaxConcurrentActivityExecutionSize: config.DefaultAssessmentConcurrency,
		WorkerStopTimeout:                  config.WorkerStopTimeout,
	})
	assessQueue.RegisterActivityWithOptions(as.AssessmentScore, activity.RegisterOptions{Name: groundwork.ActivityAssessmentScore})

	render := sdkworker.New(d.Client, groundwork.TaskQueueRender, sdkworker.Options{
		MaxConcurrentActivityTaskPollers:   pollers,
		MaxConcurrentActivityExecutionSize: renderConc,
		WorkerStopTimeout:                  config.WorkerStopTimeout,
	})
	render.RegisterActivityWithOptions(exports.ExportRender, activity.RegisterOptions{Name: groundwork.ActivityExportRender})

	// Unset (a hand-built Deps): the configuration's default, not one
	// request a minute, which would starve research summaries too.
	rpm := cmp.Or(max(d.LLM.RequestsPerMinute, 0), config.DefaultLLMRequestsPerMinute)
	llmQueue := sdkworker.New(d.Client, groundwork.TaskQueueLLM, sdkworker.Options{
		MaxConcurrentActivityTaskPollers:   pollers,
		MaxConcurrentActivityExecutionSize: config.LLMActivityConcurrency,
		// Requests per minute, enforced by the server for every worker.
		TaskQueueActivitiesPerSecond: float64(rpm) / 60,
		// Streamed text reaches the API through heartbeats: send them
		// every second rather than the SDK's default of 0.8 × timeout.
		MaxHeartbeatThrottleInterval: time.Second,
		WorkerStopTimeout:            config.WorkerStopTimeout,
	})
	llmQueue.RegisterActivityWithOptions(gen.LLMGenerate, activity.RegisterOptions{Name: groundwork.ActivityLLMGenerate})
	llmQueue.RegisterActivityWithOptions(gen.ResearchSummarize, activity.RegisterOptions{Name: groundwork.ActivityResearchSummarize})
	llmQueue.RegisterActivityWithOptions(gen.AssessmentRecommend, activity.RegisterOptions{Name: groundwork.ActivityAssessmentRecommend})
	wh := newWebhooks(d)
	main.RegisterActivityWithOptions(wh.WebhookExhausted, activity.RegisterOptions{Name: groundwork.ActivityWebhookExhausted})
	inbound := &activities.Inbound{Pool: d.Pool, EventRetention: d.EventRetention, Now: d.Now}
	main.RegisterActivityWithOptions(inbound.InboundPrepare, activity.RegisterOptions{Name: groundwork.ActivityInboundPrepare})
	main.RegisterActivityWithOptions(inbound.InboundFinish, activity.RegisterOptions{Name: groundwork.ActivityInboundFinish})
	deliveryQueue := sdkworker.New(d.Client, groundwork.TaskQueueDelivery, sdkworker.Options{
		MaxConcurrentActivityTaskPollers:   pollers,
		MaxConcurrentActivityExecutionSize: config.DefaultDeliveryConcurrency,
		WorkerStopTimeout:                  config.WorkerStopTimeout,
	})
	deliveryQueue.RegisterActivityWithOptions(wh.WebhookAttempt, activity.RegisterOptions{Name: groundwork.ActivityWebhookAttempt})
	mail := &activities.Email{Pool: d.Pool, SMTP: d.SMTP, Signer: d.Signer, PublicURL: d.PublicURL,
		StalledAfter: cmp.Or(d.StalledAfter, config.DefaultStalledAfter), Log: d.Log, Now: d.Now}
	deliveryQueue.RegisterActivityWithOptions(mail.EmailSend, activity.RegisterOptions{Name: groundwork.ActivityEmailSend})
	main.RegisterActivityWithOptions(mail.EmailFailed, activity.RegisterOptions{Name: groundwork.ActivityEmailFailed})
	main.RegisterActivityWithOptions(mail.EmailDigest, activity.RegisterOptions{Name: groundwork.ActivityEmailDigest})
	main.RegisterActivityWithOptions(mail.StalledCustomers, activity.RegisterOptions{Name: groundwork.ActivityStalledCustomers})
	workers := []sdkworker.Worker{main, render, llmQueue, assessQueue, deliveryQueue}

	at := newAirtable(d)
	main.RegisterActivityWithOptions(at.AirtablePrepare, activity.RegisterOptions{Name: groundwork.ActivityAirtablePrepare})
	main.RegisterActivityWithOptions(at.AirtablePlan, activity.RegisterOptions{Name: groundwork.ActivityAirtablePlan})
	main.RegisterActivityWithOptions(at.AirtableFinish, activity.RegisterOptions{Name: groundwork.ActivityAirtableFinish})
	main.RegisterActivityWithOptions(at.AirtableDiscard, activity.RegisterOptions{Name: groundwork.ActivityAirtableDiscard})
	main.RegisterActivityWithOptions(at.AirtableLaunch, activity.RegisterOptions{Name: groundwork.ActivityAirtableLaunch})
	airtableQueue := sdkworker.New(d.Client, groundwork.TaskQueueAirtable, sdkworker.Options{
		MaxConcurrentActivityTaskPollers:   pollers,
		MaxConcurrentActivityExecutionSize: config.AirtableActivityConcurrency,
		WorkerStopTimeout:                  config.WorkerStopTimeout,
	})
	airtableQueue.RegisterActivityWithOptions(at.AirtableFetch, activity.RegisterOptions{Name: groundwork.ActivityAirtableFetch})
	airtableQueue.RegisterActivityWithOptions(at.AirtableApply, activity.RegisterOptions{Name: groundwork.ActivityAirtableApply})
	workers = append(workers, airtableQueue)

	if d.Browser != nil {
		tabs := max(d.Research.Tabs, 1)
		browserQueue := sdkworker.New(d.Client, groundwork.TaskQueueBrowser, sdkworker.Options{
			MaxConcurrentActivityTaskPollers: min(pollers, tabs),
			// One page per Chrome tab: a sixth page would only wait
			// here for a tab instead of on the queue, where another
			// worker could take it.
			MaxConcurrentActivityExecutionSize: tabs,
			WorkerStopTimeout:                  config.WorkerStopTimeout,
		})
		browserQueue.RegisterActivityWithOptions(res.ResearchFetch, activity.RegisterOptions{Name: groundwork.ActivityResearchFetch})
		browserQueue.RegisterActivityWithOptions(res.ResearchDiscover, activity.RegisterOptions{Name: groundwork.ActivityResearchDiscover})
		workers = append(workers, browserQueue)
	}
	return workers, nil
}

// NewBrowser prepares (without starting Chrome) the browser research
// pages are rendered in.
func NewBrowser(r config.Research, log *slog.Logger) (*browser.Browser, error) {
	path := r.ChromePath
	if path == "" {
		for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
			if p, err := exec.LookPath(name); err == nil {
				path = p
				break
			}
		}
	}
	if path == "" {
		return nil, errors.New("no Chrome found: install Debian's chromium package or set GROUNDWORK_CHROME_PATH")
	}
	if _, err := exec.LookPath(path); err != nil {
		return nil, fmt.Errorf("GROUNDWORK_CHROME_PATH %q: %w", path, err)
	}
	return browser.New(browser.Options{
		ExecPath:     path,
		Policy:       ssrf.Policy{Allow: r.Allow, Ports: r.Ports},
		UserAgent:    r.UserAgent,
		MaxTabs:      max(r.Tabs, 1),
		PageTimeout:  r.PageTimeout,
		RestartAfter: r.RestartAfter,
		NoSandbox:    r.ChromeNoSandbox,
		Log:          log,
	}), nil
}

// newAirtable builds the Airtable sync activities from the configuration.
func newAirtable(d Deps) *activities.Airtable {
	cfg := d.Airtable
	perBase := cmp.Or(max(cfg.PerBase, 0), config.DefaultAirtablePerBase)
	perToken := cmp.Or(max(cfg.PerToken, 0), config.DefaultAirtablePerToken)
	secrets, err := secretbox.New(cfg.EncryptionKey)
	if err != nil {
		secrets, _ = secretbox.New(nil) // config already refused a bad key
	}
	return &activities.Airtable{
		Pool: d.Pool, APIURL: cfg.APIURL, Token: cfg.Token, HTTP: d.AirtableHTTPClient, Secrets: secrets,
		// Spaced evenly at config.AirtableHeadroom of Airtable's limits,
		// which says why not at 100 %.
		PerBase:  &pglimit.SlotLimiter{Pool: d.Pool, PerSecond: perBase * config.AirtableHeadroom, Tolerance: config.AirtableSlotTolerance},
		PerToken: &pglimit.SlotLimiter{Pool: d.Pool, PerSecond: perToken * config.AirtableHeadroom, Tolerance: config.AirtableSlotTolerance},
		Lockout:  cfg.Lockout,
		Tables:   cfg.Tables,
		Bases:    cfg.Bases,
		Log:      d.Log,
	}
}

// newResearch builds the research activities from the configuration.
func newResearch(d Deps) *activities.Research {
	var domains *pglimit.SlotLimiter
	if d.Research.DomainRate > 0 {
		// Exact slots of one request each: requests to a domain are spaced
		// evenly, never bunched into a burst, and a page waiting for its
		// turn sleeps until it.
		domains = &pglimit.SlotLimiter{Pool: d.Pool, PerSecond: d.Research.DomainRate}
	}
	return &activities.Research{
		Pool:      d.Pool,
		Bucket:    d.Bucket,
		Browser:   d.Browser,
		Policy:    ssrf.Policy{Allow: d.Research.Allow, Ports: d.Research.Ports},
		UserAgent: d.Research.UserAgent,
		Domains:   domains,
		Log:       d.Log,
		Now:       d.Now,
	}
}

// newLLM builds the generation activities from the configuration.
func newLLM(d Deps) (*activities.LLM, error) {
	providers := make([]llm.Provider, 0, len(d.LLM.Providers))
	for _, p := range d.LLM.Providers {
		prov, err := llm.New(llm.Config{
			Name: p.Name, Kind: p.Kind, APIKey: p.APIKey, APIKeyVar: p.APIKeyVar, BaseURL: p.BaseURL, Model: p.Model,
			HTTPClient: d.LLMHTTPClient, CallTimeout: d.LLM.CallTimeout,
		})
		if err != nil {
			return nil, fmt.Errorf("llm provider %s: %w", p.Name, err)
		}
		providers = append(providers, prov)
	}
	return &activities.LLM{
		Pool:      d.Pool,
		Providers: providers,
		Allowed:   d.LLM.Allowed(),
		// The token budget as weighted slots: a call's tokens occupy
		// tokens/rate seconds of its provider's time.
		Tokens: &pglimit.SlotLimiter{
			Pool: d.Pool, PerSecond: float64(d.LLM.TokensPerMinute) / 60, Burst: float64(d.LLM.TokenBurst),
			Recheck: config.LLMTokensRecheck,
		},
		Prices:             d.LLM.Prices,
		CacheTTL:           d.LLM.CacheTTL,
		MonthlyTokenBudget: d.LLM.MonthlyTokenBudget,
		BreakerFailures:    d.LLM.BreakerFailures,
		BreakerCooldown:    d.LLM.BreakerCooldown,
		Log:                d.Log,
		Now:                d.Now,
	}, nil
}

// tracedClient is c (nil: a default client) with each request a span.
func tracedClient(t *tracing.Provider, c *http.Client) *http.Client {
	out := &http.Client{}
	if c != nil {
		*out = *c
	}
	out.Transport = t.Transport(out.Transport)
	return out
}
