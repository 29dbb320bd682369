"""Fixtures every test layer may use: the tests' PostgreSQL server (tests/postgres_server.py)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.postgres_server import (
    STATE_DIR_VARIABLE,
    PostgresServer,
    new_state_dir,
    postgres_server,
    stop,
)

_OWN_STATE_DIR = pytest.StashKey[bool]()


def _is_controller(config: pytest.Config) -> bool:
    return not hasattr(config, "workerinput")  # an xdist worker has it


def pytest_configure(config: pytest.Config) -> None:
    # Chosen before xdist starts its workers, which inherit it and so share one server.
    if _is_controller(config) and STATE_DIR_VARIABLE not in os.environ:
        os.environ[STATE_DIR_VARIABLE] = str(new_state_dir())
        config.stash[_OWN_STATE_DIR] = True


def pytest_unconfigure(config: pytest.Config) -> None:
    if _is_controller(config) and config.stash.get(_OWN_STATE_DIR, False):
        stop(Path(os.environ.pop(STATE_DIR_VARIABLE)))


@pytest.fixture(scope="session")
def postgres() -> PostgresServer:
    return postgres_server()


@pytest.fixture
async def postgres_url(postgres: PostgresServer) -> AsyncIterator[str]:
    """A new empty database on the test server, dropped after the test."""
    url = await postgres.create_database()
    yield url
    await postgres.drop_database(url)
