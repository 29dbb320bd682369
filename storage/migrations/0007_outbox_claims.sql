-- A sender claims the outbox rows it is about to send until a time (`claimed_until`), apart from
-- `not_before` (a retry's wait): another sender passes claimed rows over, so two never send a
-- row twice, and the one active sender gives back every claim at its start (a crashed process's
-- rows are sent again at once, not when their claim runs out).

ALTER TABLE outbox ADD COLUMN claimed_until TEXT;
