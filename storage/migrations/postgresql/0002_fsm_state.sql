-- PostgreSQL counterpart of ../0002_fsm_state.sql.

CREATE TABLE fsm_state (
    key                    TEXT   PRIMARY KEY,
    bot_id                 BIGINT NOT NULL,
    chat_id                BIGINT NOT NULL,
    user_id                BIGINT NOT NULL,
    thread_id              BIGINT,
    business_connection_id TEXT,
    destiny                TEXT   NOT NULL,
    state                  TEXT,
    data                   JSONB  NOT NULL DEFAULT '{}'
);

CREATE INDEX fsm_state_user ON fsm_state (user_id);
