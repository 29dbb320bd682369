-- PostgreSQL counterpart of ../0007_outbox_claims.sql.

ALTER TABLE outbox ADD COLUMN claimed_until TIMESTAMPTZ;
