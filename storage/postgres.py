"""PostgreSQL (asyncpg): a pool of connections shared by every task, and any number of bot
processes on the same database.

A unit of work is one pooled connection and one transaction. Writes do not queue behind a
process-wide lock as on SQLite; what keeps processes apart is the database: a record a writing
unit of work reads by its key is locked until commit (Session.lock_rows), queues are taken with
FOR UPDATE SKIP LOCKED, and migrations run under an advisory lock.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import logging
import re
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg

from storage.sql import (
    Migration,
    Row,
    Session,
    UniqueViolation,
    UnitSession,
    apply_migrations,
    aware,
    identifier,
    load_migrations,
)

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).with_name("migrations") / "postgresql"
POOL_SIZE = 10
# The key of the advisory lock processes migrating at once queue on (any constant of ours).
_MIGRATION_LOCK = 4_250_001
_CONNECT_ERRORS = (OSError, asyncio.TimeoutError, asyncpg.PostgresError)


# Where a person's data lives: vacuumed after an erasure (wipe).
_PERSONAL_TABLES = (
    "citizens",
    "applications",
    "status_changes",
    "fsm_state",
    "outbox",
    "conversations",
    "relayed_messages",
    "email_confirmations",
    "reminders_sent",
)


class DatabaseUnavailable(Exception):
    """The server could not be reached or refused the connection (the message has no password)."""


class PostgresSession(Session):
    skip_locked = " FOR UPDATE SKIP LOCKED"

    def __init__(self, connection: asyncpg.Connection, *, lock_rows: bool = False) -> None:
        self.connection = connection
        self.lock_rows = " FOR UPDATE" if lock_rows else ""

    async def fetch_all(self, sql: str, params: Sequence[object] = ()) -> Sequence[Row]:
        with _unique_violation():
            return await self.connection.fetch(numbered(sql), *_params(params))

    async def execute(self, sql: str, params: Sequence[object] = ()) -> int:
        with _unique_violation():
            status = await self.connection.execute(numbered(sql), *_params(params))
        # "UPDATE 3", "INSERT 0 1", "CREATE TABLE": the count, where there is one, comes last.
        count = status.rsplit(" ", 1)[-1]
        return int(count) if count.isdigit() else 0

    async def serialize(self, key: int) -> None:
        await self.execute("SELECT pg_advisory_xact_lock(?)", (key,))

    def json_text(self, column: str, field: str) -> str:
        column, field = identifier(column), identifier(field)
        is_text = f"jsonb_typeof({column} -> '{field}') = 'string'"
        return f"CASE WHEN {is_text} THEN {column} ->> '{field}' END"

    @asynccontextmanager
    async def savepoint(self) -> AsyncIterator[None]:
        async with self.connection.transaction():  # nested: SAVEPOINT ... RELEASE
            yield


class PostgresUnitSession(PostgresSession, UnitSession):
    def __init__(self, connection: asyncpg.Connection, *, read_only: bool) -> None:
        super().__init__(connection, lock_rows=not read_only)
        self._read_only = read_only
        self._transaction: asyncpg.transaction.Transaction | None = None

    async def begin(self) -> None:
        self._transaction = self.connection.transaction(readonly=self._read_only)
        await self._transaction.start()

    async def commit(self) -> None:
        # A failed COMMIT ends the transaction on the server too: nothing is left to roll back.
        transaction, self._transaction = self._transaction, None
        assert transaction is not None
        await transaction.commit()
        await self.begin()

    async def rollback(self) -> None:
        await self.end()
        await self.begin()

    async def end(self) -> None:
        """Roll back whatever is open."""
        transaction, self._transaction = self._transaction, None
        if transaction is None:
            return
        try:
            await transaction.rollback()
        except (asyncpg.InterfaceError, asyncpg.PostgresError, OSError) as error:
            # A lost connection rolls back on the server; the pool drops it on release.
            log.warning("rollback failed: %s", type(error).__name__)


def _params(params: Sequence[object]) -> list[object]:
    return [aware(p) if isinstance(p, datetime) else p for p in params]


@functools.lru_cache(maxsize=2048)
def numbered(sql: str) -> str:
    """`?` placeholders as PostgreSQL's $1, $2...; a `?` inside a quoted string is kept."""
    counter = itertools.count(1)
    pieces = sql.split("'")  # even pieces are outside quotes ('' inside one gives an empty piece)
    for index in range(0, len(pieces), 2):
        pieces[index] = re.sub(r"\?", lambda _: f"${next(counter)}", pieces[index])
    return "'".join(pieces)


@contextmanager
def _unique_violation() -> Iterator[None]:
    try:
        yield
    except asyncpg.UniqueViolationError as error:
        raise UniqueViolation(str(error)) from error


class _MigrationsTable:
    """The applied migrations, one row each; an advisory lock keeps a second process waiting."""

    async def lock_and_read(self, session: Session) -> int:
        await session.execute("SELECT pg_advisory_xact_lock(?)", (_MIGRATION_LOCK,))
        return await self.read(session)

    async def read(self, session: Session) -> int:
        return int(
            await session.fetch_value("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")
        )

    async def write(self, session: Session, migration: Migration) -> None:
        await session.execute(
            "INSERT INTO schema_migrations (version, name) VALUES (?, ?)",
            (migration.version, migration.name),
        )


class PostgresDatabase:
    """The process's pool. Build with `await PostgresDatabase.open(url)`."""

    single_process = False

    def __init__(self, pool: asyncpg.Pool, url: str) -> None:
        self._pool = pool
        self.url = url

    @classmethod
    async def open(
        cls,
        url: str,
        *,
        migrations: Sequence[Migration] | None = None,
        pool_size: int = POOL_SIZE,
        retry_seconds: float = 0.0,
    ) -> PostgresDatabase:
        """Connect and bring the schema up to date. While the server does not answer, retry
        for retry_seconds (waits of 1, 2, 4, 8 s...), then raise DatabaseUnavailable."""
        pool = await _create_pool(url, pool_size, retry_seconds)
        database = cls(pool, url)
        try:
            await database.migrate(
                load_migrations(MIGRATIONS_DIR) if migrations is None else migrations
            )
        except BaseException:
            await pool.close()
            raise
        return database

    async def close(self) -> None:
        await self._pool.close()

    @asynccontextmanager
    async def connect(self) -> AsyncIterator[Session]:
        async with self._pool.acquire() as connection:
            yield PostgresSession(connection)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Session]:
        async with self._pool.acquire() as connection, connection.transaction():
            yield PostgresSession(connection)

    @asynccontextmanager
    async def unit(self, *, read_only: bool = False) -> AsyncIterator[UnitSession]:
        async with self._pool.acquire() as connection:
            session = PostgresUnitSession(connection, read_only=read_only)
            await session.begin()
            try:
                yield session
            finally:
                await session.end()

    async def wipe(self) -> None:
        """After an erasure: VACUUM the tables that held the person, so the deleted row versions
        are reclaimed now rather than at autovacuum's leisure. PostgreSQL does not zero freed
        pages; its data files and backups stay under the operator's protection (docs/deployer.md).
        """
        async with self._pool.acquire() as connection:
            # VACUUM cannot run inside a transaction: each statement on its own.
            for table in _PERSONAL_TABLES:
                await connection.execute(f"VACUUM {table}")

    async def schema_version(self) -> int:
        async with self.connect() as session:
            if await session.fetch_value("SELECT to_regclass('schema_migrations')") is None:
                return 0
            return await _MigrationsTable().read(session)

    async def migrate(self, migrations: Sequence[Migration]) -> None:
        async with self.transaction() as session:
            await session.execute("SELECT pg_advisory_xact_lock(?)", (_MIGRATION_LOCK,))
            await session.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY,"
                " name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
            )
        await apply_migrations(self, _MigrationsTable(), migrations)


async def _create_pool(url: str, size: int, retry_seconds: float) -> asyncpg.Pool:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + retry_seconds
    wait = 1.0
    while True:
        try:
            return await asyncpg.create_pool(url, min_size=1, max_size=size, timeout=10)
        except _CONNECT_ERRORS as error:
            reason = f"{type(error).__name__}: {error}".splitlines()[0]
            if loop.time() + wait > deadline:
                raise DatabaseUnavailable(f"cannot connect to {redacted(url)} ({reason})") from None
            log.warning("PostgreSQL at %s: %s; retrying in %.0f s", redacted(url), reason, wait)
            await asyncio.sleep(wait)
            wait *= 2


def redacted(url: str) -> str:
    """The URL without its password, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.netloc.rsplit("@", 1)[-1]
    return parts._replace(netloc=f"{user}:***@{host}").geturl()
