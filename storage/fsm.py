"""aiogram FSM storage on either engine (storage/sql.py): dialog state survives restarts.

On SQLite reads come from a bounded write-through cache, so an update costs no database round
trip for its state and data once the chat is known: SQLite is the engine of a single bot process,
so this process sees every write it must see. On PostgreSQL several instances share the records,
so nothing is cached: every read asks the database.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from aiogram.exceptions import DataNotDictLikeError
from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, StateType, StorageKey

from core.models import DialogSnapshot
from core.ports import Clock
from storage.sql import SqlDatabase, from_db_time


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
    "INSERT INTO fsm_state (key, bot_id, chat_id, user_id, thread_id, business_connection_id,"
    " destiny, state, data, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


@dataclass(frozen=True, slots=True)
class FsmRecord:
    """A stored record as it is, for retention (storage/fsm.py knows nothing of its data)."""

    key: str
    user_id: int
    chat_id: int
    data: dict[str, Any]
    updated_at: datetime


class DialogRecords(Protocol):
    """What retention (bot/dialogs/drafts.py) and reminders (core.ports.DialogSnapshots) read
    from a dialog storage besides aiogram's calls: SqlFsmStorage, RedisDialogStorage
    (storage/redis_fsm.py). Each write stamps its record with the injected clock's time."""

    async def records_of_user(self, user_id: int) -> list[FsmRecord]: ...

    async def idle_records(self, written_before: datetime) -> list[FsmRecord]:
        """Records last written before then."""
        ...

    async def delete_if_unchanged(self, key: str, updated_at: datetime) -> bool:
        """Delete a record unless it was written after `updated_at` (when it was read)."""
        ...

    async def data_values(self, field: str) -> set[str]:
        """Every distinct non-empty text value of one top-level field of the data."""
        ...

    async def delete_for_user(self, user_id: int) -> int:
        """Forget every dialog of a person; returns how many records were removed."""
        ...

    async def dialogs(
        self, *, idle_since: datetime | None = None, user_id: int | None = None
    ) -> Sequence[DialogSnapshot]:
        """core.ports.DialogSnapshots: records of private chats (chat id = user id, no topic,
        no business connection) with a state, written at or before idle_since; oldest first."""
        ...


def is_private_chat(key_id: str) -> bool:
    """Whether a record is a citizen's own chat with the bot (what reminders are about)."""
    _, chat_id, user_id, thread_id, business_connection_id, _ = json.loads(key_id)
    return chat_id == user_id and thread_id is None and business_connection_id is None


_PRIVATE_CHAT = ("chat_id = user_id", "thread_id IS NULL", "business_connection_id IS NULL")


def _dict(data_text: str | bytes) -> dict[str, Any]:
    data = json.loads(data_text)
    return data if isinstance(data, dict) else {}


# A record with neither state nor data is the same as no record; dropping it keeps the table small.
_DROP_IF_EMPTY = "DELETE FROM fsm_state WHERE key = ? AND state IS NULL AND data = '{}'"


class SqlFsmStorage(BaseStorage):
    """aiogram BaseStorage on the shared database. Data must be JSON-serialisable.

    close() leaves the database open unless close_database=True: the composition root owns it and
    other components (units of work, the outbox worker) still use it during shutdown.
    """

    def __init__(
        self,
        db: SqlDatabase,
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
        # Another process may write the same records: a cache would serve stale dialogs.
        self._cache_size = cache_size if db.single_process else 0

    def _remember(self, key_id: str, state: str | None, data_text: str) -> None:
        if not self._cache_size:
            return
        self._cache[key_id] = (state, data_text)
        self._cache.move_to_end(key_id)
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)

    async def _record(self, key_id: str) -> tuple[str | None, str]:
        cached = self._cache.get(key_id)
        if cached is not None:
            self._cache.move_to_end(key_id)
            return cached
        async with self._db.connect() as session:
            row = await session.fetch_one(
                "SELECT state, data FROM fsm_state WHERE key = ?", (key_id,)
            )
        record: tuple[str | None, str] = (row[0], row[1]) if row else (None, "{}")
        self._remember(key_id, *record)
        return record

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        value = state.state if isinstance(state, State) else state
        key_id = storage_key_id(key)
        data_text: str | None = None  # unknown without the cache
        if self._cache_size:
            # The cache changes before the write, so a reader in between already sees it.
            _, data_text = await self._record(key_id)
            self._remember(key_id, value, data_text)
        try:
            if value is None and data_text is not None:
                # The data is known: the record in one statement, as set_state_and_data writes.
                await self._write_record(key, key_id, value, data_text)
            elif value is None:
                async with self._db.transaction() as session:
                    await session.execute(
                        "UPDATE fsm_state SET state = NULL, updated_at = ? WHERE key = ?",
                        (self._now(), key_id),
                    )
                    await session.execute(_DROP_IF_EMPTY, (key_id,))
            else:
                async with self._db.connect() as session:
                    await session.execute(
                        f"{_INSERT_KEY} ON CONFLICT (key) DO UPDATE SET state = excluded.state,"
                        " updated_at = excluded.updated_at",
                        (*_key_columns(key), value, "{}", self._now()),
                    )
        except BaseException:
            self._cache.pop(key_id, None)  # unknown outcome: read it again next time
            raise

    async def set_state_and_data(
        self, key: StorageKey, state: StateType, data: Mapping[str, Any]
    ) -> None:
        """set_data and set_state at once: one statement, so a dialog moving to a step with new
        answers writes once (and never one without the other)."""
        if not isinstance(data, dict):
            msg = f"Data must be a dict or dict-like object, got {type(data).__name__}"
            raise DataNotDictLikeError(msg)
        value = state.state if isinstance(state, State) else state
        key_id = storage_key_id(key)
        text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        self._remember(key_id, value, text)  # before the write, like set_state and set_data
        try:
            await self._write_record(key, key_id, value, text)
        except BaseException:
            self._cache.pop(key_id, None)
            raise

    async def _write_record(
        self, key: StorageKey, key_id: str, state: str | None, data_text: str
    ) -> None:
        """State and data in one statement; a record with neither is dropped."""
        async with self._db.connect() as session:
            if state is None and data_text == "{}":  # the same as no record
                await session.execute("DELETE FROM fsm_state WHERE key = ?", (key_id,))
            else:
                await session.execute(
                    f"{_INSERT_KEY} ON CONFLICT (key) DO UPDATE SET state = excluded.state,"
                    " data = excluded.data, updated_at = excluded.updated_at",
                    (*_key_columns(key), state, data_text, self._now()),
                )

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
        return _dict(data_text)

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
        async with self._db.connect() as session:
            deleted = await session.execute("DELETE FROM fsm_state WHERE user_id = ?", (user_id,))
        self._cache.clear()  # rare: simpler than finding that user's keys
        return deleted

    # --- for retention (bot/dialogs/drafts.py reads the data) --------------------------------

    async def records_of_user(self, user_id: int) -> list[FsmRecord]:
        return await self._records("user_id = ?", (user_id,))

    async def idle_records(self, written_before: datetime) -> list[FsmRecord]:
        """Records last written before then (a record from before stamping counts as new)."""
        return await self._records("updated_at < ?", (written_before,))

    async def delete_if_unchanged(self, key: str, updated_at: datetime) -> bool:
        """Delete a record unless it was written after `updated_at` (when it was read)."""
        async with self._db.connect() as session:
            deleted = await session.execute(
                "DELETE FROM fsm_state WHERE key = ? AND updated_at = ?", (key, updated_at)
            )
        self._cache.pop(key, None)
        return deleted > 0

    async def data_values(self, field: str) -> set[str]:
        """Every distinct non-empty text value of one top-level field of the data."""
        async with self._db.connect() as session:
            text = session.json_text("data", field)
            rows = await session.fetch_all(
                f"SELECT DISTINCT {text} FROM fsm_state WHERE {text} IS NOT NULL"
            )
        return {str(row[0]) for row in rows if row[0]}

    # --- for reminders (core.ports.DialogSnapshots) ------------------------------------------

    async def dialogs(
        self, *, idle_since: datetime | None = None, user_id: int | None = None
    ) -> list[DialogSnapshot]:
        where = ["state IS NOT NULL", "updated_at IS NOT NULL", *_PRIVATE_CHAT]
        params: list[object] = []
        if idle_since is not None:
            where.append("updated_at <= ?")
            params.append(idle_since)
        if user_id is not None:
            where.append("user_id = ?")
            params.append(user_id)
        async with self._db.connect() as session:
            rows = await session.fetch_all(
                "SELECT user_id, state, data, updated_at FROM fsm_state"
                f" WHERE {' AND '.join(where)} ORDER BY updated_at",
                params,
            )
        return [
            DialogSnapshot(
                user_id=row_user_id,
                state=state,
                data=_dict(data_text),
                updated_at=from_db_time(updated_at),
            )
            for row_user_id, state, data_text, updated_at in rows
        ]

    async def _records(self, where: str, params: tuple[object, ...]) -> list[FsmRecord]:
        async with self._db.connect() as session:
            rows = await session.fetch_all(
                f"SELECT key, user_id, chat_id, data, updated_at FROM fsm_state WHERE {where}",
                params,
            )
        return [
            FsmRecord(
                key=key,
                user_id=user_id,
                chat_id=chat_id,
                data=_dict(data_text),
                updated_at=from_db_time(updated_at),
            )
            for key, user_id, chat_id, data_text, updated_at in rows
        ]

    def _now(self) -> datetime:
        return self._clock.now() if self._clock is not None else datetime.now(UTC)

    async def _write_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        key_id = storage_key_id(key)
        text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        if self._cache_size:
            state, _ = await self._record(key_id)
            self._remember(key_id, state, text)
        try:
            # One statement autocommits atomically; the empty case also drops an empty record.
            async with self._db.transaction() if not data else self._db.connect() as session:
                await session.execute(
                    f"{_INSERT_KEY} ON CONFLICT (key) DO UPDATE SET data = excluded.data,"
                    " updated_at = excluded.updated_at",
                    (*_key_columns(key), None, text, self._now()),
                )
                if not data:
                    await session.execute(_DROP_IF_EMPTY, (key_id,))
        except BaseException:
            self._cache.pop(key_id, None)
            raise
