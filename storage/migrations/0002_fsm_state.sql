-- aiogram FSM state and data. `key` is a JSON array of every StorageKey field, so a missing
-- thread id (null) and any real one stay distinct; the columns beside it serve inspection and
-- deleting a person's data.

CREATE TABLE fsm_state (
    key                    TEXT    PRIMARY KEY,
    bot_id                 INTEGER NOT NULL,
    chat_id                INTEGER NOT NULL,
    user_id                INTEGER NOT NULL,
    thread_id              INTEGER,
    business_connection_id TEXT,
    destiny                TEXT    NOT NULL,
    state                  TEXT,
    data                   TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(data))
) WITHOUT ROWID;

CREATE INDEX fsm_state_user ON fsm_state (user_id);
