-- +goose Up

-- airtable_mappings pairs one Airtable table with one Postgres table. The
-- config is the mapping as the API takes it, minus the token: a mapping's
-- own Airtable token is stored only encrypted (AES-256-GCM) and never
-- returned.
CREATE TABLE airtable_mappings (
    id               text PRIMARY KEY,
    owner_id         text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name             text NOT NULL,
    config           jsonb NOT NULL,
    token_ciphertext bytea,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (owner_id, name)
);

-- airtable_sync_state holds each side's cursor: changes after it are the
-- next sync's work.
CREATE TABLE airtable_sync_state (
    mapping_id      text PRIMARY KEY REFERENCES airtable_mappings (id) ON DELETE CASCADE,
    airtable_cursor timestamptz,
    postgres_cursor timestamptz,
    last_run_id     text,
    synced_at       timestamptz,
    -- running_run_id is the one sync of the mapping allowed to run: two
    -- at once would both write the same records.
    running_run_id  text
);

-- airtable_links remembers each synced record: its Airtable ID and the
-- field values both sides agreed on at the last sync (the common ancestor
-- of a three-way merge). Our own writes come back as changes whose values
-- equal these, which is how they are told from people's edits.
CREATE TABLE airtable_links (
    mapping_id  text NOT NULL REFERENCES airtable_mappings (id) ON DELETE CASCADE,
    key         text NOT NULL,
    airtable_id text,
    synced      jsonb NOT NULL,
    synced_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (mapping_id, key)
);

-- airtable_staging holds a run's fetched Airtable changes until it is
-- planned; airtable_plan holds its decisions until they are applied. Both
-- are a run's scratch space, so a retried or continued run resumes where
-- it stopped, and both are emptied when the run ends.
CREATE TABLE airtable_staging (
    run_id      text NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    airtable_id text NOT NULL,
    key         text NOT NULL,
    fields      jsonb NOT NULL,
    modified    timestamptz,
    PRIMARY KEY (run_id, airtable_id)
);

CREATE TABLE airtable_plan (
    run_id        text NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    key           text NOT NULL,
    decision      jsonb NOT NULL,
    airtable_op   text NOT NULL,
    postgres_op   text NOT NULL,
    airtable_done boolean NOT NULL DEFAULT false,
    postgres_done boolean NOT NULL DEFAULT false,
    error         text,
    PRIMARY KEY (run_id, key)
);

-- airtable_audit has one row per changed field: what changed, from what to
-- what, which side won and, on a conflict, the value that lost.
CREATE TABLE airtable_audit (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    mapping_id  text NOT NULL REFERENCES airtable_mappings (id) ON DELETE CASCADE,
    run_id      text NOT NULL,
    record_key  text NOT NULL,
    field       text NOT NULL,
    action      text NOT NULL,
    written_to  text NOT NULL,
    old_value   jsonb,
    new_value   jsonb,
    winner      text NOT NULL,
    conflict    boolean NOT NULL DEFAULT false,
    losing_value jsonb,
    at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX airtable_audit_mapping_idx ON airtable_audit (mapping_id, id);

-- +goose Down
DROP TABLE airtable_audit;
DROP TABLE airtable_plan;
DROP TABLE airtable_staging;
DROP TABLE airtable_links;
DROP TABLE airtable_sync_state;
DROP TABLE airtable_mappings;
