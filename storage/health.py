"""What /healthz reads from storage: the database answers, and how far the outbox lags behind.

Pending rows are neither sent nor failed. The lag is how long the oldest due pending row has been
waiting: since its not_before, or, for a row due at once (not_before NULL), since it was written
(`created_at`, when the table has that column) or else since this probe first saw it pending.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aiosqlite

from core.ports import Clock
from storage.database import Database, from_db_time, to_db_time

_PENDING = "sent_at IS NULL AND failed_at IS NULL"


@dataclass(frozen=True, slots=True)
class OutboxBacklog:
    pending: int
    lag_seconds: float


class SqliteHealthProbe:
    def __init__(self, database: Database, clock: Clock) -> None:
        self._database = database
        self._clock = clock
        # Without created_at: (id of the oldest pending row due at once, when first seen).
        self._first_seen: tuple[int, datetime] | None = None

    async def outbox_backlog(self) -> OutboxBacklog:
        """Raises sqlite3.Error when the database does not answer."""
        now = self._clock.now()
        async with self._database.acquire() as connection:
            pending, oldest_due = await _one(
                connection,
                f"SELECT COUNT(*), MIN(CASE WHEN not_before <= ? THEN not_before END)"
                f" FROM outbox WHERE {_PENDING}",
                (to_db_time(now),),
            )
            if "created_at" in await _columns(connection, "outbox"):
                (oldest_immediate,) = await _one(
                    connection,
                    f"SELECT MIN(created_at) FROM outbox WHERE {_PENDING} AND not_before IS NULL",
                )
                immediate_since = _time_or_none(oldest_immediate)
            else:
                (oldest_id,) = await _one(
                    connection,
                    f"SELECT MIN(id) FROM outbox WHERE {_PENDING} AND not_before IS NULL",
                )
                immediate_since = self._seen_since(oldest_id, now)
        waiting_since = [t for t in (_time_or_none(oldest_due), immediate_since) if t is not None]
        lag = (now - min(waiting_since)).total_seconds() if waiting_since else 0.0
        return OutboxBacklog(pending=int(pending), lag_seconds=max(lag, 0.0))

    def _seen_since(self, row_id: int | None, now: datetime) -> datetime | None:
        if row_id is None:
            self._first_seen = None
            return None
        if self._first_seen is None or self._first_seen[0] != row_id:
            self._first_seen = (row_id, now)
        return self._first_seen[1]


async def _one(
    connection: aiosqlite.Connection, sql: str, params: tuple[Any, ...] = ()
) -> tuple[Any, ...]:
    async with connection.execute(sql, params) as cursor:
        row = await cursor.fetchone()
    assert row is not None  # aggregates always return a row
    return tuple(row)


async def _columns(connection: aiosqlite.Connection, table: str) -> set[str]:
    async with connection.execute(f"PRAGMA table_info({table})") as cursor:
        return {row["name"] for row in await cursor.fetchall()}


def _time_or_none(value: str | None) -> datetime | None:
    return None if value is None else from_db_time(value)
