-- PostgreSQL counterpart of ../0006_reminders_and_email.sql.

CREATE TABLE reminders_sent (
    user_id      BIGINT      NOT NULL,
    topic        TEXT        NOT NULL,
    subject      TEXT        NOT NULL,
    sent         INTEGER     NOT NULL DEFAULT 0,
    last_sent_at TIMESTAMPTZ,
    PRIMARY KEY (user_id, topic, subject)
);

CREATE TABLE digests (
    day     TEXT        PRIMARY KEY,
    sent_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE reminder_ticks (
    id         INTEGER     PRIMARY KEY CHECK (id = 1),
    checked_at TIMESTAMPTZ NOT NULL
);

ALTER TABLE citizens ADD COLUMN reminders_off BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE citizens ADD COLUMN email_confirmed_at TIMESTAMPTZ;

CREATE TABLE email_confirmations (
    user_id  BIGINT      PRIMARY KEY,
    email    TEXT        NOT NULL,
    code     TEXT        NOT NULL,
    sent_at  TIMESTAMPTZ NOT NULL,
    attempts INTEGER     NOT NULL DEFAULT 0
);

CREATE INDEX applications_status ON applications (status, id);
