-- PostgreSQL counterpart of ../0003_support.sql.

CREATE TABLE conversations (
    user_id         BIGINT      PRIMARY KEY,
    status          TEXT        NOT NULL,
    opened_at       TIMESTAMPTZ NOT NULL,
    thread_id       BIGINT      UNIQUE,
    card_message_id BIGINT,
    operator_id     BIGINT,
    citizen_name    TEXT        NOT NULL DEFAULT ''
);

CREATE TABLE relayed_messages (
    user_id            BIGINT NOT NULL,
    citizen_message_id BIGINT NOT NULL,
    topic_message_id   BIGINT NOT NULL,
    direction          TEXT   NOT NULL,
    PRIMARY KEY (user_id, citizen_message_id)
);

CREATE UNIQUE INDEX relayed_messages_topic ON relayed_messages (topic_message_id);
