-- The outbox by kind: when a row was queued (for its lag and for clearing old payloads) and the
-- Telegram message a delivered row became. The operator's name stays with the conversation, so
-- outbox payloads need only ids.

ALTER TABLE outbox ADD COLUMN created_at TEXT;
ALTER TABLE outbox ADD COLUMN message_id INTEGER;

-- Clearing payloads of delivered rows scans by the time they were delivered.
CREATE INDEX outbox_done ON outbox (sent_at) WHERE sent_at IS NOT NULL;

ALTER TABLE conversations ADD COLUMN operator_name TEXT NOT NULL DEFAULT '';
