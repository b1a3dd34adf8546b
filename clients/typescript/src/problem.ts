import type { components } from "./schema.js";

/** One invalid field of a request, as the API names it. */
export type FieldError = components["schemas"]["FieldError"];

/** The RFC 9457 problem body every Groundwork error answers with. */
export type ProblemBody = components["schemas"]["Problem"];

/** The problem types the API document lists. */
export type ProblemType = ProblemBody["type"];

/** The slugs the API document lists: `validation_failed`, `not_found`, `run_closed`… */
export type ProblemSlug = ProblemType extends `https://groundwork.dev/problems/${infer S}` ? S : never;

/** A problem as this client builds it: the API's, or about:blank for an answer that was not one. */
type AnyProblem = Omit<ProblemBody, "type"> & { type: ProblemType | "about:blank" };

const problemBase = "https://groundwork.dev/problems/";

/**
 * An error answer of the Groundwork API, as an RFC 9457 problem.
 *
 * Switch on `slug` (the last segment of `type`, e.g. `validation_failed`,
 * `not_found`, `run_closed`, `rate_limited`): it is stable, unlike `title`
 * and `detail`, which are for people. `errors` names each invalid field of
 * a 422. A 429 (and a 503 when the API sends one) carries `retryAfter`,
 * the seconds to wait before trying again.
 */
export class GroundworkProblem extends Error {
  override readonly name = "GroundworkProblem";
  /** Stable URI of the problem type: https://groundwork.dev/problems/<slug>. */
  readonly type: ProblemType | "about:blank";
  /**
   * The last segment of `type`; "" for an answer that was not a problem
   * (a proxy's HTML 502). A newer API may send slugs this build's types do
   * not list yet.
   */
  readonly slug: ProblemSlug | "";
  readonly title: string;
  /** The HTTP status code. */
  readonly status: number;
  readonly detail?: string;
  readonly instance?: string;
  /** One entry per invalid field (empty when the problem names none). */
  readonly errors: FieldError[];
  /** Seconds until a retry may pass (Retry-After), when the API sent it. */
  readonly retryAfter?: number;
  /** The X-Request-ID of the answer: quote it when reporting a 500. */
  readonly requestId?: string;

  constructor(problem: AnyProblem, init: { retryAfter?: number; requestId?: string } = {}) {
    super(problem.detail ? `${problem.title}: ${problem.detail}` : problem.title);
    this.type = problem.type;
    this.slug = slugOf(problem.type);
    this.title = problem.title;
    this.status = problem.status;
    if (problem.detail !== undefined) this.detail = problem.detail;
    if (problem.instance !== undefined) this.instance = problem.instance;
    this.errors = problem.errors ?? [];
    if (init.retryAfter !== undefined) this.retryAfter = init.retryAfter;
    if (init.requestId !== undefined) this.requestId = init.requestId;
  }

  /**
   * The problem an error answer carries. An answer that is not a problem
   * (a proxy's HTML 502, an empty body) becomes one of type `about:blank`
   * with the status text as its title, slug "" and the body's start as
   * its detail.
   */
  static fromResponse(response: Response, body: unknown): GroundworkProblem {
    const init: { retryAfter?: number; requestId?: string } = {};
    const retryAfter = parseRetryAfter(response.headers.get("Retry-After"));
    if (retryAfter !== undefined) init.retryAfter = retryAfter;
    const requestId = response.headers.get("X-Request-ID");
    if (requestId) init.requestId = requestId;
    if (isProblemBody(body)) {
      return new GroundworkProblem(body, init);
    }
    const title = response.statusText || `HTTP ${response.status}`;
    const p: AnyProblem = { type: "about:blank", title, status: response.status };
    if (typeof body === "string" && body.trim() !== "") p.detail = body.trim().slice(0, 500);
    return new GroundworkProblem(p, init);
  }
}

/** True when err is a GroundworkProblem, and of that slug when one is given. */
export function isGroundworkProblem(err: unknown, slug?: ProblemSlug): err is GroundworkProblem {
  return err instanceof GroundworkProblem && (slug === undefined || err.slug === slug);
}

function slugOf(type: string): ProblemSlug | "" {
  if (type === "about:blank") return "";
  const trimmed = type.startsWith(problemBase) ? type.slice(problemBase.length) : type.replace(/[/#]+$/, "");
  return trimmed.slice(Math.max(trimmed.lastIndexOf("/"), trimmed.lastIndexOf("#")) + 1) as ProblemSlug;
}

function isProblemBody(v: unknown): v is ProblemBody {
  if (typeof v !== "object" || v === null) return false;
  const o = v as Record<string, unknown>;
  return typeof o.type === "string" && typeof o.title === "string" && typeof o.status === "number";
}

/** Retry-After as seconds: a number of seconds or an HTTP date. */
export function parseRetryAfter(v: string | null): number | undefined {
  if (v === null || v.trim() === "") return undefined;
  if (/^\d+$/.test(v.trim())) return Number(v.trim());
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, Math.ceil((at - Date.now()) / 1000));
}
