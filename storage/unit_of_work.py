"""The unit of work over either engine's database: the one door to storage for use cases."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AsyncExitStack
from types import TracebackType
from typing import Self

from storage.repositories import (
    SqlApplicationRepository,
    SqlAuditTrail,
    SqlCitizenRepository,
    SqlDestructionLog,
    SqlEmailConfirmations,
    SqlOutbox,
    SqlReminderStore,
)
from storage.sql import SqlDatabase, UnitSession
from storage.support import SqlConversations


class SqlUnitOfWork:
    """`async with uow: ...; await uow.commit()`. Anything not committed is rolled back on exit.

    Entering opens a transaction (on SQLite it takes the process's connection, and BEGIN goes
    with the first statement; on PostgreSQL a pooled connection); leaving releases it. Writes
    made after a commit belong to a fresh transaction and need their own commit. A UoW is
    single-use. A read-only one takes no write lock and cannot commit.
    """

    applications: SqlApplicationRepository
    audit: SqlAuditTrail
    citizens: SqlCitizenRepository
    outbox: SqlOutbox
    conversations: SqlConversations
    reminders: SqlReminderStore
    emails: SqlEmailConfirmations
    destructions: SqlDestructionLog

    def __init__(
        self,
        db: SqlDatabase,
        after_commit: Callable[[], None] | None = None,
        *,
        read_only: bool = False,
    ) -> None:
        self._db = db
        self._stack: AsyncExitStack | None = None
        self._used = False
        self._after_commit = after_commit
        self._read_only = read_only
        self._queued = False  # outbox rows added in the open transaction

    async def __aenter__(self) -> Self:
        if self._used:
            raise RuntimeError("a unit of work is entered once; make a new one")
        self._used = True
        stack = AsyncExitStack()
        session = await stack.enter_async_context(self._db.unit(read_only=self._read_only))
        self._session: UnitSession = session
        self._stack = stack
        self.applications = SqlApplicationRepository(session)
        self.audit = SqlAuditTrail(session)
        self.citizens = SqlCitizenRepository(session)
        self.outbox = SqlOutbox(session, on_add=self._queue)
        self.conversations = SqlConversations(session)
        self.reminders = SqlReminderStore(session)
        self.emails = SqlEmailConfirmations(session)
        self.destructions = SqlDestructionLog(session)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        stack, self._stack = self._stack, None
        if stack is not None:
            await stack.aclose()  # rolls back whatever is not committed

    def _queue(self) -> None:
        self._queued = True

    def _require_open(self) -> None:
        if self._stack is None:
            raise RuntimeError("the unit of work is not open; use `async with uow:`")

    async def commit(self) -> None:
        self._require_open()
        if self._read_only:
            raise RuntimeError("a read-only unit of work cannot commit")
        await self._session.commit()
        queued, self._queued = self._queued, False
        if queued and self._after_commit is not None:
            self._after_commit()  # wake the sender now instead of at its next tick

    async def rollback(self) -> None:
        self._require_open()
        await self._session.rollback()
        self._queued = False


class SqlUnitOfWorkFactory:
    """`uow_factory()` gives a new unit of work; what core.ports.UnitOfWorkFactory asks for."""

    def __init__(self, db: SqlDatabase) -> None:
        self._db = db
        self.after_outbox_commit: Callable[[], None] | None = None  # set by the composition root

    def __call__(self, *, read_only: bool = False) -> SqlUnitOfWork:
        return SqlUnitOfWork(self._db, self.after_outbox_commit, read_only=read_only)
