import createClient, { type Client, type Middleware } from "openapi-fetch";

import { GroundworkProblem } from "./problem.js";
import type { components, operations, paths } from "./schema.js";
import { readSSE } from "./sse.js";

/** A run: one durable job (export, research, generation, assessment, Airtable sync). */
export type Run = components["schemas"]["Run"];
export type RunStatus = Run["status"];
export type RunKind = Run["kind"];
export type RunProgress = components["schemas"]["RunProgress"];
export type ExportRequest = components["schemas"]["Export"];
export type ResearchRequest = components["schemas"]["ResearchRequest"];
export type GenerateRequest = components["schemas"]["GenerateRequest"];
export type AssessmentRequest = components["schemas"]["AssessmentRequest"];
export type ListRunsParams = NonNullable<operations["list-runs"]["parameters"]["query"]>;
export type RunList = Omit<components["schemas"]["ListRunsOutputBody"], "runs"> & { runs: Run[] };

/** One event of GET /v1/runs/{id}/events, as the document describes it. */
export type RunEvent = operations["run-events"]["responses"][200]["content"]["text/event-stream"][number];

/** A run of one kind, its result typed for that kind (the document's Run is a oneOf told apart by `kind`). */
export type RunOf<K extends RunKind> = Extract<Run, { kind: K }>;

/** The result of a succeeded run, per kind. */
export type RunResults = { [K in RunKind]: NonNullable<RunOf<K>["result"]> };

/**
 * Narrows a run to its kind, so `result` has that kind's type. A plain
 * `if (run.kind === "export") run.result?.download_url` narrows too; this
 * reads better where the kind is a variable.
 */
export function isRunOf<K extends RunKind>(run: Run, kind: K): run is RunOf<K> {
  return run.kind === kind;
}

/** The statuses a run ends in; waitForRun resolves at the first of them. */
export const TERMINAL_STATUSES: readonly RunStatus[] = ["succeeded", "failed", "canceled", "timed_out"];

export function isTerminal(status: RunStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

export interface GroundworkClientOptions {
  /** The API's origin, e.g. https://api.groundwork.example (no /v1). */
  baseUrl: string;
  /** A fixed bearer token: an API key (gw_…) or a JWT. */
  token?: string;
  /**
   * Called before every request for the bearer token (a JWT the identity
   * provider refreshes, e.g. Supabase's session.access_token). Wins over
   * `token`.
   */
  getToken?: () => string | null | undefined | Promise<string | null | undefined>;
  /** A fetch to use instead of globalThis.fetch (tests, instrumentation, Next.js options). */
  fetch?: (request: Request) => Promise<Response>;
  /** Headers sent with every request. */
  headers?: Record<string, string>;
}

export interface RequestOptions {
  signal?: AbortSignal;
}

export interface StartOptions extends RequestOptions {
  /** The same key and body from the same user returns the same run (24 h). */
  idempotencyKey?: string;
  /**
   * Seconds (at most 10) the API may hold the request for the run to end
   * (`Prefer: wait=N`): a run that ends in time comes back finished, with
   * its result, in one round trip; otherwise the run comes back as started.
   * Check `isTerminal(run.status)` before waiting with waitForRun.
   */
  wait?: number;
}

export interface GetRunOptions extends RequestOptions {
  /**
   * Revalidate the last answer for this run with If-None-Match (default
   * true): a 304 costs headers only and returns the run kept from before.
   */
  revalidate?: boolean;
}

export interface WaitForRunOptions extends RequestOptions {
  /**
   * Called with the run at every change: each progress event of the
   * stream, or each poll that found something new (200, not 304), and
   * once with the final run. An exception it throws rejects waitForRun.
   */
  onProgress?: (run: Run) => void;
  /** Polling interval when polling (default 1000 ms). */
  pollIntervalMs?: number;
  /**
   * "sse" (default): follow GET /v1/runs/{id}/events, reconnecting with
   * Last-Event-ID, and poll once the stream failed `maxStreamFailures`
   * times in a row. "poll": only poll GET /v1/runs/{id} with If-None-Match.
   */
  transport?: "sse" | "poll";
  /** Consecutive stream failures before falling back to polling (default 3). */
  maxStreamFailures?: number;
}

export interface GroundworkClient {
  /** The typed openapi-fetch client, for every other route of the document. */
  readonly api: Client<paths>;
  startExport(body: ExportRequest, options?: StartOptions): Promise<Run>;
  startResearch(body: ResearchRequest, options?: StartOptions): Promise<Run>;
  startGeneration(body: GenerateRequest, options?: StartOptions): Promise<Run>;
  startAssessment(body: AssessmentRequest, options?: StartOptions): Promise<Run>;
  getRun(id: string, options?: GetRunOptions): Promise<Run>;
  listRuns(params?: ListRunsParams, options?: RequestOptions): Promise<RunList>;
  cancelRun(id: string, options?: RequestOptions): Promise<Run>;
  /**
   * Resolves with the run once it ended (succeeded, failed, canceled or
   * timed_out: check `status`); rejects with the signal's reason when
   * aborted, or with a GroundworkProblem the API answered that retrying
   * cannot fix (404, 401…).
   */
  waitForRun(id: string, options?: WaitForRunOptions): Promise<Run>;
}

/** Runs remembered for If-None-Match (most recently used last). */
const runCacheSize = 256;

export function createGroundworkClient(options: GroundworkClientOptions): GroundworkClient {
  const clientOptions: Parameters<typeof createClient<paths>>[0] = { baseUrl: options.baseUrl };
  if (options.fetch) clientOptions.fetch = options.fetch;
  if (options.headers) clientOptions.headers = options.headers;
  const api = createClient<paths>(clientOptions);
  const auth: Middleware = {
    async onRequest({ request }) {
      const token = options.getToken ? await options.getToken() : options.token;
      if (token) request.headers.set("Authorization", `Bearer ${token}`);
      return request;
    },
  };
  api.use(auth);

  const runCache = new Map<string, { etag: string; run: Run }>();
  const remember = (id: string, etag: string | null, run: Run) => {
    runCache.delete(id);
    if (!etag) return;
    runCache.set(id, { etag, run });
    if (runCache.size > runCacheSize) {
      const oldest = runCache.keys().next();
      if (!oldest.done) runCache.delete(oldest.value);
    }
  };

  const startHeaders = (o: StartOptions) => {
    const h: { "Idempotency-Key"?: string; Prefer?: string } = {};
    if (o.idempotencyKey !== undefined) h["Idempotency-Key"] = o.idempotencyKey;
    if (o.wait !== undefined && o.wait > 0) h.Prefer = `wait=${Math.min(10, Math.ceil(o.wait))}`;
    return h;
  };

  /** The run, and whether the API sent it (false: a 304 kept the last one). */
  async function fetchRun(id: string, o: GetRunOptions = {}): Promise<{ run: Run; fresh: boolean }> {
    const cached = o.revalidate === false ? undefined : runCache.get(id);
    const r = await api.GET("/v1/runs/{id}", {
      params: { path: { id }, header: cached ? { "If-None-Match": cached.etag } : undefined },
      signal: o.signal,
    });
    if (r.response.status === 304 && cached) {
      // Most recently used last.
      runCache.delete(id);
      runCache.set(id, cached);
      return { run: cached.run, fresh: false };
    }
    const run = unwrap(r);
    remember(id, r.response.headers.get("ETag"), run);
    return { run, fresh: true };
  }

  async function poll(id: string, o: WaitForRunOptions): Promise<Run> {
    const interval = o.pollIntervalMs ?? 1000;
    for (;;) {
      o.signal?.throwIfAborted();
      let delay = interval;
      try {
        const { run, fresh } = await fetchRun(id, o.signal ? { signal: o.signal } : {});
        if (fresh) notify(o.onProgress, run);
        if (isTerminal(run.status)) return run;
      } catch (err) {
        if (o.signal?.aborted) throw o.signal.reason;
        if (err instanceof CallbackError) throw err.cause;
        if (err instanceof GroundworkProblem) {
          if (!retryable(err.status)) throw err;
          if (err.retryAfter !== undefined) delay = Math.max(delay, err.retryAfter * 1000);
        } else if (!(err instanceof TypeError)) {
          throw err; // not a network failure (fetch rejects with TypeError)
        }
      }
      await sleep(delay, o.signal);
    }
  }

  async function stream(id: string, o: WaitForRunOptions): Promise<Run | undefined> {
    const maxFailures = o.maxStreamFailures ?? 3;
    let lastEventId: string | undefined;
    let failures = 0;
    let reconnectMs: number | undefined;
    let lastData: string | undefined;
    while (failures < maxFailures) {
      o.signal?.throwIfAborted();
      let received = false;
      let retryAfter: number | undefined;
      try {
        const r = await api.GET("/v1/runs/{id}/events", {
          params: {
            path: { id },
            header: lastEventId === undefined ? undefined : { "Last-Event-ID": lastEventId },
          },
          headers: { Accept: "text/event-stream" },
          parseAs: "stream",
          signal: o.signal,
        });
        if (!r.response.ok || !r.data) {
          const p = GroundworkProblem.fromResponse(r.response, r.error);
          // The user's stream slots are taken: polling costs no slot.
          if (p.slug === "too_many_streams") return undefined;
          if (!retryable(p.status)) throw p;
          retryAfter = p.retryAfter;
        } else {
          for await (const msg of readSSE(r.data)) {
            if (msg.retry !== undefined) reconnectMs = msg.retry;
            if (msg.id !== undefined) lastEventId = msg.id;
            if (msg.event !== "progress" && msg.event !== "done" && msg.event !== "error") continue; // a newer API's
            const ev = { event: msg.event, data: JSON.parse(msg.data) } as RunEvent;
            if (ev.event === "progress") {
              received = true;
              lastData = msg.data;
              notify(o.onProgress, ev.data);
            } else if (ev.event === "done") {
              // The final state, unless its progress event just said it.
              if (msg.data !== lastData) notify(o.onProgress, ev.data);
              return ev.data;
            } else if (ev.event === "error") {
              break; // the API could not read the run (ev.data is a Problem): reconnect
            }
          }
        }
      } catch (err) {
        if (o.signal?.aborted) throw o.signal.reason;
        if (err instanceof CallbackError) throw err.cause;
        if (err instanceof GroundworkProblem) throw err;
        // A network failure, a cut stream or a garbled event: reconnect.
      }
      // A stream that delivered events before it was cut has just failed once.
      failures = received ? 1 : failures + 1;
      if (failures >= maxFailures) break;
      const backoff = Math.min(250 * 2 ** (failures - 1), 5000);
      await sleep(Math.max(backoff, reconnectMs ?? 0, (retryAfter ?? 0) * 1000), o.signal);
    }
    return undefined;
  }

  return {
    api,
    async startExport(body, o = {}) {
      return unwrap(await api.POST("/v1/exports", { body, params: { header: startHeaders(o) }, signal: o.signal }));
    },
    async startResearch(body, o = {}) {
      return unwrap(await api.POST("/v1/research", { body, params: { header: startHeaders(o) }, signal: o.signal }));
    },
    async startGeneration(body, o = {}) {
      return unwrap(await api.POST("/v1/generations", { body, params: { header: startHeaders(o) }, signal: o.signal }));
    },
    async startAssessment(body, o = {}) {
      return unwrap(await api.POST("/v1/assessments", { body, params: { header: startHeaders(o) }, signal: o.signal }));
    },
    async getRun(id, o = {}) {
      return (await fetchRun(id, o)).run;
    },
    async listRuns(params = {}, o = {}) {
      const list = unwrap(await api.GET("/v1/runs", { params: { query: params }, signal: o.signal }));
      return { ...list, runs: list.runs ?? [] };
    },
    async cancelRun(id, o = {}) {
      return unwrap(await api.POST("/v1/runs/{id}/cancel", { params: { path: { id } }, signal: o.signal }));
    },
    async waitForRun(id, o = {}) {
      o.signal?.throwIfAborted();
      if ((o.transport ?? "sse") === "sse") {
        const run = await stream(id, o);
        if (run) return run;
      }
      return poll(id, o);
    },
  };
}

/** The data of a successful answer; a GroundworkProblem for any other. */
function unwrap<T>(r: { data?: T; error?: unknown; response: Response }): T {
  if (r.response.ok && r.data !== undefined) return r.data;
  throw GroundworkProblem.fromResponse(r.response, r.error);
}

/** Statuses a later attempt may get past. */
function retryable(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/** An error thrown by the caller's onProgress, passed through untouched. */
class CallbackError extends Error {
  constructor(override readonly cause: unknown) {
    super("onProgress threw");
  }
}

function notify(cb: ((run: Run) => void) | undefined, run: Run) {
  if (!cb) return;
  try {
    cb(run);
  } catch (err) {
    throw new CallbackError(err);
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const done = () => {
      signal?.removeEventListener("abort", abort);
      resolve();
    };
    const abort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", abort, { once: true });
  });
}
