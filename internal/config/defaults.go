package config

import "time"

// Every default of Groundwork's settings, written once. Load uses them for
// unset variables; code that falls back on a default for a zero setting (a
// hand-built worker.Deps in a test) uses them too, so a default never
// drifts between two places. Where a setting's variable exists, it is
// named in the comment.
const (
	// DefaultHTTPAddr is the API's listen address (GROUNDWORK_HTTP_ADDR).
	DefaultHTTPAddr = ":8080"
	// DefaultMetricsAddr serves /metrics and /healthz on loopback only
	// (GROUNDWORK_METRICS_ADDR); a container sets :9464 for its scraper.
	DefaultMetricsAddr = "127.0.0.1:9464"
	// DefaultPublicURL is the origin signed links point at (GROUNDWORK_PUBLIC_URL).
	DefaultPublicURL = "http://localhost:8080"
	// DefaultBlobURL is where exports and screenshots are stored (GROUNDWORK_BLOB_URL).
	DefaultBlobURL = "file://.data/blobs"
	// DefaultLogLevel is the log level (GROUNDWORK_LOG_LEVEL).
	DefaultLogLevel = "info"
	// DefaultLogFormat is json or text (GROUNDWORK_LOG_FORMAT).
	DefaultLogFormat = "json"
	// DefaultDBMinConns is the pool's idle floor (GROUNDWORK_DB_MIN_CONNS).
	DefaultDBMinConns = 2
	// DefaultDBMaxConns is the pool's size (GROUNDWORK_DB_MAX_CONNS).
	DefaultDBMaxConns = 20

	// DefaultJWTMaxAge refuses JWTs issued longer ago (GROUNDWORK_JWT_MAX_AGE).
	DefaultJWTMaxAge = 24 * time.Hour

	// DefaultSessionClaim is the JWT claim naming the provider's session
	// (GROUNDWORK_SESSION_CLAIM; Supabase's).
	DefaultSessionClaim = "session_id"
	// DefaultSessionIdle ends a session unused this long (GROUNDWORK_SESSION_IDLE).
	DefaultSessionIdle = 30 * time.Minute
	// DefaultSessionsPerUser caps a user's live sessions; a newer one
	// revokes the least recently used (GROUNDWORK_SESSIONS_PER_USER).
	DefaultSessionsPerUser = 3
	// RateWindowRetention is how long the cleanup schedule keeps a past
	// rate-limit window and the slot or bucket row of an idle key.
	RateWindowRetention = 24 * time.Hour
	// IdempotencyKeyRetention is how long a run's Idempotency-Key returns
	// that run; a repeat after it starts a new one.
	IdempotencyKeyRetention = 24 * time.Hour
	// SessionTombstoneRetention is how long an ended session's row is
	// kept so a token naming it stays refused: longer than any provider's
	// refresh-token life.
	SessionTombstoneRetention = 365 * 24 * time.Hour
	// SessionRetention is how long an unused session stays live before the
	// cleanup schedule ends it (the idle timeout usually ends it first).
	SessionRetention = 30 * 24 * time.Hour

	// DefaultRatePerSecond is each caller's API request limit per second
	// (GROUNDWORK_RATE_PER_SECOND).
	DefaultRatePerSecond = 10
	// DefaultRatePerMinute is each caller's API request limit per minute
	// (GROUNDWORK_RATE_PER_MINUTE).
	DefaultRatePerMinute = 100
	// DefaultSignedRatePerSecond and DefaultSignedRatePerMinute limit each
	// signed download or screenshot link (GROUNDWORK_SIGNED_RATE_PER_SECOND,
	// _PER_MINUTE): a report's fifty screenshots load at once.
	DefaultSignedRatePerSecond = 100
	DefaultSignedRatePerMinute = 3000
	// DefaultIPRatePerSecond is the per-process limit by client IP before
	// any authentication work (GROUNDWORK_IP_RATE_PER_SECOND).
	DefaultIPRatePerSecond = 200
	// DefaultAuthFailuresPerMinute failed authentications from one IP in a
	// minute refuse it until the minute ends (GROUNDWORK_AUTH_FAILURES_PER_MINUTE).
	DefaultAuthFailuresPerMinute = 30
	// DefaultMaxStreamsPerUser caps a user's open event streams per API
	// process (GROUNDWORK_MAX_STREAMS_PER_USER).
	DefaultMaxStreamsPerUser = 10
	// DefaultMaxOpenRuns caps a user's unfinished runs (GROUNDWORK_MAX_OPEN_RUNS).
	DefaultMaxOpenRuns = 50
	// DefaultProgressPoll is how often an SSE stream looks for a run's news.
	DefaultProgressPoll = 200 * time.Millisecond

	// DefaultPollers is the pollers per task queue and task type
	// (GROUNDWORK_WORKER_POLLERS); the SDK's default of 2 stalls for
	// seconds under concurrency.
	DefaultPollers = 8
	// DefaultRenderConcurrency bounds the CPU-bound renders one worker
	// runs at once on the render queue.
	DefaultRenderConcurrency = 4
	// LLMActivityConcurrency bounds one worker's activities on the llm
	// queue: most wait on the token budget or the network, not on CPU.
	LLMActivityConcurrency = 500
	// AirtableActivityConcurrency bounds one worker's activities on the
	// airtable queue: syncs wait on the shared per-base slots.
	AirtableActivityConcurrency = 50
	// WorkerStopTimeout is how long a stopping worker lets running
	// activities finish.
	WorkerStopTimeout = 30 * time.Second

	// DefaultExportMaxBytes caps one rendered file (GROUNDWORK_EXPORT_MAX_BYTES).
	DefaultExportMaxBytes = 10 << 20
	// DefaultExportTTL is how long a file can be downloaded (GROUNDWORK_EXPORT_TTL).
	DefaultExportTTL = 24 * time.Hour
	// DefaultExportQuotaBytes caps a user's unexpired files (GROUNDWORK_EXPORT_QUOTA_BYTES).
	DefaultExportQuotaBytes = 100 << 20
	// DefaultCleanupEvery is the interval of the ExportsCleanup schedule
	// (GROUNDWORK_EXPORT_CLEANUP_EVERY).
	DefaultCleanupEvery = 10 * time.Minute

	// DefaultLLMTokensPerMinute is each provider's token budget, shared by
	// every worker (GROUNDWORK_LLM_TOKENS_PER_MINUTE).
	DefaultLLMTokensPerMinute = 10_000
	// LLMTokensRecheck is how often a call waiting for its slot of the
	// token budget looks for tokens the calls before it gave back (they
	// reserve max_tokens and an over-estimate of the prompt, and settle
	// what they used): without it, a queue of calls would run at the
	// estimates' rate, not the usage's.
	LLMTokensRecheck = 500 * time.Millisecond
	// DefaultLLMRequestsPerMinute is the llm task queue's rate, enforced by
	// the Temporal server for every worker (GROUNDWORK_LLM_REQUESTS_PER_MINUTE).
	DefaultLLMRequestsPerMinute = 500
	// DefaultLLMMonthlyTokenBudget caps each user's LLM tokens per UTC
	// month (GROUNDWORK_LLM_MONTHLY_TOKEN_BUDGET; 0 is unlimited, warned
	// about at start).
	DefaultLLMMonthlyTokenBudget = 2_000_000
	// DefaultLLMCallTimeout bounds one provider call (GROUNDWORK_LLM_CALL_TIMEOUT).
	DefaultLLMCallTimeout = 45 * time.Second
	// DefaultLLMCacheTTL is how long a cached answer is served (GROUNDWORK_LLM_CACHE_TTL).
	DefaultLLMCacheTTL = 24 * time.Hour
	// DefaultLLMBreakerFailures opens a provider's circuit after this many
	// failures in a row (GROUNDWORK_LLM_BREAKER_FAILURES).
	DefaultLLMBreakerFailures = 5
	// DefaultLLMBreakerCooldown is how long an open circuit stays open
	// (GROUNDWORK_LLM_BREAKER_COOLDOWN).
	DefaultLLMBreakerCooldown = 30 * time.Second

	// DefaultResearchUserAgent identifies Groundwork's research crawler;
	// its first word is the token robots.txt rules are matched against
	// (GROUNDWORK_RESEARCH_USER_AGENT).
	DefaultResearchUserAgent = "GroundworkResearch/1.0 (+https://groundwork.dev/bot)"
	// DefaultResearchTabs bounds the pages one worker renders at once
	// (GROUNDWORK_RESEARCH_TABS).
	DefaultResearchTabs = 5
	// DefaultResearchPageTimeout bounds one page from navigation until it
	// settled (GROUNDWORK_RESEARCH_PAGE_TIMEOUT).
	DefaultResearchPageTimeout = 30 * time.Second
	// DefaultResearchChromeRestartAfter restarts Chrome after this many
	// pages (GROUNDWORK_RESEARCH_CHROME_RESTART_AFTER).
	DefaultResearchChromeRestartAfter = 100
	// DefaultResearchDomainRate is the requests per second to one web
	// domain, shared by every worker (GROUNDWORK_RESEARCH_DOMAIN_RATE).
	DefaultResearchDomainRate = 1.0
	// DefaultResearchPorts are the destination ports research fetches
	// (GROUNDWORK_RESEARCH_PORTS).
	DefaultResearchPorts = "80,443,8080,8443"
	// DefaultResearchRetention expires research reports, pages and
	// screenshots (GROUNDWORK_RESEARCH_RETENTION).
	DefaultResearchRetention = 30 * 24 * time.Hour
	// DefaultRobotsTTL is how long a worker keeps a site's robots.txt.
	DefaultRobotsTTL = time.Hour
	// ResearchSitemapTTL is how long a worker keeps the pages of a site's
	// sitemaps: long enough for one research's two discovery passes (while
	// the home page renders, then with its links), short enough that the
	// next research sees a changed site.
	ResearchSitemapTTL = 10 * time.Minute

	// DefaultAirtableAPIURL is Airtable's API origin (AIRTABLE_API_URL).
	DefaultAirtableAPIURL = "https://api.airtable.com"
	// DefaultAirtablePerBase is Airtable's limit of requests per second
	// per base (GROUNDWORK_AIRTABLE_REQUESTS_PER_BASE).
	DefaultAirtablePerBase = 5
	// DefaultAirtablePerToken is Airtable's limit of requests per second
	// per token (GROUNDWORK_AIRTABLE_REQUESTS_PER_TOKEN).
	DefaultAirtablePerToken = 50
	// DefaultAirtableLockout is how long Airtable refuses a caller after a
	// 429 (GROUNDWORK_AIRTABLE_LOCKOUT).
	DefaultAirtableLockout = 30 * time.Second
	// AirtableHeadroom is the share of Airtable's limits the shared slot
	// limiters use. Requests are spaced evenly, never bunched into a burst
	// that Airtable's one-second window would count: requests exactly
	// 200 ms apart still put six into some window once one arrives a few
	// milliseconds late (the bench saw two 429s at 100 %). The 4 % leaves
	// 42 ms per window: a request more than AirtableSlotTolerance past its
	// slot moves or retakes it, and the rest is for the network (at 97 %,
	// 21 ms was once too little: one request reached the bench's fake
	// 33 ms after its own proxy saw it).
	AirtableHeadroom = 0.96
	// AirtableSlotTolerance is how late a request may go after its slot.
	AirtableSlotTolerance = 10 * time.Millisecond

	// DefaultEventRetention keeps tracked events about 13 months
	// (GROUNDWORK_EVENT_RETENTION); older monthly partitions are dropped.
	DefaultEventRetention = 395 * 24 * time.Hour
	// EventPartitionsAhead is how many months of event partitions exist
	// ahead of the current one.
	EventPartitionsAhead = 3
	// DefaultEventPartitionsEvery is how often the EventPartitions schedule runs.
	DefaultEventPartitionsEvery = 24 * time.Hour
	// DefaultStalledEvery is how often the StalledCustomers schedule runs.
	DefaultStalledEvery = time.Hour
	// DefaultMailFrom is the sender of e-mails (GROUNDWORK_MAIL_FROM).
	DefaultMailFrom = "Groundwork <noreply@groundwork.localhost>"
	// DefaultStalledAfter calls a customer stalled after this long without
	// an event (GROUNDWORK_STALLED_AFTER).
	DefaultStalledAfter = 14 * 24 * time.Hour
	// DefaultRollupHourlyEvery and DefaultRollupDailyEvery are how often
	// the hourly and daily analytics rollups run
	// (GROUNDWORK_ROLLUP_HOURLY_EVERY, GROUNDWORK_ROLLUP_DAILY_EVERY).
	DefaultRollupHourlyEvery = 10 * time.Minute
	DefaultRollupDailyEvery  = time.Hour
	// RollupLateness is how far before its watermark a rollup recomputes,
	// folding in events that arrived late.
	RollupLateness = 48 * time.Hour
	// DefaultTemporalUIURL is the Temporal Web UI dead letters link to
	// (GROUNDWORK_TEMPORAL_UI_URL).
	DefaultTemporalUIURL = "http://localhost:8233"
	// DefaultWebhookDispatchEvery is how often each worker reads the
	// webhook outbox for messages to start delivering.
	DefaultWebhookDispatchEvery = time.Second
	// DefaultDeliveryConcurrency bounds the webhook deliveries one worker
	// makes at once.
	DefaultDeliveryConcurrency = 50
	// DefaultAssessmentConcurrency bounds the assessments one worker
	// scores at once (each takes a core for milliseconds).
	DefaultAssessmentConcurrency = 8
	// DefaultAnalyticsStreamEvery is the least time between two overviews
	// pushed on GET /v1/analytics/stream.
	DefaultAnalyticsStreamEvery = 2 * time.Second
)
