"""Where no PostgreSQL server can be had, its tests skip on a developer's machine and fail in CI."""

from __future__ import annotations

import pytest

from tests import postgres_server


@pytest.fixture
def no_server(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    monkeypatch.delenv("PG_TEST_URL", raising=False)
    monkeypatch.setattr(postgres_server, "find_binaries", lambda: None)
    return monkeypatch


def test_without_a_server_the_tests_skip_saying_how_to_get_one(
    no_server: pytest.MonkeyPatch,
) -> None:
    no_server.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match=r"install-postgres\.sh"):
        postgres_server.postgres_server()


def test_without_a_server_under_ci_the_tests_fail(no_server: pytest.MonkeyPatch) -> None:
    no_server.setenv("CI", "1")
    with pytest.raises(pytest.fail.Exception, match="missing under CI"):
        postgres_server.postgres_server()


def test_pg_test_url_names_the_server_to_use(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PG_TEST_URL", "postgresql://tester@db.example.org:5433/postgres")
    server = postgres_server.postgres_server()
    assert server.url_of("test_x") == "postgresql://tester@db.example.org:5433/test_x"
