-- Personal data under 152-FZ: when an application's scan was destroyed and when the person was
-- removed from it, a log of every destruction (no person named in it), when each dialog was last
-- written (abandoned dialogs are deleted), and whether an outsider was told off in a topic.

ALTER TABLE applications ADD COLUMN scan_destroyed_at TEXT;
ALTER TABLE applications ADD COLUMN anonymised_at TEXT;

-- The retention sweep looks for finished applications still holding a scan or a person.
CREATE INDEX applications_retention ON applications (updated_at)
    WHERE anonymised_at IS NULL;

CREATE TABLE destructions (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    at             TEXT    NOT NULL,
    what           TEXT    NOT NULL,
    reason         TEXT    NOT NULL,
    application_id INTEGER REFERENCES applications (id),
    count          INTEGER NOT NULL DEFAULT 1 CHECK (count > 0)
);

ALTER TABLE fsm_state ADD COLUMN updated_at TEXT;
-- Dialogs written before this migration count as written now: none is deleted at once.
UPDATE fsm_state SET updated_at = strftime('%Y-%m-%dT%H:%M:%f000+00:00', 'now');
CREATE INDEX fsm_state_updated ON fsm_state (updated_at);

ALTER TABLE conversations ADD COLUMN outsider_told INTEGER NOT NULL DEFAULT 0
    CHECK (outsider_told IN (0, 1));
