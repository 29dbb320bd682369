-- Support conversations (one forum topic per citizen) and the map between relayed messages.

CREATE TABLE conversations (
    user_id         INTEGER PRIMARY KEY,
    status          TEXT    NOT NULL,
    opened_at       TEXT    NOT NULL,
    thread_id       INTEGER UNIQUE,
    card_message_id INTEGER,
    operator_id     INTEGER,
    citizen_name    TEXT    NOT NULL DEFAULT ''
);

CREATE TABLE relayed_messages (
    user_id            INTEGER NOT NULL,
    citizen_message_id INTEGER NOT NULL,
    topic_message_id   INTEGER NOT NULL,
    direction          TEXT    NOT NULL,
    PRIMARY KEY (user_id, citizen_message_id)
) WITHOUT ROWID;

CREATE UNIQUE INDEX relayed_messages_topic ON relayed_messages (topic_message_id);
