// The developer console served at /console: sign in with an API key, start
// any kind of run, follow it live, download its file and open it in the
// Temporal Web UI. It uses @groundwork/client as a frontend would, so the
// console is also the client's first browser user.
import {
  createGroundworkClient,
  GroundworkProblem,
  isGroundworkProblem,
  isTerminal,
  type GroundworkClient,
  type Run,
} from "../../typescript/src/index.js";

const keyStorage = "groundwork.console.apiKey";

function $<T extends HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`console: #${id} is missing from the page`);
  return el as T;
}

function meta(name: string): string {
  return document.querySelector<HTMLMetaElement>(`meta[name="${name}"]`)?.content ?? "";
}

let client: GroundworkClient | null = null;
// The run the panel follows; aborting it stops the previous wait.
let watching: AbortController | null = null;

/** Shows an error (a problem's title, detail and field errors) in the element. */
function showError(el: HTMLElement, err: unknown): void {
  el.replaceChildren();
  el.hidden = false;
  if (isGroundworkProblem(err)) {
    const head = document.createElement("strong");
    head.textContent = `${err.status} ${err.title}`;
    el.append(head);
    if (err.detail) el.append(`: ${err.detail}`);
    if (err.errors.length > 0) {
      const list = document.createElement("ul");
      for (const fe of err.errors) {
        const li = document.createElement("li");
        li.textContent = `${fe.field}: ${fe.message}`;
        list.append(li);
      }
      el.append(list);
    }
    if (err.requestId) el.append(` (request ${err.requestId})`);
    return;
  }
  el.textContent = err instanceof Error ? err.message : String(err);
}

function clearError(el: HTMLElement): void {
  el.hidden = true;
  el.replaceChildren();
}

async function signIn(key: string): Promise<void> {
  const c = createGroundworkClient({ baseUrl: location.origin, token: key });
  // A cheap authenticated call: a wrong key fails here, not on the first start.
  await c.listRuns({ limit: 1 });
  client = c;
  sessionStorage.setItem(keyStorage, key);
  $("signed-out").hidden = true;
  $("signed-in").hidden = false;
  await Promise.all([refreshRuns(), loadTemplates(), loadMappings()]);
}

function signOut(): void {
  watching?.abort();
  client = null;
  sessionStorage.removeItem(keyStorage);
  $("signed-in").hidden = true;
  $("signed-out").hidden = false;
  $<HTMLInputElement>("api-key").value = "";
}

function csvCells(line: string): string[] {
  return line.split(",").map((c) => c.trim());
}

function jsonObject(text: string, field: string): Record<string, unknown> {
  if (text.trim() === "") return {};
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new Error(`${field}: not valid JSON (${(e as Error).message})`);
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw new Error(`${field}: must be a JSON object`);
  return v as Record<string, unknown>;
}

function value(id: string): string {
  return $<HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement>(id).value;
}

/** Starts the run the selected form describes. */
async function start(c: GroundworkClient, kind: string): Promise<Run> {
  // One key per press of Start: a double click or a retried request
  // returns the same run instead of starting two.
  const idempotencyKey = crypto.randomUUID();
  switch (kind) {
    case "export": {
      const lines = value("export-rows").split("\n").filter((l) => l.trim() !== "");
      const filename = value("export-filename").trim();
      return c.startExport(
        {
          format: value("export-format") as "csv" | "pdf" | "docx",
          ...(filename ? { filename } : {}),
          columns: csvCells(value("export-columns")),
          rows: lines.map(csvCells),
        },
        { idempotencyKey },
      );
    }
    case "research": {
      const domain = value("research-domain").trim();
      const pages = Number(value("research-pages"));
      return c.startResearch(
        { company: value("research-company").trim(), ...(domain ? { domain } : {}), ...(pages > 0 ? { max_pages: pages } : {}) },
        { idempotencyKey },
      );
    }
    case "generation":
      return c.startGeneration(
        { template: value("generation-template"), inputs: jsonObject(value("generation-inputs"), "inputs") },
        { idempotencyKey },
      );
    case "assessment":
      return c.startAssessment(
        {
          customer_id: value("assessment-customer").trim(),
          definition: value("assessment-definition").trim(),
          answers: jsonObject(value("assessment-answers"), "answers"),
        },
        { idempotencyKey },
      );
    case "airtable": {
      const { data, error, response } = await c.api.POST("/v1/airtable-syncs", {
        body: { mapping_id: value("airtable-mapping"), dry_run: $<HTMLInputElement>("airtable-dry-run").checked },
        params: { header: { "Idempotency-Key": idempotencyKey } },
      });
      if (error !== undefined || data === undefined) throw GroundworkProblem.fromResponse(response, error);
      return data as Run;
    }
  }
  throw new Error(`unknown kind ${kind}`);
}

function temporalLink(id: string): string {
  const ui = meta("groundwork-temporal-ui").replace(/\/+$/, "");
  const ns = meta("groundwork-temporal-namespace") || "default";
  return `${ui}/namespaces/${encodeURIComponent(ns)}/workflows/${encodeURIComponent(id)}`;
}

/** Renders a run into the run panel. */
function render(run: Run): void {
  $("run").hidden = false;
  $("run-id").textContent = run.id;
  $("run-kind").textContent = run.kind;
  const status = $("run-status");
  status.textContent = run.status;
  status.className = `status status-${run.status}`;
  $<HTMLProgressElement>("run-progress").value = run.status === "succeeded" ? 100 : run.progress.percent;
  $("run-stage").textContent = [run.progress.stage, run.progress.message].filter(Boolean).join(": ");
  $<HTMLAnchorElement>("run-temporal").href = temporalLink(run.id);
  const result = run.result as Record<string, unknown> | null;
  const download = $<HTMLAnchorElement>("run-download");
  const url = typeof result?.download_url === "string" ? result.download_url : "";
  download.hidden = url === "";
  if (url) {
    download.href = url;
    download.textContent = `Download ${typeof result?.filename === "string" ? result.filename : "file"}`;
  }
  $("run-text").textContent = run.progress.text ?? "";
  $("run-result").textContent = result ? JSON.stringify(result, null, 2) : "";
  const err = $("run-error");
  err.hidden = !run.error;
  err.textContent = run.error ? `${run.error.type}: ${run.error.message}` : "";
  $<HTMLButtonElement>("run-cancel").hidden = isTerminal(run.status);
}

/** Shows a run and follows it live (SSE, falling back to polling) until it ends. */
async function watch(c: GroundworkClient, run: Run): Promise<void> {
  watching?.abort();
  const ctl = new AbortController();
  watching = ctl;
  render(run);
  clearError($("run-failure"));
  if (isTerminal(run.status)) return;
  try {
    const done = await c.waitForRun(run.id, { signal: ctl.signal, onProgress: (r) => watching === ctl && render(r) });
    if (watching === ctl) render(done);
    await refreshRuns();
  } catch (err) {
    if (!ctl.signal.aborted) showError($("run-failure"), err);
  }
}

async function refreshRuns(): Promise<void> {
  if (!client) return;
  const body = $("runs-body");
  try {
    const list = await client.listRuns({ limit: 20 });
    body.replaceChildren(
      ...list.runs.map((r) => {
        const tr = document.createElement("tr");
        tr.dataset.runId = r.id;
        for (const text of [r.id, r.kind, r.status, new Date(r.created_at).toLocaleString()]) {
          const td = document.createElement("td");
          td.textContent = text;
          tr.append(td);
        }
        tr.addEventListener("click", () => client && void watch(client, r));
        return tr;
      }),
    );
    clearError($("runs-failure"));
  } catch (err) {
    showError($("runs-failure"), err);
  }
}

async function loadTemplates(): Promise<void> {
  if (!client) return;
  const { data } = await client.api.GET("/v1/generations/templates");
  const select = $<HTMLSelectElement>("generation-template");
  select.replaceChildren(
    ...(data?.templates ?? []).map((t) => {
      const o = document.createElement("option");
      o.value = t.name;
      o.textContent = t.title ? `${t.title} (${t.name})` : t.name;
      o.dataset.example = JSON.stringify(t.example ?? {}, null, 2);
      return o;
    }),
  );
  fillExample();
}

function fillExample(): void {
  const selected = $<HTMLSelectElement>("generation-template").selectedOptions[0];
  if (selected?.dataset.example) $<HTMLTextAreaElement>("generation-inputs").value = selected.dataset.example;
}

async function loadMappings(): Promise<void> {
  if (!client) return;
  const { data } = await client.api.GET("/v1/airtable/mappings");
  const mappings = data?.mappings ?? [];
  $<HTMLSelectElement>("airtable-mapping").replaceChildren(
    ...mappings.map((m) => {
      const o = document.createElement("option");
      o.value = m.id;
      o.textContent = m.name;
      return o;
    }),
  );
}

function showForm(kind: string): void {
  for (const form of document.querySelectorAll<HTMLElement>("[data-kind]")) form.hidden = form.dataset.kind !== kind;
}

function init(): void {
  $<HTMLFormElement>("sign-in").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const failure = $("sign-in-failure");
    clearError(failure);
    signIn($<HTMLInputElement>("api-key").value.trim()).catch((err) => showError(failure, err));
  });
  $("sign-out").addEventListener("click", signOut);
  const kind = $<HTMLSelectElement>("kind");
  kind.addEventListener("change", () => showForm(kind.value));
  showForm(kind.value);
  $("generation-template").addEventListener("change", fillExample);
  $<HTMLFormElement>("start").addEventListener("submit", (ev) => {
    ev.preventDefault();
    if (!client) return;
    const c = client;
    const failure = $("start-failure");
    clearError(failure);
    const button = $<HTMLButtonElement>("start-button");
    button.disabled = true;
    start(c, kind.value)
      .then((run) => {
        void refreshRuns();
        return watch(c, run);
      })
      .catch((err) => showError(failure, err))
      .finally(() => (button.disabled = false));
  });
  $("runs-refresh").addEventListener("click", () => void refreshRuns());
  $("run-cancel").addEventListener("click", () => {
    const id = $("run-id").textContent;
    if (client && id) client.cancelRun(id).then(render, (err) => showError($("run-failure"), err));
  });
  const saved = sessionStorage.getItem(keyStorage);
  if (saved) signIn(saved).catch(() => signOut());
}

init();
