-- +goose Up

-- customers are a workspace's accounts. One key column (id) and updated_at,
-- so an Airtable mapping can sync the table (shared, with workspace_id as
-- its workspace column). Activity counters live in customer_event_totals
-- and customer_activity_daily, so ingest never rewrites this row and never
-- looks like an edit to a sync.
CREATE TABLE customers (
    id            text PRIMARY KEY DEFAULT ('cus_' || replace(gen_random_uuid()::text, '-', '')),
    workspace_id  text NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    external_id   text CHECK (length(external_id) BETWEEN 1 AND 255),
    name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    domain        text,
    stage         text NOT NULL DEFAULT 'onboarding'
                  CHECK (stage IN ('onboarding', 'adoption', 'expansion', 'renewal', 'churned')),
    owner_user_id text,
    custom_fields jsonb NOT NULL DEFAULT '{}',
    started_at    timestamptz NOT NULL DEFAULT now(),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (workspace_id, external_id)
);
CREATE INDEX customers_workspace_idx ON customers (workspace_id, id DESC);
CREATE INDEX customers_updated_idx ON customers (updated_at);

-- events are tracked customer activity, range-partitioned by month on
-- occurred_at. The EventPartitions schedule creates partitions ahead and
-- drops those past GROUNDWORK_EVENT_RETENTION. Uniqueness of a client's
-- event ID cannot be a constraint here (it would have to include
-- occurred_at), so event_keys holds it.
CREATE TABLE events (
    workspace_id text NOT NULL,
    customer_id  text NOT NULL,
    id           text NOT NULL,
    type         text NOT NULL,
    occurred_at  timestamptz NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT now(),
    properties   jsonb
) PARTITION BY RANGE (occurred_at);
CREATE INDEX events_customer_idx ON events (customer_id, occurred_at);
CREATE INDEX events_workspace_idx ON events (workspace_id, occurred_at);
-- The rollups read every workspace's events of a window; a BRIN index
-- costs ingest almost nothing on rows that arrive roughly in time order.
CREATE INDEX events_occurred_brin ON events USING brin (occurred_at);

-- event_keys makes ingest idempotent: an event whose (workspace, id) is
-- here was stored before and is neither stored nor counted again.
CREATE TABLE event_keys (
    workspace_id text NOT NULL,
    id           text NOT NULL,
    occurred_at  timestamptz NOT NULL,
    PRIMARY KEY (workspace_id, id)
);
CREATE INDEX event_keys_occurred_idx ON event_keys (occurred_at);

-- customer_event_totals counts each customer's events by type, all time:
-- what "at least N events of type T" milestones are checked against.
CREATE TABLE customer_event_totals (
    customer_id text NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    type        text NOT NULL,
    events      bigint NOT NULL,
    last_at     timestamptz NOT NULL,
    PRIMARY KEY (customer_id, type)
);

-- customer_activity is each customer's last activity and event count.
CREATE TABLE customer_activity (
    customer_id      text PRIMARY KEY REFERENCES customers (id) ON DELETE CASCADE,
    last_activity_at timestamptz NOT NULL,
    events           bigint NOT NULL
);

-- customer_activity_daily counts each customer's events by UTC day and
-- type: the engagement score, trends and timeseries read it.
CREATE TABLE customer_activity_daily (
    customer_id  text NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    day          date NOT NULL,
    type         text NOT NULL,
    workspace_id text NOT NULL,
    events       integer NOT NULL,
    PRIMARY KEY (customer_id, day, type)
);
-- customer_id included: active customers are counted from the index alone.
CREATE INDEX customer_activity_daily_workspace_idx ON customer_activity_daily (workspace_id, day) INCLUDE (customer_id);

-- milestones are a workspace's milestone definitions, in position order.
CREATE TABLE milestones (
    id           text PRIMARY KEY,
    workspace_id text NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name         text NOT NULL,
    position     integer NOT NULL,
    due_days     integer CHECK (due_days >= 0),
    rule_kind    text NOT NULL CHECK (rule_kind IN ('manual', 'events', 'assessment')),
    event_type   text,
    min_events   integer,
    definition   text,
    category     text,
    min_score    double precision,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (workspace_id, name),
    CHECK (rule_kind <> 'events' OR (event_type IS NOT NULL AND min_events >= 1)),
    CHECK (rule_kind <> 'assessment' OR (definition IS NOT NULL AND min_score IS NOT NULL))
);
CREATE INDEX milestones_events_idx ON milestones (workspace_id, event_type) WHERE rule_kind = 'events';

-- customer_milestones records each achieved milestone once: the primary
-- key is what makes a rule achieved exactly once under concurrent batches.
CREATE TABLE customer_milestones (
    customer_id  text NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    milestone_id text NOT NULL REFERENCES milestones (id) ON DELETE CASCADE,
    workspace_id text NOT NULL,
    achieved_at  timestamptz NOT NULL DEFAULT now(),
    -- achieved_by is the user who completed a manual milestone, "events",
    -- or "assessment:<id>".
    achieved_by  text NOT NULL,
    PRIMARY KEY (customer_id, milestone_id)
);
CREATE INDEX customer_milestones_workspace_idx ON customer_milestones (workspace_id, achieved_at);

-- assessment_definitions are versioned: a changed definition is a new
-- version and results keep the version they were scored with.
CREATE TABLE assessment_definitions (
    workspace_id text NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    slug         text NOT NULL,
    version      integer NOT NULL,
    body         jsonb NOT NULL,
    body_hash    bytea NOT NULL,
    created_by   text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (workspace_id, slug, version)
);

-- assessments are scored results, one per Assessment run (id = run ID).
CREATE TABLE assessments (
    id              text PRIMARY KEY,
    workspace_id    text NOT NULL,
    customer_id     text NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    definition      text NOT NULL,
    version         integer NOT NULL,
    overall         double precision NOT NULL,
    level           text NOT NULL,
    -- categories: {"<key>": score}.
    categories      jsonb NOT NULL,
    -- percentile is taken in the cohort of cohort_size assessments of the
    -- version (this one included) stored when it was scored.
    percentile      double precision NOT NULL,
    cohort_size     integer NOT NULL,
    recommendations jsonb,
    scored_at       timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (workspace_id, definition, version) REFERENCES assessment_definitions ON DELETE CASCADE
);
CREATE INDEX assessments_cohort_idx ON assessments (workspace_id, definition, version, overall);
CREATE INDEX assessments_customer_idx ON assessments (customer_id, scored_at DESC);
CREATE INDEX assessments_workspace_idx ON assessments (workspace_id, scored_at);

-- analytics_rollups are the hourly and daily figures of each workspace,
-- recomputed by the AnalyticsRollup schedule for every bucket from 48 h
-- before its watermark up to the last complete bucket.
CREATE TABLE analytics_rollups (
    workspace_id text NOT NULL,
    granularity  text NOT NULL CHECK (granularity IN ('hour', 'day')),
    bucket       timestamptz NOT NULL,
    metric       text NOT NULL,
    dim          text NOT NULL DEFAULT '',
    value        double precision NOT NULL,
    PRIMARY KEY (workspace_id, granularity, bucket, metric, dim)
);

-- analytics_watermarks: every bucket before through is rolled up.
CREATE TABLE analytics_watermarks (
    granularity text PRIMARY KEY,
    through     timestamptz NOT NULL
);

-- analytics_facts is every countable fact of a workspace as (at, metric,
-- dim, value): the one definition of the figures that the rollups store
-- and that the overview computes from raw rows for the buckets the
-- rollups have not reached. Filters on workspace_id and at reach each
-- table's indexes (and prune the events partitions) through the UNION ALL.
CREATE VIEW analytics_facts AS
SELECT workspace_id, occurred_at AS at, 'events'::text AS metric, type AS dim, 1::double precision AS value, customer_id
FROM events
UNION ALL
SELECT workspace_id, achieved_at, 'milestones', '', 1, customer_id FROM customer_milestones
UNION ALL
SELECT workspace_id, scored_at, 'assessments', definition, 1, customer_id FROM assessments
UNION ALL
SELECT workspace_id, scored_at, 'assessment_score_sum', definition, overall, customer_id FROM assessments
UNION ALL
SELECT workspace_id, created_at, 'runs', kind || '/' || status::text, 1, NULL FROM runs
UNION ALL
SELECT r.workspace_id, c.started_at, 'llm_tokens', c.provider || '/' || c.model, (c.input_tokens + c.output_tokens)::double precision, NULL
FROM llm_calls c JOIN runs r ON r.id = c.run_id
UNION ALL
SELECT r.workspace_id, c.started_at, 'llm_cost_usd', c.provider || '/' || c.model, c.cost_usd::double precision, NULL
FROM llm_calls c JOIN runs r ON r.id = c.run_id;

-- The rollups read every workspace's runs and LLM calls of a window.
CREATE INDEX runs_created_idx ON runs (created_at);
CREATE INDEX llm_calls_started_idx ON llm_calls (started_at);

-- +goose StatementBegin
-- event_partitions creates the monthly partitions of events from the month
-- retention ago to ahead_months ahead and drops those wholly older than
-- retention; event_keys and rollups past retention are deleted with them.
-- It returns how many partitions it created and dropped. Months are UTC
-- months whatever the session's time zone: the function runs in UTC.
CREATE FUNCTION event_partitions(ahead_months integer, retention interval, OUT created integer, OUT dropped integer)
LANGUAGE plpgsql SET timezone = 'UTC' AS $$
DECLARE
    m      date := (date_trunc('month', now() - retention, 'UTC') AT TIME ZONE 'UTC')::date;
    last   date := ((date_trunc('month', now(), 'UTC') AT TIME ZONE 'UTC')::date + make_interval(months => ahead_months))::date;
    part   record;
    cutoff timestamptz := now() - retention;
BEGIN
    created := 0;
    dropped := 0;
    WHILE m <= last LOOP
        IF to_regclass('events_p' || to_char(m, 'YYYYMM')) IS NULL THEN
            EXECUTE format('CREATE TABLE %I PARTITION OF events FOR VALUES FROM (%L) TO (%L)',
                'events_p' || to_char(m, 'YYYYMM'),
                (m::timestamp AT TIME ZONE 'UTC'), ((m + interval '1 month')::timestamp AT TIME ZONE 'UTC'));
            created := created + 1;
        END IF;
        m := (m + interval '1 month')::date;
    END LOOP;
    FOR part IN
        SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = 'events'::regclass AND c.relname ~ '^events_p[0-9]{6}$'
          AND (to_date(substr(c.relname, 9), 'YYYYMM') + interval '1 month')::timestamp AT TIME ZONE 'UTC' <= cutoff
    LOOP
        EXECUTE format('DROP TABLE %I', part.relname);
        dropped := dropped + 1;
    END LOOP;
    -- Ingest refuses events older than retention, so their keys can go (a
    -- day's margin for the API's clock).
    DELETE FROM event_keys WHERE occurred_at < cutoff - interval '1 day';
    DELETE FROM analytics_rollups WHERE bucket < cutoff;
END;
$$;
-- +goose StatementEnd

SELECT event_partitions(3, interval '13 months');

-- +goose Down
DROP FUNCTION event_partitions(integer, interval);
DROP INDEX llm_calls_started_idx;
DROP INDEX runs_created_idx;
DROP VIEW analytics_facts;
DROP TABLE analytics_watermarks;
DROP TABLE analytics_rollups;
DROP TABLE assessments;
DROP TABLE assessment_definitions;
DROP TABLE customer_milestones;
DROP TABLE milestones;
DROP TABLE customer_activity_daily;
DROP TABLE customer_activity;
DROP TABLE customer_event_totals;
DROP TABLE event_keys;
DROP TABLE events;
DROP TABLE customers;
