"""The unit of work over the shared SQLite connection: the one door to storage for use cases."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AsyncExitStack
from types import TracebackType
from typing import Self

from storage.database import Database, rollback_quietly
from storage.repositories import (
    SqliteApplicationRepository,
    SqliteAuditTrail,
    SqliteCitizenRepository,
    SqliteDestructionLog,
    SqliteEmailConfirmations,
    SqliteOutbox,
    SqliteReminderStore,
)
from storage.support import SqliteConversations


class SqliteUnitOfWork:
    """`async with uow: ...; await uow.commit()`. Anything not committed is rolled back on exit.

    Entering takes the database lock and opens a transaction; leaving releases it. Writes made
    after a commit belong to a fresh transaction and need their own commit. A UoW is single-use.
    """

    applications: SqliteApplicationRepository
    audit: SqliteAuditTrail
    citizens: SqliteCitizenRepository
    outbox: SqliteOutbox
    conversations: SqliteConversations
    reminders: SqliteReminderStore
    emails: SqliteEmailConfirmations
    destructions: SqliteDestructionLog

    def __init__(self, db: Database, after_commit: Callable[[], None] | None = None) -> None:
        self._db = db
        self._stack: AsyncExitStack | None = None
        self._used = False
        self._after_commit = after_commit
        self._queued = False  # outbox rows added in the open transaction

    async def __aenter__(self) -> Self:
        if self._used:
            raise RuntimeError("a unit of work is entered once; make a new one")
        self._used = True
        stack = AsyncExitStack()
        connection = await stack.enter_async_context(self._db.acquire())
        try:
            await connection.execute("BEGIN IMMEDIATE")
        except BaseException:
            await stack.aclose()
            raise
        self._connection = connection
        self._stack = stack
        self.applications = SqliteApplicationRepository(connection)
        self.audit = SqliteAuditTrail(connection)
        self.citizens = SqliteCitizenRepository(connection)
        self.outbox = SqliteOutbox(connection, on_add=self._queue)
        self.conversations = SqliteConversations(connection)
        self.reminders = SqliteReminderStore(connection)
        self.emails = SqliteEmailConfirmations(connection)
        self.destructions = SqliteDestructionLog(connection)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        stack, self._stack = self._stack, None
        if stack is None:
            return
        # The lock is released even if the rollback itself fails (e.g. a closed connection).
        async with stack:
            await rollback_quietly(self._connection)

    def _queue(self) -> None:
        self._queued = True

    def _require_open(self) -> None:
        if self._stack is None:
            raise RuntimeError("the unit of work is not open; use `async with uow:`")

    async def commit(self) -> None:
        self._require_open()
        await self._connection.execute("COMMIT")
        await self._connection.execute("BEGIN IMMEDIATE")
        queued, self._queued = self._queued, False
        if queued and self._after_commit is not None:
            self._after_commit()  # wake the sender now instead of at its next tick

    async def rollback(self) -> None:
        self._require_open()
        await rollback_quietly(self._connection)
        await self._connection.execute("BEGIN IMMEDIATE")
        self._queued = False


class SqliteUnitOfWorkFactory:
    """`uow_factory()` gives a new unit of work; what core.ports.UnitOfWorkFactory asks for."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self.after_outbox_commit: Callable[[], None] | None = None  # set by the composition root

    def __call__(self) -> SqliteUnitOfWork:
        return SqliteUnitOfWork(self._db, self.after_outbox_commit)
