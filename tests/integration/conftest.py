"""Storage fixtures. The contract suites take `database` (or `database_url`): one test run per
engine, SQLite and PostgreSQL (tests/postgres_server.py)."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from core.ports import UnitOfWorkFactory
from storage.database import Database
from storage.engines import open_database, parse_database_url, sqlite_url
from storage.sql import SqlDatabase
from storage.unit_of_work import SqlUnitOfWorkFactory
from tests.fakes import FakeUnitOfWorkFactory

ENGINES = ["sqlite", "postgresql"]


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "bot.sqlite3"


@pytest.fixture
async def db(db_path: Path) -> AsyncIterator[Database]:
    """SQLite, for what only SQLite has (its files, its one writing connection)."""
    database = await Database.open(db_path)
    yield database
    await database.close()


def empty_database_url(engine: str, request: pytest.FixtureRequest) -> str:
    """A new empty database: a SQLite file, or a database of its own on the test server."""
    if engine == "sqlite":
        return sqlite_url(request.getfixturevalue("db_path"))
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture(params=ENGINES)
def database_url(request: pytest.FixtureRequest) -> str:
    return empty_database_url(request.param, request)


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[SqlDatabase]:
    """The database of the engine under test, migrated."""
    opened = await open_database(parse_database_url(database_url))
    yield opened
    await opened.close()


@pytest.fixture(params=["fake", *ENGINES])
def backend_url(request: pytest.FixtureRequest) -> str | None:
    return None if request.param == "fake" else empty_database_url(request.param, request)


@pytest.fixture
async def uow_factory(backend_url: str | None) -> AsyncIterator[UnitOfWorkFactory]:
    """The repository contract's units of work: the in-memory fakes, then each engine."""
    if backend_url is None:
        yield FakeUnitOfWorkFactory()
        return
    database = await open_database(parse_database_url(backend_url))
    yield SqlUnitOfWorkFactory(database)
    await database.close()
