-- +goose Up

-- given_back sums the seconds weighted reservations gave back (or, when
-- negative, were charged beyond what they reserved) on a key. A caller
-- waiting for a slot far ahead compares it with the sum at its
-- reservation: what was given back since moves its slot that much sooner,
-- as it moved the key's next free time. Only the LLM token budget, whose
-- calls reserve an estimate and settle the actual usage, waits this way.
ALTER TABLE rate_slots ADD COLUMN given_back double precision NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE rate_slots DROP COLUMN given_back;
