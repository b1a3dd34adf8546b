// Unit tests of the event-stream reader and the problem type: no server.
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { createGroundworkClient, GroundworkProblem, isGroundworkProblem, parseRetryAfter, readSSE, type SSEMessage } from "@groundwork/client";

function streamOf(chunks: string[]): ReadableStream<Uint8Array> {
  const enc = new TextEncoder();
  return new ReadableStream({
    start(c) {
      for (const ch of chunks) c.enqueue(enc.encode(ch));
      c.close();
    },
  });
}

async function collect(chunks: string[]): Promise<SSEMessage[]> {
  const out: SSEMessage[] = [];
  for await (const m of readSSE(streamOf(chunks))) out.push(m);
  return out;
}

describe("readSSE", () => {
  test("events, ids, comments and multi-line data", async () => {
    const msgs = await collect([
      ": keep-alive\n\n",
      "id: 3\nevent: progress\ndata: {\"a\":1}\n\n",
      "data: line one\ndata: line two\n\n",
      "event: done\nid: 4\ndata: {}\nretry: 1500\n\n",
    ]);
    assert.deepEqual(msgs, [
      { event: "progress", data: '{"a":1}', id: "3" },
      { event: "message", data: "line one\nline two" },
      { event: "done", data: "{}", id: "4", retry: 1500 },
    ]);
  });

  test("CRLF and CR line ends, a BOM, chunks split anywhere", async () => {
    const text = "\uFEFFevent: progress\r\nid: 1\r\ndata: x\r\n\r\nevent: done\rdata: y\r\r";
    const chunks: string[] = [];
    for (let i = 0; i < text.length; i += 3) chunks.push(text.slice(i, i + 3));
    assert.deepEqual(await collect(chunks), [
      { event: "progress", data: "x", id: "1" },
      { event: "done", data: "y" },
    ]);
  });

  test("multi-byte characters split across chunks", async () => {
    const enc = new TextEncoder();
    const bytes = enc.encode("data: Grüße — 日本\n\n");
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        for (let i = 0; i < bytes.length; i++) c.enqueue(bytes.slice(i, i + 1));
        c.close();
      },
    });
    const out: SSEMessage[] = [];
    for await (const m of readSSE(body)) out.push(m);
    assert.deepEqual(out, [{ event: "message", data: "Grüße — 日本" }]);
  });

  test("an unfinished event at the end of the stream is dropped", async () => {
    assert.deepEqual(await collect(["event: done\ndata: {}\n"]), []);
  });
});

describe("GroundworkProblem", () => {
  test("a 429 exposes retryAfter and the slug", async () => {
    const client = createGroundworkClient({
      baseUrl: "http://groundwork.invalid",
      token: "gw_test",
      fetch: async (req) => {
        assert.equal(req.headers.get("Authorization"), "Bearer gw_test");
        return new Response(
          JSON.stringify({
            type: "https://groundwork.dev/problems/rate_limited",
            title: "Too Many Requests",
            status: 429,
            detail: "retry after the number of seconds in Retry-After",
          }),
          { status: 429, headers: { "Content-Type": "application/problem+json", "Retry-After": "7", "X-Request-ID": "req-1" } },
        );
      },
    });
    const err = await client.getRun("export-x").then(
      () => assert.fail("getRun resolved"),
      (e: unknown) => e,
    );
    assert.ok(isGroundworkProblem(err, "rate_limited"), String(err));
    assert.equal(err.status, 429);
    assert.equal(err.retryAfter, 7);
    assert.equal(err.requestId, "req-1");
    assert.deepEqual(err.errors, []);
    assert.ok(err instanceof Error);
  });

  test("an answer that is not a problem (a proxy's 502)", async () => {
    const client = createGroundworkClient({
      baseUrl: "http://groundwork.invalid",
      fetch: async () => new Response("<html>Bad Gateway</html>", { status: 502, statusText: "Bad Gateway", headers: { "Content-Type": "text/html" } }),
    });
    const err = await client.listRuns().catch((e: unknown) => e);
    assert.ok(err instanceof GroundworkProblem);
    assert.equal(err.status, 502);
    assert.equal(err.slug, "");
    assert.equal(err.type, "about:blank");
    assert.equal(err.title, "Bad Gateway");
  });

  test("Retry-After as an HTTP date", () => {
    const at = new Date(Date.now() + 30_000).toUTCString();
    const s = parseRetryAfter(at);
    assert.ok(s !== undefined && s >= 28 && s <= 31, String(s));
    assert.equal(parseRetryAfter(null), undefined);
  });
});
