-- +goose Up

-- rate_slots spaces requests to an API evenly across every worker: each
-- key holds the earliest time its next request may go (the generic cell
-- rate algorithm with no burst). A caller reserves the next slot in one
-- statement and sleeps until it, so there is no polling and callers are
-- served in the order they asked.
CREATE TABLE rate_slots (
    name    text PRIMARY KEY,
    next_at timestamptz NOT NULL
);

-- +goose Down
DROP TABLE rate_slots;
