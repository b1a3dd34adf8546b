-- name: GenerationInsert :one
-- GenerationInsert stores a run's answer once; a retried insert returns the
-- row the first attempt stored.
WITH ins AS (
    INSERT INTO generations (run_id, owner_id, template, template_version, provider, model, text, fields,
                             warnings, stop_reason, input_tokens, output_tokens, cached_tokens, cost_usd, cache_hit)
    VALUES (@run_id, @owner_id, @template, @template_version, @provider, @model, @text, @fields,
            @warnings, @stop_reason, @input_tokens, @output_tokens, @cached_tokens, @cost_usd, @cache_hit)
    ON CONFLICT (run_id) DO NOTHING
    RETURNING *
)
SELECT * FROM ins
UNION ALL
SELECT * FROM generations WHERE run_id = @run_id AND NOT EXISTS (SELECT 1 FROM ins);

-- name: GenerationGet :one
SELECT * FROM generations WHERE run_id = @run_id;

-- name: GenerationDelete :exec
DELETE FROM generations WHERE run_id = @run_id;

-- name: LLMCacheGet :one
-- LLMCacheGet returns the first fresh entry among keys, in the order given.
SELECT c.* FROM llm_cache c
JOIN unnest(@keys::bytea[]) WITH ORDINALITY AS k(key, ord) ON c.key = k.key
WHERE c.expires_at > @now
ORDER BY k.ord
LIMIT 1;

-- name: LLMCachePut :exec
INSERT INTO llm_cache (key, provider, model, template, text, stop_reason, input_tokens, output_tokens, created_at, expires_at)
VALUES (@key, @provider, @model, @template, @text, @stop_reason, @input_tokens, @output_tokens, @now, @expires_at)
ON CONFLICT (key) DO UPDATE
SET text = excluded.text, stop_reason = excluded.stop_reason, input_tokens = excluded.input_tokens,
    output_tokens = excluded.output_tokens, created_at = excluded.created_at, expires_at = excluded.expires_at;

-- name: LLMCacheDeleteExpired :execrows
DELETE FROM llm_cache WHERE expires_at <= @now;

-- name: LLMCallStart :exec
-- LLMCallStart records a call before it is made; repeating it is a no-op.
INSERT INTO llm_calls (call_key, owner_id, run_id, provider, model, outcome, input_tokens, started_at)
VALUES (@call_key, @owner_id, @run_id, @provider, @model, 'started', @input_tokens, @started_at)
ON CONFLICT (call_key) DO NOTHING;

-- name: LLMCallFinish :exec
-- LLMCallFinish settles a started call once.
UPDATE llm_calls
SET outcome = @outcome, input_tokens = @input_tokens, output_tokens = @output_tokens, cached_tokens = @cached_tokens,
    cost_usd = @cost_usd, latency_ms = @latency_ms, error = sqlc.narg(error), finished_at = @finished_at
WHERE call_key = @call_key AND outcome = 'started';

-- name: LLMCallRecord :exec
-- LLMCallRecord writes a finished ledger row (a cache hit) once.
INSERT INTO llm_calls (call_key, owner_id, run_id, provider, model, outcome, input_tokens, output_tokens,
                       cached_tokens, cost_usd, latency_ms, started_at, finished_at)
VALUES (@call_key, @owner_id, @run_id, @provider, @model, @outcome, @input_tokens, @output_tokens,
        @cached_tokens, @cost_usd, @latency_ms, @started_at, @started_at)
ON CONFLICT (call_key) DO NOTHING;

-- name: LLMCallsUnsettled :many
-- LLMCallsUnsettled lists a run's calls that a crashed attempt left open.
SELECT * FROM llm_calls WHERE run_id = @run_id AND outcome = 'started' ORDER BY id;

-- name: LLMTokensUsedSince :one
-- LLMTokensUsedSince sums what counts against a user's token budget.
SELECT coalesce(sum(input_tokens + output_tokens), 0)::bigint
FROM llm_calls WHERE owner_id = @owner_id AND started_at >= @since;

-- name: LLMUsageSummary :many
SELECT provider, model,
       count(*) FILTER (WHERE outcome <> 'cache_hit')::bigint AS calls,
       count(*) FILTER (WHERE outcome = 'cache_hit')::bigint AS cache_hits,
       count(*) FILTER (WHERE outcome NOT IN ('ok', 'cache_hit'))::bigint AS failed_calls,
       coalesce(sum(input_tokens), 0)::bigint AS input_tokens,
       coalesce(sum(output_tokens), 0)::bigint AS output_tokens,
       coalesce(sum(cached_tokens), 0)::bigint AS cached_tokens,
       coalesce(sum(cost_usd), 0)::numeric(18, 9) AS cost_usd
FROM llm_calls
WHERE owner_id = @owner_id AND started_at >= @from_time AND started_at < @to_time
GROUP BY provider, model
ORDER BY provider, model;
