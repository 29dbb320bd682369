-- Reminders, the operators' digest and email notifications. What is due is computed from these
-- tables on every tick, so a restart loses nothing and sends nothing twice.

-- When the dialog last moved (fsm_state.updated_at) comes from 0005: an unfinished dialog is
-- reminded a while after it stopped.

-- Each reminder's reason (topic + subject: the dialog's run, an application) with how many were
-- sent and when the last one was; written in the transaction that queues the reminder.
CREATE TABLE reminders_sent (
    user_id      INTEGER NOT NULL,
    topic        TEXT    NOT NULL,
    subject      TEXT    NOT NULL,
    sent         INTEGER NOT NULL DEFAULT 0,
    last_sent_at TEXT,
    PRIMARY KEY (user_id, topic, subject)
) WITHOUT ROWID;

-- The operators' morning digest, one row per day of TIMEZONE it was sent.
CREATE TABLE digests (
    day     TEXT PRIMARY KEY,
    sent_at TEXT NOT NULL
) WITHOUT ROWID;

-- When the reminder job last looked at the database (monitoring, and tests waiting for a tick).
CREATE TABLE reminder_ticks (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    checked_at TEXT NOT NULL
);

ALTER TABLE citizens ADD COLUMN reminders_off INTEGER NOT NULL DEFAULT 0
    CHECK (reminders_off IN (0, 1));
-- Only an address whose code came back is written to; earlier, unconfirmed ones get nothing.
ALTER TABLE citizens ADD COLUMN email_confirmed_at TEXT;

-- An address being confirmed: the code emailed to it, until it is typed back or replaced.
CREATE TABLE email_confirmations (
    user_id  INTEGER PRIMARY KEY,
    email    TEXT    NOT NULL,
    code     TEXT    NOT NULL,
    sent_at  TEXT    NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0
);

CREATE INDEX applications_status ON applications (status, id);
