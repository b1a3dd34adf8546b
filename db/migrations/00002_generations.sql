-- +goose Up

-- generations holds each Generate run's answer: it can be tens of kilobytes,
-- too large to carry through workflow history.
CREATE TABLE generations (
    run_id           text PRIMARY KEY REFERENCES runs (id) ON DELETE CASCADE,
    owner_id         text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    template         text NOT NULL,
    template_version integer NOT NULL,
    provider         text NOT NULL,
    model            text NOT NULL,
    text             text NOT NULL,
    -- fields are the structured answer of templates that define them.
    fields           jsonb,
    warnings         text[] NOT NULL DEFAULT '{}',
    stop_reason      text NOT NULL DEFAULT '',
    input_tokens     bigint NOT NULL,
    output_tokens    bigint NOT NULL,
    cached_tokens    bigint NOT NULL,
    cost_usd         numeric(18, 9) NOT NULL,
    cache_hit        boolean NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now()
);

-- llm_cache keeps provider answers keyed by a SHA-256 of provider, model,
-- template version, rendered prompt and parameters, so a repeated request
-- costs nothing.
CREATE TABLE llm_cache (
    key           bytea PRIMARY KEY,
    provider      text NOT NULL,
    model         text NOT NULL,
    template      text NOT NULL,
    text          text NOT NULL,
    stop_reason   text NOT NULL DEFAULT '',
    input_tokens  bigint NOT NULL,
    output_tokens bigint NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL
);
CREATE INDEX llm_cache_expires_at_idx ON llm_cache (expires_at);

-- llm_calls is the usage and cost ledger: one row per provider call and per
-- cache hit. A call's row is written before the call is made and keyed by
-- run, attempt and position, so a crash mid-call leaves a row to settle and
-- a retried write never counts a call twice.
CREATE TABLE llm_calls (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    call_key      text NOT NULL UNIQUE,
    owner_id      text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- The ledger outlives the run it served.
    run_id        text REFERENCES runs (id) ON DELETE SET NULL,
    provider      text NOT NULL,
    model         text NOT NULL,
    outcome       text NOT NULL,
    input_tokens  bigint NOT NULL DEFAULT 0,
    output_tokens bigint NOT NULL DEFAULT 0,
    cached_tokens bigint NOT NULL DEFAULT 0,
    cost_usd      numeric(18, 9) NOT NULL DEFAULT 0,
    latency_ms    integer,
    error         text,
    started_at    timestamptz NOT NULL DEFAULT now(),
    finished_at   timestamptz
);
CREATE INDEX llm_calls_owner_started_idx ON llm_calls (owner_id, started_at);
CREATE INDEX llm_calls_run_id_idx ON llm_calls (run_id);

-- llm_token_buckets are the tokens-per-minute buckets every worker shares:
-- tokens is the level at updated_at; readers add the refill since.
CREATE TABLE llm_token_buckets (
    name       text PRIMARY KEY,
    tokens     double precision NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- +goose Down
DROP TABLE llm_token_buckets;
DROP TABLE llm_calls;
DROP TABLE llm_cache;
DROP TABLE generations;
