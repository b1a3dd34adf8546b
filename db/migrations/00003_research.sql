-- +goose Up

-- research_pages caches the pages research fetched, per owner: a page
-- fresher than a research's max_age is reused instead of fetched again, so
-- a repeated or resumed research never loads a site twice. Rows are
-- written once, complete, after the fetch (and its screenshot) succeeded
-- or failed for good.
CREATE TABLE research_pages (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    owner_id         text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- url is the normalised address asked for; final_url where it ended.
    url              text NOT NULL,
    final_url        text NOT NULL DEFAULT '',
    status           integer NOT NULL DEFAULT 0,
    content_type     text NOT NULL DEFAULT '',
    title            text NOT NULL DEFAULT '',
    description      text NOT NULL DEFAULT '',
    lang             text NOT NULL DEFAULT '',
    opengraph        jsonb,
    organization     jsonb,
    markdown         text NOT NULL DEFAULT '',
    text             text NOT NULL DEFAULT '',
    links            jsonb,
    emails           text[] NOT NULL DEFAULT '{}',
    word_count       integer NOT NULL DEFAULT 0,
    truncated        boolean NOT NULL DEFAULT false,
    screenshot_key   text,
    screenshot_bytes bigint NOT NULL DEFAULT 0,
    -- blocked lists the subresources and redirects the SSRF guard refused.
    blocked          text[] NOT NULL DEFAULT '{}',
    redirects        integer NOT NULL DEFAULT 0,
    timed_out        boolean NOT NULL DEFAULT false,
    -- error_type is set when the page could not be used (robots, blocked,
    -- unreachable, http_error, not_html…); such rows are never reused.
    error_type       text,
    error            text,
    fetch_ms         integer NOT NULL DEFAULT 0,
    fetched_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX research_pages_lookup_idx ON research_pages (owner_id, url, fetched_at DESC);

-- research_run_pages is a research run's plan: each page it settled, in
-- plan order. A retried fetch finds its row here and does nothing.
CREATE TABLE research_run_pages (
    run_id   text NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    url      text NOT NULL,
    page_id  bigint NOT NULL REFERENCES research_pages (id) ON DELETE CASCADE,
    position integer NOT NULL,
    category text NOT NULL,
    reused   boolean NOT NULL,
    PRIMARY KEY (run_id, url)
);
CREATE INDEX research_run_pages_page_idx ON research_run_pages (page_id);

-- research_reports holds a succeeded research's company profile; search
-- indexes the profile and the text of its pages for GET /v1/research?q=.
CREATE TABLE research_reports (
    run_id        text PRIMARY KEY REFERENCES runs (id) ON DELETE CASCADE,
    owner_id      text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    company       text NOT NULL,
    domain        text NOT NULL,
    profile       jsonb NOT NULL,
    provider      text NOT NULL,
    pages_fetched integer NOT NULL,
    pages_reused  integer NOT NULL,
    pages_failed  integer NOT NULL,
    search        tsvector NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX research_reports_search_idx ON research_reports USING gin (search);
CREATE INDEX research_reports_owner_idx ON research_reports (owner_id, created_at DESC);

-- The per-minute token buckets also hold per-domain request buckets.
ALTER TABLE llm_token_buckets RENAME TO rate_buckets;

-- +goose Down
ALTER TABLE rate_buckets RENAME TO llm_token_buckets;
DROP TABLE research_reports;
DROP TABLE research_run_pages;
DROP TABLE research_pages;
