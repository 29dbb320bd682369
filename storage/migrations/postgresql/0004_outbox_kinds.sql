-- PostgreSQL counterpart of ../0004_outbox_kinds.sql.

ALTER TABLE outbox ADD COLUMN created_at TIMESTAMPTZ;
ALTER TABLE outbox ADD COLUMN message_id BIGINT;

-- Clearing payloads of delivered rows scans by the time they were delivered.
CREATE INDEX outbox_done ON outbox (sent_at) WHERE sent_at IS NOT NULL;

ALTER TABLE conversations ADD COLUMN operator_name TEXT NOT NULL DEFAULT '';
