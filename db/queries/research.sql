-- name: ResearchRunPageGet :one
-- ResearchRunPageGet finds the page a research run already settled for a
-- URL, so a retried fetch does nothing.
SELECT rp.position, rp.category, rp.reused, sqlc.embed(p)
FROM research_run_pages rp
JOIN research_pages p ON p.id = rp.page_id
WHERE rp.run_id = @run_id AND rp.url = @url;

-- name: ResearchPageFresh :one
-- ResearchPageFresh returns the owner's newest usable copy of a page
-- fetched at or after @since.
SELECT * FROM research_pages
WHERE owner_id = @owner_id AND url = @url AND fetched_at >= @since AND error_type IS NULL
ORDER BY fetched_at DESC
LIMIT 1;

-- name: ResearchPageInsert :one
INSERT INTO research_pages (owner_id, url, final_url, status, content_type, title, description, lang, opengraph,
                            organization, markdown, text, links, emails, word_count, truncated, screenshot_key,
                            screenshot_bytes, blocked, redirects, timed_out, error_type, error, fetch_ms, fetched_at)
VALUES (@owner_id, @url, @final_url, @status, @content_type, @title, @description, @lang, @opengraph,
        @organization, @markdown, @text, @links, @emails, @word_count, @truncated, sqlc.narg(screenshot_key),
        @screenshot_bytes, @blocked, @redirects, @timed_out, sqlc.narg(error_type), sqlc.narg(error), @fetch_ms, @fetched_at)
RETURNING id;

-- name: ResearchRunPageLink :execrows
-- ResearchRunPageLink adds a page to a run's plan once.
INSERT INTO research_run_pages (run_id, url, page_id, position, category, reused)
VALUES (@run_id, @url, @page_id, @position, @category, @reused)
ON CONFLICT (run_id, url) DO NOTHING;

-- name: ResearchRunPages :many
-- ResearchRunPages lists a run's pages in plan order.
SELECT rp.url AS planned_url, rp.position, rp.category, rp.reused, sqlc.embed(p)
FROM research_run_pages rp
JOIN research_pages p ON p.id = rp.page_id
WHERE rp.run_id = @run_id
ORDER BY rp.position, rp.url;

-- name: ResearchRunPagesUnlink :exec
DELETE FROM research_run_pages WHERE run_id = @run_id;

-- name: ResearchPageGetForOwner :one
SELECT * FROM research_pages WHERE id = @id AND owner_id = @owner_id;

-- name: ResearchReportUpsert :exec
-- ResearchReportUpsert stores a run's report; search weighs the company
-- and domain over the profile over the pages' text.
INSERT INTO research_reports (run_id, owner_id, company, domain, profile, provider, pages_fetched, pages_reused,
                              pages_failed, search)
VALUES (@run_id, @owner_id, @company, @domain, @profile, @provider, @pages_fetched, @pages_reused, @pages_failed,
        setweight(to_tsvector('english', @company::text || ' ' || @domain::text), 'A')
        || setweight(to_tsvector('english', @profile_text::text), 'B')
        || setweight(to_tsvector('english', coalesce((
            SELECT string_agg(p.title || ' ' || left(p.text, 20000), ' ' ORDER BY rp.position)
            FROM research_run_pages rp JOIN research_pages p ON p.id = rp.page_id
            WHERE rp.run_id = @run_id), '')), 'C'))
ON CONFLICT (run_id) DO UPDATE
SET profile = excluded.profile, provider = excluded.provider, pages_fetched = excluded.pages_fetched,
    pages_reused = excluded.pages_reused, pages_failed = excluded.pages_failed, search = excluded.search;

-- name: ResearchReportGet :one
SELECT run_id, owner_id, company, domain, profile, provider, pages_fetched, pages_reused, pages_failed, created_at
FROM research_reports WHERE run_id = @run_id;

-- name: ResearchReportDelete :exec
DELETE FROM research_reports WHERE run_id = @run_id;

-- name: ResearchReportSearch :many
-- ResearchReportSearch ranks the owner's reports against a web-search
-- style query (quoted phrases, OR, -word), best first.
SELECT run_id, company, domain, provider, created_at,
       ts_rank_cd(search, websearch_to_tsquery('english', @query::text))::float8 AS rank
FROM research_reports
WHERE owner_id = @owner_id AND search @@ websearch_to_tsquery('english', @query::text)
ORDER BY rank DESC, created_at DESC, run_id DESC
LIMIT @max_rows;

-- name: ResearchReportList :many
-- ResearchReportList lists the owner's reports, newest first.
SELECT run_id, company, domain, provider, created_at, 0::float8 AS rank
FROM research_reports
WHERE owner_id = @owner_id
ORDER BY created_at DESC, run_id DESC
LIMIT @max_rows;

-- name: ResearchRunPageOfOwner :one
-- ResearchRunPageOfOwner loads a page of a run the owner owns.
SELECT p.* FROM research_run_pages rp
JOIN research_pages p ON p.id = rp.page_id
JOIN runs r ON r.id = rp.run_id
WHERE rp.run_id = @run_id AND rp.page_id = @page_id AND r.owner_id = @owner_id;

-- name: ResearchReportsExpired :many
-- ResearchReportsExpired lists reports created before before that no
-- unfinished export still renders from.
SELECT r.run_id FROM research_reports r
WHERE r.created_at < @before
  AND NOT EXISTS (
      SELECT 1 FROM runs e JOIN run_inputs i ON i.run_id = e.id
      WHERE e.kind = 'export' AND e.status IN ('queued', 'running')
        AND convert_from(i.body, 'UTF8')::jsonb -> 'source' ->> 'run_id' = r.run_id)
ORDER BY r.created_at
LIMIT @max_rows;

-- name: ResearchPagesExpired :many
-- ResearchPagesExpired lists pages fetched before before that no remaining
-- report cites.
SELECT p.id, p.screenshot_key FROM research_pages p
WHERE p.fetched_at < @before
  AND NOT EXISTS (
      SELECT 1 FROM research_run_pages rp JOIN research_reports r ON r.run_id = rp.run_id
      WHERE rp.page_id = p.id)
ORDER BY p.fetched_at
LIMIT @max_rows;

-- name: ResearchPageDelete :exec
DELETE FROM research_pages WHERE id = @id;
