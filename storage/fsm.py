"""aiogram FSM storage on SQLite: dialog state survives restarts and is shared across processes.

Nothing is cached: each get is one primary-key lookup, and another process's write is seen at once.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import aiosqlite
from aiogram.exceptions import DataNotDictLikeError
from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, StateType, StorageKey

from storage.database import Database


def storage_key_id(key: StorageKey) -> str:
    """Every StorageKey field, unambiguously: a JSON array keeps None apart from 0 and "0"."""
    return json.dumps(
        [
            key.bot_id,
            key.chat_id,
            key.user_id,
            key.thread_id,
            key.business_connection_id,
            key.destiny,
        ],
        separators=(",", ":"),
    )


def _key_columns(key: StorageKey) -> tuple[object, ...]:
    return (
        storage_key_id(key),
        key.bot_id,
        key.chat_id,
        key.user_id,
        key.thread_id,
        key.business_connection_id,
        key.destiny,
    )


_INSERT_KEY = (
    "INSERT INTO fsm_state"
    " (key, bot_id, chat_id, user_id, thread_id, business_connection_id, destiny, state, data)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)

# A record with neither state nor data is the same as no record; dropping it keeps the table small.
_DROP_IF_EMPTY = "DELETE FROM fsm_state WHERE key = ? AND state IS NULL AND data = '{}'"


class SqliteFsmStorage(BaseStorage):
    """aiogram BaseStorage on the shared Database. Data must be JSON-serialisable.

    close() leaves the Database open unless close_database=True: the composition root owns it and
    other components (units of work, the outbox worker) still use it during shutdown.
    """

    def __init__(self, db: Database, *, close_database: bool = False) -> None:
        self._db = db
        self._close_database = close_database

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        value = state.state if isinstance(state, State) else state
        key_id = storage_key_id(key)
        if value is None:
            async with self._db.transaction() as connection:
                await connection.execute(
                    "UPDATE fsm_state SET state = NULL WHERE key = ?", (key_id,)
                )
                await connection.execute(_DROP_IF_EMPTY, (key_id,))
            return
        async with self._db.acquire() as connection:
            await connection.execute(
                f"{_INSERT_KEY} ON CONFLICT (key) DO UPDATE SET state = excluded.state",
                (*_key_columns(key), value, "{}"),
            )

    async def get_state(self, key: StorageKey) -> str | None:
        async with self._db.acquire() as connection:
            async with connection.execute(
                "SELECT state FROM fsm_state WHERE key = ?", (storage_key_id(key),)
            ) as cursor:
                row = await cursor.fetchone()
        return None if row is None else row[0]

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        # Same contract as MemoryStorage: only a real dict is accepted.
        if not isinstance(data, dict):
            msg = f"Data must be a dict or dict-like object, got {type(data).__name__}"
            raise DataNotDictLikeError(msg)
        async with self._db.transaction() as connection:
            await self._write_data(connection, key, data)

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        async with self._db.acquire() as connection:
            return await self._read_data(connection, storage_key_id(key))

    async def update_data(self, key: StorageKey, data: Mapping[str, Any]) -> dict[str, Any]:
        """Read, merge and write in one transaction, so concurrent updates do not lose keys."""
        async with self._db.transaction() as connection:
            current = await self._read_data(connection, storage_key_id(key))
            current.update(data)
            await self._write_data(connection, key, current)
        return current.copy()

    async def close(self) -> None:
        if self._close_database:
            await self._db.close()

    async def delete_for_user(self, user_id: int) -> int:
        """Forget every dialog of a person (a data deletion request); returns rows removed."""
        async with self._db.acquire() as connection:
            cursor = await connection.execute("DELETE FROM fsm_state WHERE user_id = ?", (user_id,))
            return cursor.rowcount

    @staticmethod
    async def _read_data(connection: aiosqlite.Connection, key_id: str) -> dict[str, Any]:
        async with connection.execute(
            "SELECT data FROM fsm_state WHERE key = ?", (key_id,)
        ) as cursor:
            row = await cursor.fetchone()
        if row is None:
            return {}
        data = json.loads(row[0])
        return data if isinstance(data, dict) else {}

    @staticmethod
    async def _write_data(
        connection: aiosqlite.Connection, key: StorageKey, data: Mapping[str, Any]
    ) -> None:
        text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        await connection.execute(
            f"{_INSERT_KEY} ON CONFLICT (key) DO UPDATE SET data = excluded.data",
            (*_key_columns(key), None, text),
        )
        if not data:
            await connection.execute(_DROP_IF_EMPTY, (storage_key_id(key),))
