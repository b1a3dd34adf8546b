// End-to-end tests against a running Groundwork API (test/tsclient_test.go
// starts one on real Postgres and Temporal and sets the environment):
//   GROUNDWORK_API_URL      the API's origin
//   GROUNDWORK_TOKEN        an API key of a user
//   GROUNDWORK_OTHER_TOKEN  an API key of another user (for the 404 test)
// Without GROUNDWORK_API_URL these tests are skipped.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { describe, test } from "node:test";

import { createGroundworkClient, isGroundworkProblem, isRunOf, isTerminal, type GroundworkClient, type Run } from "@groundwork/client";

const baseUrl = process.env.GROUNDWORK_API_URL;
const token = process.env.GROUNDWORK_TOKEN;
const otherToken = process.env.GROUNDWORK_OTHER_TOKEN;
const skip = baseUrl && token ? false : "GROUNDWORK_API_URL and GROUNDWORK_TOKEN are not set";

/** One request the client made and the status it got. */
interface Exchange {
  method: string;
  path: string;
  headers: Headers;
  status?: number;
}

/**
 * A body that passes the stream's first event, then fails as a connection
 * cut mid-stream would.
 */
function cutAfterFirstEvent(body: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  const dec = new TextDecoder();
  const enc = new TextEncoder();
  let seen = "";
  return new ReadableStream({
    async pull(c) {
      const { value, done } = await reader.read();
      if (done) return c.close();
      seen += dec.decode(value, { stream: true });
      const end = seen.search(/\n\n(?!:)/);
      const firstEvent = seen.indexOf("event:");
      if (firstEvent >= 0 && end > firstEvent) {
        c.enqueue(enc.encode(seen.slice(0, end + 2)));
        await reader.cancel();
        c.error(new TypeError("network connection lost (simulated)"));
      }
    },
    cancel: () => reader.cancel(),
  });
}

/**
 * A client whose requests are recorded. failEvents makes every /events
 * request fail as a network error would; cutStreams cuts that many streams
 * after their first event.
 */
function recordingClient(opts: { failEvents?: boolean; cutStreams?: number } = {}): { client: GroundworkClient; log: Exchange[] } {
  let cuts = opts.cutStreams ?? 0;
  const log: Exchange[] = [];
  const client = createGroundworkClient({
    baseUrl: baseUrl!,
    // getToken is called before every request, as a refreshed JWT would be.
    getToken: async () => token!,
    fetch: async (req) => {
      const url = new URL(req.url);
      const ex: Exchange = { method: req.method, path: url.pathname, headers: new Headers(req.headers) };
      log.push(ex);
      if (opts.failEvents && url.pathname.endsWith("/events")) {
        throw new TypeError("fetch failed (simulated)");
      }
      const res = await fetch(req);
      ex.status = res.status;
      if (cuts > 0 && url.pathname.endsWith("/events") && res.ok && res.body) {
        cuts--;
        return new Response(cutAfterFirstEvent(res.body), { status: res.status, headers: res.headers });
      }
      return res;
    },
  });
  return { client, log };
}

function csvExport(name: string) {
  return {
    format: "csv" as const,
    filename: name,
    columns: ["name", "email", "score"],
    rows: [
      ["Acme", "ops@acme.test", 91],
      ["Globex", "=cmd()", 77],
    ],
  };
}

// One finished export shared by the tests that only read it.
let finished: Promise<Run> | undefined;
function finishedRun(client: GroundworkClient): Promise<Run> {
  finished ??= client.startExport(csvExport("shared")).then((r) => client.waitForRun(r.id));
  return finished;
}

describe("against the API", { skip }, () => {
  test("startExport + waitForRun over SSE", async () => {
    const { client, log } = recordingClient();
    const key = randomUUID();
    const started = await client.startExport(csvExport("leads"), { idempotencyKey: key });
    assert.equal(started.kind, "export");
    assert.match(started.id, /^export-/);
    // The same key and body answer the same run.
    const again = await client.startExport(csvExport("leads"), { idempotencyKey: key });
    assert.equal(again.id, started.id);
    // …and another body under the same key is a conflict.
    await assert.rejects(client.startExport(csvExport("other"), { idempotencyKey: key }), (e: unknown) =>
      isGroundworkProblem(e, "idempotency_conflict") && e.status === 409);

    const progress: Run[] = [];
    const run = await client.waitForRun(started.id, { onProgress: (r) => progress.push(r) });
    assert.equal(run.status, "succeeded", JSON.stringify(run));
    assert.ok(progress.length > 0, "onProgress was never called");
    assert.equal(progress.at(-1)!.status, "succeeded", "onProgress did not see the final run");
    for (let i = 1; i < progress.length; i++) {
      assert.ok(progress[i]!.progress.version >= progress[i - 1]!.progress.version, "progress versions went back");
    }
    assert.ok(isRunOf(run, "export"));
    const result = run.result;
    assert.equal(typeof result?.download_url, "string", JSON.stringify(run.result));
    assert.equal(result?.format, "csv");
    assert.equal(result?.rows, 2);

    // Streamed, not polled.
    assert.ok(log.some((e) => e.path === `/v1/runs/${started.id}/events` && e.status === 200));
    assert.ok(!log.some((e) => e.method === "GET" && e.path === `/v1/runs/${started.id}`), "waitForRun polled");

    // The signed link downloads the file without a token.
    const file = await fetch(result!.download_url!);
    assert.equal(file.status, 200);
    const text = await file.text();
    assert.match(text, /^name,email,score\r\nAcme,ops@acme\.test,91\r\n/);
    assert.match(text, /'=cmd\(\)/);
  });

  test("startExport with wait: the finished run in one round trip", async () => {
    const { client, log } = recordingClient();
    const run = await client.startExport(csvExport("waited"), { wait: 10 });
    assert.equal(run.status, "succeeded", JSON.stringify(run));
    assert.ok(isTerminal(run.status));
    assert.ok(run.kind === "export" && typeof run.result?.download_url === "string", JSON.stringify(run.result));
    assert.deepEqual(log.map((e) => `${e.method} ${e.path} ${e.status}`), ["POST /v1/exports 200"]);
    assert.equal(log[0]!.headers.get("Prefer"), "wait=10");
  });

  test("a cut stream resumes with Last-Event-ID", async () => {
    const { client, log } = recordingClient({ cutStreams: 1 });
    const started = await client.startExport(csvExport("resumed"));
    const progress: Run[] = [];
    const run = await client.waitForRun(started.id, { onProgress: (r) => progress.push(r) });
    assert.equal(run.status, "succeeded");
    const streams = log.filter((e) => e.path === `/v1/runs/${started.id}/events`);
    assert.equal(streams.length, 2, "one reconnection");
    assert.equal(streams[0]!.headers.get("Last-Event-ID"), null);
    const resumedFrom = streams[1]!.headers.get("Last-Event-ID");
    assert.equal(resumedFrom, String(progress[0]!.progress.version), "resumed from the first event's id");
    // Nothing already seen is sent again.
    const versions = progress.filter((r) => r.status !== "succeeded").map((r) => r.progress.version);
    assert.equal(new Set(versions).size, versions.length, `progress repeated: ${versions}`);
  });

  test("cancelRun of a new run", async () => {
    const { client } = recordingClient();
    const started = await client.startExport(csvExport("canceled"));
    try {
      const canceled = await client.cancelRun(started.id);
      assert.equal(canceled.id, started.id);
      const run = await client.waitForRun(started.id);
      assert.ok(run.status === "canceled" || run.status === "succeeded", run.status);
    } catch (err) {
      // The export may have finished before the cancel arrived.
      assert.ok(isGroundworkProblem(err, "run_closed"), String(err));
    }
  });

  test("waitForRun by polling (transport: poll)", async () => {
    const { client, log } = recordingClient();
    const started = await client.startExport(csvExport("polled"));
    const seen: Run[] = [];
    const run = await client.waitForRun(started.id, { transport: "poll", pollIntervalMs: 100, onProgress: (r) => seen.push(r) });
    assert.equal(run.status, "succeeded");
    assert.ok(seen.length > 0 && seen.at(-1)!.status === "succeeded", "onProgress did not see the final run");
    const polls = log.filter((e) => e.method === "GET" && e.path === `/v1/runs/${started.id}`);
    assert.ok(polls.length > 0);
    assert.ok(!log.some((e) => e.path.endsWith("/events")), "polling opened a stream");
    // After the first answer, every poll revalidates with the last ETag.
    for (const p of polls.slice(1)) assert.ok(p.headers.get("If-None-Match"), "a poll without If-None-Match");
    for (const p of polls) assert.ok(p.status === 200 || p.status === 304, `poll answered ${p.status}`);
  });

  test("waitForRun falls back to polling when the stream keeps failing", async () => {
    const { client, log } = recordingClient({ failEvents: true });
    const started = await client.startExport(csvExport("fallback"));
    const run = await client.waitForRun(started.id, { maxStreamFailures: 2, pollIntervalMs: 100 });
    assert.equal(run.status, "succeeded");
    assert.equal(log.filter((e) => e.path.endsWith("/events")).length, 2, "stream attempts");
    assert.ok(log.some((e) => e.method === "GET" && e.path === `/v1/runs/${started.id}` && e.status === 200));
  });

  test("an exception in onProgress rejects waitForRun", async () => {
    const { client } = recordingClient();
    const started = await client.startExport(csvExport("throws"));
    const boom = new TypeError("boom from onProgress");
    for (const transport of ["sse", "poll"] as const) {
      await assert.rejects(
        client.waitForRun(started.id, { transport, pollIntervalMs: 100, onProgress: () => { throw boom; } }),
        (e: unknown) => e === boom,
      );
    }
  });

  test("waitForRun rejects when aborted", async () => {
    const { client } = recordingClient();
    const started = await client.startExport(csvExport("aborted"));
    const ac = new AbortController();
    const waiting = client.waitForRun(started.id, { signal: ac.signal });
    ac.abort();
    await assert.rejects(waiting, (e: unknown) => e instanceof Error && e.name === "AbortError");
    await assert.rejects(client.waitForRun(started.id, { signal: AbortSignal.abort() }), { name: "AbortError" });
    await assert.rejects(client.waitForRun(started.id, { transport: "poll", signal: ac.signal }), { name: "AbortError" });
  });

  test("getRun revalidates with If-None-Match and keeps the run on 304", async () => {
    const { client, log } = recordingClient();
    const done = await finishedRun(client);
    const first = await client.getRun(done.id);
    const firstEx = log.at(-1)!;
    assert.equal(firstEx.status, 200);
    assert.equal(firstEx.headers.get("If-None-Match"), null);

    const second = await client.getRun(done.id);
    const secondEx = log.at(-1)!;
    assert.ok(secondEx.headers.get("If-None-Match"), "If-None-Match not sent");
    assert.equal(secondEx.status, 304);
    assert.deepEqual(second, first);

    // revalidate: false asks for the whole run again.
    const third = await client.getRun(done.id, { revalidate: false });
    assert.equal(log.at(-1)!.headers.get("If-None-Match"), null);
    assert.equal(log.at(-1)!.status, 200);
    assert.equal(third.id, done.id);
  });

  test("a 422 is a typed problem naming each field", async () => {
    const { client } = recordingClient();
    const err = await client
      .startExport({ format: "csv", filename: "ragged", columns: ["a", "b"], rows: [["1", "2"], ["3"]] })
      .then(() => assert.fail("a ragged table was accepted"), (e: unknown) => e);
    assert.ok(isGroundworkProblem(err, "validation_failed"), String(err));
    assert.equal(err.status, 422);
    assert.equal(err.type, "https://groundwork.dev/problems/validation_failed");
    assert.ok(err.title);
    assert.ok(err.errors.some((f) => f.field === "rows[1]" && f.message), JSON.stringify(err.errors));
  });

  test("another user's run is a 404", { skip: otherToken ? false : "GROUNDWORK_OTHER_TOKEN is not set" }, async () => {
    const { client } = recordingClient();
    const done = await finishedRun(client);
    const other = createGroundworkClient({ baseUrl: baseUrl!, token: otherToken! });
    const err = await other.getRun(done.id).catch((e: unknown) => e);
    assert.ok(isGroundworkProblem(err, "not_found"), String(err));
    assert.equal(err.status, 404);
    // waitForRun does not retry what retrying cannot fix.
    await assert.rejects(other.waitForRun(done.id), (e: unknown) => isGroundworkProblem(e, "not_found"));
    await assert.rejects(other.cancelRun(done.id), (e: unknown) => isGroundworkProblem(e, "not_found"));
  });

  test("listRuns pages through the caller's runs", async () => {
    const { client } = recordingClient();
    const done = await finishedRun(client);
    const all = await client.listRuns({ kind: "export" });
    assert.ok(all.runs.some((r) => r.id === done.id), "the finished run is not listed");
    assert.ok(all.runs.every((r) => r.kind === "export"));
    const page1 = await client.listRuns({ kind: "export", limit: 1 });
    assert.equal(page1.runs.length, 1);
    assert.ok(page1.next_cursor, "no next_cursor on a page of one");
    const page2 = await client.listRuns({ kind: "export", limit: 1, cursor: page1.next_cursor });
    assert.equal(page2.runs.length, 1);
    assert.notEqual(page2.runs[0]!.id, page1.runs[0]!.id);
    const succeeded = await client.listRuns({ status: "succeeded" });
    assert.ok(succeeded.runs.every((r) => r.status === "succeeded"));
  });

  test("cancelRun of a finished run is 409 run_closed", async () => {
    const { client } = recordingClient();
    const done = await finishedRun(client);
    const err = await client.cancelRun(done.id).catch((e: unknown) => e);
    assert.ok(isGroundworkProblem(err, "run_closed"), String(err));
    assert.equal(err.status, 409);
  });
});
