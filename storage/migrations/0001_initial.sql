-- Citizens, applications, their audit trail and the notification outbox.
-- Datetimes are ISO-8601 UTC text of fixed width (see storage/database.py: to_db_time).

CREATE TABLE citizens (
    user_id     INTEGER PRIMARY KEY,
    locale      TEXT    NOT NULL,
    phone       TEXT,
    enp         TEXT,
    email       TEXT,
    consent_at  TEXT,
    blocked_bot INTEGER NOT NULL DEFAULT 0 CHECK (blocked_bot IN (0, 1))
);

-- AUTOINCREMENT: an id, and so an application number, is never reused after a deletion.
CREATE TABLE applications (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    number           TEXT UNIQUE,
    user_id          INTEGER NOT NULL,
    chat_id          INTEGER NOT NULL,
    enp              TEXT    NOT NULL,
    loss_reason      TEXT    NOT NULL,
    loss_reason_text TEXT,
    passport_series  TEXT    NOT NULL,
    passport_number  TEXT    NOT NULL,
    scan_name        TEXT,
    scan_sha256      TEXT,
    scan_size        INTEGER,
    delivery         TEXT    NOT NULL,
    postcode         TEXT,
    address          TEXT,
    office_id        TEXT,
    locale           TEXT    NOT NULL,
    status           TEXT    NOT NULL,
    created_at       TEXT    NOT NULL,
    updated_at       TEXT    NOT NULL,
    idempotency_key  TEXT    NOT NULL UNIQUE,
    fee_paid_kopecks INTEGER NOT NULL DEFAULT 0,
    rejection_reason TEXT,
    next_action_at   TEXT,
    policy_file_id   TEXT,
    operator_id      INTEGER,
    -- a scan is kept whole or not at all (destroyed under the retention rule)
    CHECK ((scan_name IS NULL) = (scan_sha256 IS NULL) AND (scan_name IS NULL) = (scan_size IS NULL))
);

CREATE INDEX applications_user ON applications (user_id, id);
CREATE INDEX applications_next_action ON applications (next_action_at, id)
    WHERE next_action_at IS NOT NULL;

CREATE TABLE status_changes (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    application_id INTEGER NOT NULL REFERENCES applications (id),
    from_status    TEXT,
    to_status      TEXT    NOT NULL,
    at             TEXT    NOT NULL,
    actor          TEXT    NOT NULL,
    reason         TEXT
);

CREATE INDEX status_changes_application ON status_changes (application_id, id);

CREATE TABLE outbox (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    chat_id    INTEGER NOT NULL,
    kind       TEXT    NOT NULL,
    payload    TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(payload)),
    attempts   INTEGER NOT NULL DEFAULT 0,
    not_before TEXT,
    sent_at    TEXT,
    failed_at  TEXT,
    error      TEXT
);

-- Only pending rows are ever scanned by the delivery worker.
CREATE INDEX outbox_pending ON outbox (id)
    WHERE sent_at IS NULL AND failed_at IS NULL;
