"""aiogram FSM storage on SQLite: dialog state survives restarts.

Reads come from a bounded write-through cache, so an update costs no database round trip for its
state and data once the chat is known: SQLite is the engine of a single bot process (several
instances use a shared server engine instead), so this process sees every write it must see.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiogram.exceptions import DataNotDictLikeError
from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, StateType, StorageKey

from core.ports import Clock
from storage.database import Database, from_db_time, to_db_time


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


# The write's time: the injected clock's, else SQLite's (same fixed-width UTC text).
_STAMP = "COALESCE(?, strftime('%Y-%m-%dT%H:%M:%f000+00:00', 'now'))"
_INSERT_KEY = (
    "INSERT INTO fsm_state (key, bot_id, chat_id, user_id, thread_id, business_connection_id,"
    f" destiny, state, data, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, {_STAMP})"
)


@dataclass(frozen=True, slots=True)
class FsmRecord:
    """A stored record as it is, for retention (storage/fsm.py knows nothing of its data)."""

    key: str
    user_id: int
    chat_id: int
    data: dict[str, Any]
    updated_at: datetime


# A record with neither state nor data is the same as no record; dropping it keeps the table small.
_DROP_IF_EMPTY = "DELETE FROM fsm_state WHERE key = ? AND state IS NULL AND data = '{}'"


class SqliteFsmStorage(BaseStorage):
    """aiogram BaseStorage on the shared Database. Data must be JSON-serialisable.

    close() leaves the Database open unless close_database=True: the composition root owns it and
    other components (units of work, the outbox worker) still use it during shutdown.
    """

    def __init__(
        self,
        db: Database,
        *,
        close_database: bool = False,
        cache_size: int = 50_000,
        clock: Clock | None = None,
    ) -> None:
        self._db = db
        self._clock = clock  # stamps each write (retention deletes dialogs left untouched)
        self._close_database = close_database
        # key id -> (state, data as JSON text); the text doubles as a defensive copy.
        self._cache: OrderedDict[str, tuple[str | None, str]] = OrderedDict()
        self._cache_size = cache_size

    def _remember(self, key_id: str, state: str | None, data_text: str) -> None:
        self._cache[key_id] = (state, data_text)
        self._cache.move_to_end(key_id)
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)

    async def _record(self, key_id: str) -> tuple[str | None, str]:
        cached = self._cache.get(key_id)
        if cached is not None:
            self._cache.move_to_end(key_id)
            return cached
        async with self._db.acquire() as connection:
            rows = await connection.execute_fetchall(
                "SELECT state, data FROM fsm_state WHERE key = ?", (key_id,)
            )
        record: tuple[str | None, str] = (rows[0][0], rows[0][1]) if rows else (None, "{}")
        self._remember(key_id, *record)
        return record

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        value = state.state if isinstance(state, State) else state
        key_id = storage_key_id(key)
        _, data_text = await self._record(key_id)
        # The cache changes before the write, so a reader in between already sees it.
        self._remember(key_id, value, data_text)
        try:
            if value is None:
                async with self._db.transaction() as connection:
                    await connection.execute(
                        f"UPDATE fsm_state SET state = NULL, updated_at = {_STAMP} WHERE key = ?",
                        (self._now(), key_id),
                    )
                    await connection.execute(_DROP_IF_EMPTY, (key_id,))
            else:
                async with self._db.acquire() as connection:
                    await connection.execute(
                        f"{_INSERT_KEY} ON CONFLICT (key) DO UPDATE SET state = excluded.state,"
                        " updated_at = excluded.updated_at",
                        (*_key_columns(key), value, "{}", self._now()),
                    )
        except BaseException:
            self._cache.pop(key_id, None)  # unknown outcome: read it again next time
            raise

    async def get_state(self, key: StorageKey) -> str | None:
        state, _ = await self._record(storage_key_id(key))
        return state

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        # Same contract as MemoryStorage: only a real dict is accepted.
        if not isinstance(data, dict):
            msg = f"Data must be a dict or dict-like object, got {type(data).__name__}"
            raise DataNotDictLikeError(msg)
        await self._write_data(key, data)

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        _, data_text = await self._record(storage_key_id(key))
        data = json.loads(data_text)
        return data if isinstance(data, dict) else {}

    async def update_data(self, key: StorageKey, data: Mapping[str, Any]) -> dict[str, Any]:
        """Merge and write. The cache takes the merged data before any await, so concurrent
        updates in this process do not lose keys."""
        current = await self.get_data(key)
        current.update(data)
        await self._write_data(key, current)
        return current.copy()

    async def close(self) -> None:
        if self._close_database:
            await self._db.close()

    async def delete_for_user(self, user_id: int) -> int:
        """Forget every dialog of a person (a data deletion request); returns rows removed."""
        async with self._db.acquire() as connection:
            cursor = await connection.execute("DELETE FROM fsm_state WHERE user_id = ?", (user_id,))
        self._cache.clear()  # rare: simpler than finding that user's keys
        return cursor.rowcount

    # --- for retention (bot/dialogs/drafts.py reads the data) --------------------------------

    async def records_of_user(self, user_id: int) -> list[FsmRecord]:
        return await self._records("user_id = ?", (user_id,))

    async def idle_records(self, written_before: datetime) -> list[FsmRecord]:
        """Records last written before then (a record from before stamping counts as new)."""
        return await self._records("updated_at < ?", (to_db_time(written_before),))

    async def delete_if_unchanged(self, key: str, updated_at: datetime) -> bool:
        """Delete a record unless it was written after `updated_at` (when it was read)."""
        async with self._db.acquire() as connection:
            cursor = await connection.execute(
                "DELETE FROM fsm_state WHERE key = ? AND updated_at = ?",
                (key, to_db_time(updated_at)),
            )
        self._cache.pop(key, None)
        return cursor.rowcount > 0

    async def data_values(self, field: str) -> set[str]:
        """Every distinct non-empty text value of one top-level field of the data."""
        async with self._db.acquire() as connection:
            rows = await connection.execute_fetchall(
                "SELECT DISTINCT json_extract(data, ?) FROM fsm_state"
                " WHERE json_type(data, ?) = 'text'",
                (f"$.{field}", f"$.{field}"),
            )
        return {str(row[0]) for row in rows if row[0]}

    async def _records(self, where: str, params: tuple[object, ...]) -> list[FsmRecord]:
        async with self._db.acquire() as connection:
            rows = await connection.execute_fetchall(
                f"SELECT key, user_id, chat_id, data, updated_at FROM fsm_state WHERE {where}",
                params,
            )
        records = []
        for key, user_id, chat_id, data_text, updated_at in rows:
            data = json.loads(data_text)
            records.append(
                FsmRecord(
                    key=key,
                    user_id=user_id,
                    chat_id=chat_id,
                    data=data if isinstance(data, dict) else {},
                    updated_at=from_db_time(updated_at),
                )
            )
        return records

    def _now(self) -> str | None:
        return to_db_time(self._clock.now()) if self._clock is not None else None

    async def _write_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        key_id = storage_key_id(key)
        state, _ = await self._record(key_id)
        text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        self._remember(key_id, state, text)
        try:
            # One statement autocommits atomically; the empty case also drops an empty record.
            async with self._db.transaction() if not data else self._db.acquire() as connection:
                await connection.execute(
                    f"{_INSERT_KEY} ON CONFLICT (key) DO UPDATE SET data = excluded.data,"
                    " updated_at = excluded.updated_at",
                    (*_key_columns(key), None, text, self._now()),
                )
                if not data:
                    await connection.execute(_DROP_IF_EMPTY, (key_id,))
        except BaseException:
            self._cache.pop(key_id, None)
            raise
