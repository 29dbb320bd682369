"""SQLite: one writing connection per process, its transactions serialised by an asyncio.Lock,
and one reading connection beside it.

Where statements run: handling an update, on the event loop itself. They are lookups and writes
of one row by its key, a few microseconds each, while a round trip to aiosqlite's thread costs
about 50 us of CPU and, under load, a turn of the event loop, for which a transaction holding the
write lock made every other writer wait (make bench: 15-25% of the bot's CPU per update, and the
throughput of the steps that write). Background work (the outbox, processing, reminders,
retention) may scan many rows: it calls `statements_off_loop()` and its statements go through
aiosqlite's thread. A commit that fills the write-ahead log to its checkpoint copies it into the
database on the loop: a few milliseconds, once per thousands of commits.

SQLite has a single writer. Rather than a pool of connections fighting over the write lock, the
process keeps one connection and lets one task at a time use it: a unit of work holds the lock from
BEGIN to COMMIT/ROLLBACK, so no other task's statements slip into its transaction. Read-only
units of work use the second connection (query_only): in WAL mode it reads the last commit while
a write is under way, so a lookup never waits for the write lock.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from datetime import datetime
from pathlib import Path
from typing import Any

import aiosqlite

from storage.sql import (
    Migration,
    Row,
    Session,
    UniqueViolation,
    UnitSession,
    apply_migrations,
    identifier,
    load_migrations,
    to_db_time,
)

log = logging.getLogger(__name__)
BUSY_TIMEOUT_MS = 5_000
WIPE_ATTEMPTS = 40  # checkpoints 50 ms apart: a reader has two seconds to finish
# True in tasks whose statements go through aiosqlite's thread (statements_off_loop).
_OFF_LOOP: ContextVar[bool] = ContextVar("sqlite_off_loop", default=False)


def statements_off_loop() -> None:
    """From now on, in this task and the tasks it starts, SQLite statements run in aiosqlite's
    thread instead of on the event loop: for background work whose queries may be long."""
    _OFF_LOOP.set(True)


class SqliteSession(Session):
    """Each statement is one round trip to aiosqlite's thread, its rows or row count included.

    With `begin` the session is transactional and lazy about it: when no transaction is open
    (at first, and after each commit or rollback) the statement's round trip opens one first, so
    a transaction costs no hop of its own to begin, and none to begin one that is only rolled
    back at the end.
    """

    def __init__(self, connection: aiosqlite.Connection, begin: str | None = None) -> None:
        self.connection = connection
        self._begin = begin

    async def fetch_all(self, sql: str, params: Sequence[object] = ()) -> Sequence[Row]:
        with _unique_violation():
            rows: list[Row] = await _statement(
                self.connection, self._begin, sql, _params(params), True
            )
        return rows

    async def execute(self, sql: str, params: Sequence[object] = ()) -> int:
        with _unique_violation():
            return int(await _statement(self.connection, self._begin, sql, _params(params), False))

    def json_text(self, column: str, field: str) -> str:
        path = f"'$.{identifier(field)}'"
        column = identifier(column)
        is_text = f"json_type({column}, {path}) = 'text'"
        return f"CASE WHEN {is_text} THEN json_extract({column}, {path}) END"


class SqliteUnitSession(SqliteSession, UnitSession):
    """Commit and rollback end the transaction; the next statement begins the next one."""

    def __init__(self, connection: aiosqlite.Connection, begin: str) -> None:
        super().__init__(connection, begin)

    async def commit(self) -> None:
        if self.connection.in_transaction:
            await _statement(self.connection, None, "COMMIT", (), False)

    async def rollback(self) -> None:
        await rollback_quietly(self.connection)


async def _statement(
    connection: aiosqlite.Connection,
    begin: str | None,
    sql: str,
    params: Sequence[object],
    fetch: bool,
    *,
    off_loop: bool = False,
) -> Any:
    """BEGIN when asked and no transaction is open, the statement, its rows (fetch) or row
    count, and closing its cursor: on the event loop, or (statements_off_loop, `off_loop`) in
    one round trip to aiosqlite's thread. Through aiosqlite's public calls the same takes up to
    four round trips (`async with connection.execute(...) as cursor` is two: the statement, then
    closing the cursor)."""
    if not (off_loop or _OFF_LOOP.get()):
        # aiosqlite's thread may run another task's statement only while that task holds the
        # connection's lock (Database.acquire, the reader's lock), so this never overlaps it.
        return _run(connection._conn, begin, sql, params, fetch)
    # aiosqlite has no public call that runs a function of ours on its thread; _execute is the
    # one each of its own methods goes through (pinned: aiosqlite 0.22.x in pyproject.toml).
    return await connection._execute(_run, connection._conn, begin, sql, params, fetch)


def _run(
    connection: sqlite3.Connection,
    begin: str | None,
    sql: str,
    params: Sequence[object],
    fetch: bool,
) -> Any:
    if begin is not None and not connection.in_transaction:
        connection.execute(begin)
    cursor = connection.execute(sql, params)
    try:
        return cursor.fetchall() if fetch else cursor.rowcount
    finally:
        cursor.close()


def _params(params: Sequence[object]) -> Sequence[object]:
    return [to_db_time(p) if isinstance(p, datetime) else p for p in params]


@contextmanager
def _unique_violation() -> Iterator[None]:
    try:
        yield
    except sqlite3.IntegrityError as error:
        if "UNIQUE constraint failed" in str(error):
            raise UniqueViolation(str(error)) from error
        raise


class _UserVersion:
    """SQLite keeps the schema version in the file header; BEGIN IMMEDIATE is the lock."""

    async def lock_and_read(self, session: Session) -> int:
        return int(await session.fetch_value("PRAGMA user_version") or 0)

    async def write(self, session: Session, migration: Migration) -> None:
        # PRAGMA takes no parameters; the version is an int from the file name.
        await session.execute(f"PRAGMA user_version={migration.version:d}")


class Database:
    """The process's SQLite connections. Build with `await Database.open(path)`."""

    single_process = True

    def __init__(self, connection: aiosqlite.Connection, path: Path) -> None:
        self._connection = connection
        self._lock = asyncio.Lock()
        self._owner: asyncio.Task[object] | None = None
        self._reader: aiosqlite.Connection | None = None
        self._reader_lock = asyncio.Lock()
        self.path = path

    @classmethod
    async def open(
        cls, path: Path | str, *, migrations: Sequence[Migration] | None = None
    ) -> Database:
        """Open (creating if needed) and bring the schema up to date."""
        path = Path(path)
        in_memory = str(path) == ":memory:"
        if not in_memory:
            path.parent.mkdir(parents=True, exist_ok=True)
            restrict_to_owner(path)
        connection = await _connect(path)
        try:
            # NORMAL is durable in WAL mode except for the last commits on power loss.
            await _statement(connection, None, "PRAGMA synchronous=NORMAL", (), True)
            # Deleted rows are overwritten with zeros, not left readable in free space (152-FZ:
            # erased personal data must not be recoverable from the file).
            await _statement(connection, None, "PRAGMA secure_delete=ON", (), True)
            database = cls(connection, path)
            await database.migrate(load_migrations() if migrations is None else migrations)
            if not in_memory:  # a second connection to ":memory:" would be another database
                database._reader = await _connect(path)
                await _statement(database._reader, None, "PRAGMA query_only=ON", (), True)
        except BaseException:
            await connection.close()
            raise
        return database

    async def close(self) -> None:
        async with self._lock:
            await self._connection.close()
        if self._reader is not None:
            async with self._reader_lock:
                await self._reader.close()

    @asynccontextmanager
    async def acquire(self) -> AsyncIterator[aiosqlite.Connection]:
        """Exclusive use of the writing connection, without a transaction (each statement
        autocommits).

        A task that already holds it gets an error instead of waiting for itself forever, e.g.
        FSM storage called inside an open unit of work.
        """
        task = asyncio.current_task()
        if task is not None and task is self._owner:
            raise RuntimeError("the database connection is already held by this task")
        async with self._lock:
            self._owner = task
            try:
                yield self._connection
            finally:
                self._owner = None

    @asynccontextmanager
    async def connect(self) -> AsyncIterator[Session]:
        async with self.acquire() as connection:
            yield SqliteSession(connection)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Session]:
        """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on an exception.

        IMMEDIATE takes SQLite's write lock up front, so another process cannot make a
        read-then-write transaction fail half-way with SQLITE_BUSY.
        """
        async with self.acquire() as connection:
            try:
                # BEGIN IMMEDIATE goes with the first statement, in its round trip.
                yield SqliteSession(connection, "BEGIN IMMEDIATE")
            except BaseException:
                await rollback_quietly(connection)
                raise
            if connection.in_transaction:
                await _statement(connection, None, "COMMIT", (), False)

    @asynccontextmanager
    async def unit(self, *, read_only: bool = False) -> AsyncIterator[UnitSession]:
        """The transaction of a unit of work; rolled back on leaving unless committed.

        A read-only one reads a snapshot on the reading connection (BEGIN DEFERRED takes no
        write lock) and never waits for a writer.
        """
        if read_only and self._reader is not None:
            async with self._reader_lock:
                async with self._begun(self._reader, "BEGIN") as session:
                    yield session
            return
        async with self.acquire() as connection:
            async with self._begun(connection, "BEGIN IMMEDIATE") as session:
                yield session

    async def wipe(self) -> None:
        """After an erasure: copy the write-ahead log into the database and truncate it, so
        page images written before the deletion do not stay in the -wal file (core.ports.
        FreedSpace; the database's own free space is zeroed by secure_delete).

        A reader's open snapshot keeps the log from being truncated: the reading connection is
        held meanwhile, and a checkpoint SQLite reports as blocked is tried again.
        """
        async with self.acquire() as connection, self._reader_lock:
            for _ in range(WIPE_ATTEMPTS):
                # Copying the log and syncing the file may take a while: off the loop even
                # when an update (/forget_me) asks for it.
                rows = await _statement(
                    connection, None, "PRAGMA wal_checkpoint(TRUNCATE)", (), True, off_loop=True
                )
                if not rows or rows[0][0] == 0:  # (busy, log frames, checkpointed frames)
                    return
                await asyncio.sleep(0.05)
        # The erasure itself is committed; the next wipe (the retention sweep's) truncates.
        log.error("the write-ahead log could not be truncated: a reader kept it busy")

    @staticmethod
    @asynccontextmanager
    async def _begun(connection: aiosqlite.Connection, begin: str) -> AsyncIterator[UnitSession]:
        # No round trip of its own: `begin` goes with the first statement (SqliteSession).
        try:
            yield SqliteUnitSession(connection, begin)
        finally:
            # Even if the rollback itself fails (a closed connection), the lock is released.
            await rollback_quietly(connection)

    async def schema_version(self) -> int:
        async with self.connect() as session:
            return await _UserVersion().lock_and_read(session)

    async def migrate(self, migrations: Sequence[Migration]) -> None:
        await apply_migrations(self, _UserVersion(), migrations)


async def _connect(path: Path) -> aiosqlite.Connection:
    # isolation_level=None: no implicit BEGIN from the sqlite3 module; transactions are ours.
    # check_same_thread=False: statements run on the event loop's thread too (_statement).
    connection = await aiosqlite.connect(path, isolation_level=None, check_same_thread=False)
    connection.row_factory = sqlite3.Row
    try:
        await _statement(connection, None, "PRAGMA journal_mode=WAL", (), True)
        await _statement(connection, None, f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}", (), True)
        await _statement(connection, None, "PRAGMA foreign_keys=ON", (), True)
    except BaseException:
        await connection.close()
        raise
    return connection


def restrict_to_owner(path: Path) -> None:
    """The database file and its -wal/-shm are the owner's only (0600), whatever the umask.

    Created here first, empty (a valid SQLite database), so it never exists with wider
    permissions; SQLite then gives -wal and -shm the database file's mode.
    """
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    for file in (path, *(path.with_name(path.name + suffix) for suffix in ("-wal", "-shm"))):
        if file.exists():
            file.chmod(0o600)


async def rollback_quietly(connection: aiosqlite.Connection) -> None:
    """ROLLBACK if a transaction is open; SQLite may already have rolled back on some errors."""
    if connection.in_transaction:
        await _statement(connection, None, "ROLLBACK", (), False)
