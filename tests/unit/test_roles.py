"""The command line's roles and what each needs in the settings (bot/__main__.py)."""

from __future__ import annotations

from typing import Any

import pytest

from bot.__main__ import parse_role, role_problem
from bot.app import Role
from tests.unit.test_settings import error_line, settings

TOKEN = "123456:ABC-DEF"
SCALED = {
    "bot_token": TOKEN,
    "redis_url": "redis://redis:6379/0",
    "webhook_url": "https://bot.example.org/telegram",
    "webhook_secret": "s3cret",
}


@pytest.mark.parametrize(
    ("argv", "role"),
    [([], Role.ALL), (["web"], Role.WEB), (["worker"], Role.WORKER), (["all"], None)],
)
def test_the_role_is_the_only_argument(argv: list[str], role: Role | None) -> None:
    assert parse_role(argv) is role
    assert parse_role([*argv, "extra"]) is None


def test_everything_in_one_process_needs_nothing_more() -> None:
    assert role_problem(settings(), Role.ALL) is None


@pytest.mark.parametrize(
    ("role", "missing", "variable"),
    [
        (Role.WEB, "redis_url", "REDIS_URL"),
        (Role.WORKER, "redis_url", "REDIS_URL"),
        (Role.WORKER, "bot_token", "BOT_TOKEN"),
        (Role.WEB, "webhook_url", "WEBHOOK_URL"),
        (Role.WEB, "webhook_secret", "WEBHOOK_SECRET"),  # a random one per process differs
    ],
)
def test_a_scaled_out_role_names_what_it_lacks(role: Role, missing: str, variable: str) -> None:
    values: dict[str, Any] = {**SCALED, missing: None}
    problem = role_problem(settings(**values), role)
    assert problem is not None and problem.startswith(f"{variable}: required by the {role} role")
    assert role_problem(settings(**SCALED), role) is None


def test_the_worker_needs_no_webhook() -> None:
    assert (
        role_problem(settings(bot_token=TOKEN, redis_url="redis://localhost"), Role.WORKER) is None
    )


@pytest.mark.parametrize("url", ["http://redis:6379", "redis-host:6379", "postgresql://x/y"])
def test_redis_url_must_be_a_redis_url_and_is_never_echoed(url: str) -> None:
    line = error_line(redis_url=url)
    assert line.startswith("Invalid configuration: REDIS_URL: expected redis://")
    assert url not in line


def test_redis_url_keeps_its_password_secret() -> None:
    loaded = settings(redis_url="redis://:hunter2@redis:6379/0")
    assert loaded.redis_url is not None and "hunter2" not in repr(loaded)
