"""Which engine holds the records, chosen by DATABASE_URL, and everything built on it.

`sqlite:///relative/path.sqlite3` or `sqlite:////absolute/path.sqlite3`: the embedded default, one
bot process. `postgresql://user:password@host:5432/dbname`: any number of bot processes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from core.ports import Clock
from storage.database import Database
from storage.fsm import SqlFsmStorage
from storage.health import SqlHealthProbe
from storage.postgres import PostgresDatabase
from storage.sql import SqlDatabase
from storage.unit_of_work import SqlUnitOfWorkFactory

EXPECTED = (
    "expected sqlite:///path/to/bot.sqlite3 (sqlite://// for an absolute path)"
    " or postgresql://user:password@host:5432/dbname"
)


@dataclass(frozen=True, slots=True)
class DatabaseUrl:
    url: str
    sqlite_path: Path | None  # None: PostgreSQL

    @property
    def engine(self) -> str:
        return "sqlite" if self.sqlite_path is not None else "postgresql"


def parse_database_url(text: str) -> DatabaseUrl:
    """Raises ValueError naming what is expected (never echoing the URL: it may hold a password)."""
    text = text.strip()
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - a port that is not a number raises here
    except ValueError:
        raise ValueError(EXPECTED) from None
    if parts.scheme == "sqlite":
        path = parts.path[1:]  # sqlite:///data/x: "data/x"; sqlite:////data/x: "/data/x"
        if parts.netloc or parts.query or not parts.path.startswith("/") or not path.strip("/"):
            raise ValueError(EXPECTED)
        return DatabaseUrl(text, Path(path))
    if parts.scheme in ("postgresql", "postgres") and (parts.hostname or "host=" in parts.query):
        return DatabaseUrl(text, None)
    raise ValueError(EXPECTED)


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


async def open_database(url: DatabaseUrl, *, retry_seconds: float = 0.0) -> SqlDatabase:
    """Open it and bring its schema up to date."""
    if url.sqlite_path is not None:
        return await Database.open(url.sqlite_path)
    return await PostgresDatabase.open(url.url, retry_seconds=retry_seconds)


@dataclass
class Storage:
    """What the composition root needs from storage, whichever the engine."""

    database: SqlDatabase
    uow_factory: SqlUnitOfWorkFactory
    fsm: SqlFsmStorage

    def health_probe(self, clock: Clock) -> SqlHealthProbe:
        return SqlHealthProbe(self.database, clock)

    async def close(self) -> None:
        """Closes the database; the FSM storage's close() leaves it to this."""
        await self.database.close()


async def open_storage(
    url: DatabaseUrl, *, retry_seconds: float = 0.0, clock: Clock | None = None
) -> Storage:
    database = await open_database(url, retry_seconds=retry_seconds)
    return Storage(
        database=database,
        uow_factory=SqlUnitOfWorkFactory(database),
        fsm=SqlFsmStorage(database, clock=clock),
    )
