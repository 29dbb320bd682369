"""What /healthz reads from storage: the database answers, and how far the outbox lags behind.

Pending rows are neither sent nor failed. The lag is how long the oldest due pending row has been
waiting: since its not_before, or, for a row due at once (not_before NULL), since it was written
(created_at).
"""

from __future__ import annotations

from dataclasses import dataclass
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

    async def outbox_backlog(self) -> OutboxBacklog:
        """Raises sqlite3.Error when the database does not answer."""
        now = self._clock.now()
        async with self._database.acquire() as connection:
            pending, oldest_due, oldest_immediate = await _one(
                connection,
                "SELECT COUNT(*), MIN(CASE WHEN not_before <= ? THEN not_before END),"
                " MIN(CASE WHEN not_before IS NULL THEN created_at END)"
                f" FROM outbox WHERE {_PENDING}",
                (to_db_time(now),),
            )
        waiting_since = [from_db_time(t) for t in (oldest_due, oldest_immediate) if t is not None]
        lag = (now - min(waiting_since)).total_seconds() if waiting_since else 0.0
        return OutboxBacklog(pending=int(pending), lag_seconds=max(lag, 0.0))


async def _one(
    connection: aiosqlite.Connection, sql: str, params: tuple[Any, ...] = ()
) -> tuple[Any, ...]:
    async with connection.execute(sql, params) as cursor:
        row = await cursor.fetchone()
    assert row is not None  # aggregates always return a row
    return tuple(row)
