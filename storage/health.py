"""What /healthz reads from storage: the database answers, and how far the outbox lags behind.

Pending rows are neither sent nor failed. The lag is how long the oldest due pending row has been
waiting: since its not_before, or, for a row due at once (not_before NULL), since it was written
(created_at). A row a sender has claimed (not_before moved to the claim's end) is not late.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.ports import Clock
from storage.sql import SqlDatabase, from_db_time

_PENDING = "sent_at IS NULL AND failed_at IS NULL"


@dataclass(frozen=True, slots=True)
class OutboxBacklog:
    pending: int
    lag_seconds: float


class SqlHealthProbe:
    def __init__(self, database: SqlDatabase, clock: Clock) -> None:
        self._database = database
        self._clock = clock

    async def outbox_backlog(self) -> OutboxBacklog:
        """Raises the engine's error when the database does not answer."""
        now = self._clock.now()
        # Read-only: the probe never waits for a write in progress.
        async with self._database.unit(read_only=True) as session:
            row = await session.fetch_one(
                "SELECT COUNT(*), MIN(CASE WHEN not_before <= ? THEN not_before END),"
                " MIN(CASE WHEN not_before IS NULL THEN created_at END)"
                f" FROM outbox WHERE {_PENDING}",
                (now,),
            )
        assert row is not None  # aggregates always return a row
        pending, oldest_due, oldest_immediate = row[0], row[1], row[2]
        waiting_since = [from_db_time(t) for t in (oldest_due, oldest_immediate) if t is not None]
        lag = (now - min(waiting_since)).total_seconds() if waiting_since else 0.0
        return OutboxBacklog(pending=int(pending), lag_seconds=max(lag, 0.0))
