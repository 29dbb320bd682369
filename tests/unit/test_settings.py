"""Settings of the webhook mode: each bad value is named in one line, secrets never echoed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from bot.settings import Settings, describe_error


def settings(**values: Any) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def error_line(**values: Any) -> str:
    with pytest.raises(ValidationError) as error:
        settings(**values)
    return describe_error(error.value)


def test_polling_is_the_default() -> None:
    s = settings()
    assert s.webhook_url is None and s.webhook_secret is None
    assert (s.web_host, s.web_port) == ("0.0.0.0", 8081)


def test_empty_webhook_variables_mean_unset() -> None:
    s = settings(webhook_url="", webhook_secret="")
    assert s.webhook_url is None and s.webhook_secret is None


def test_the_bot_serves_the_webhook_on_the_path_of_its_public_url() -> None:
    s = settings(webhook_url="https://bot.example.org/telegram/hook?x=1")
    assert s.webhook_path == "/telegram/hook"
    assert settings(webhook_url="https://bot.example.org").webhook_path == "/"


@pytest.mark.parametrize(
    "url",
    ["http://bot.example.org/hook", "bot.example.org/hook", "https:///hook", "https://x.org/#a"],
)
def test_webhook_url_must_be_a_public_https_url(url: str) -> None:
    line = error_line(webhook_url=url)
    assert line.startswith("Invalid configuration: WEBHOOK_URL: ")


def test_webhook_url_cannot_take_the_health_check_path() -> None:
    assert "/healthz" in error_line(webhook_url="https://bot.example.org/healthz")


@pytest.mark.parametrize("secret", ["has space", "x" * 257, "кириллица", "semi;colon"])
def test_webhook_secret_takes_what_telegram_accepts(secret: str) -> None:
    line = error_line(webhook_secret=secret)
    assert "WEBHOOK_SECRET: expected 1-256 characters of A-Z, a-z, 0-9, _ and -" in line
    assert secret not in line


def test_a_good_webhook_secret_is_kept_secret() -> None:
    s = settings(webhook_secret="Abc_123-xyz")
    assert s.webhook_secret is not None
    assert s.webhook_secret.get_secret_value() == "Abc_123-xyz"
    assert "Abc_123" not in repr(s)


@pytest.mark.parametrize("port", [0, 65536, "eighty"])
def test_web_port_is_a_tcp_port(port: object) -> None:
    assert "WEB_PORT: " in error_line(web_port=port)


def test_startup_retry_seconds_is_not_negative() -> None:
    assert "STARTUP_RETRY_SECONDS: " in error_line(startup_retry_seconds=-1)


def test_the_database_is_sqlite_in_data_dir_unless_database_url_says_otherwise(
    tmp_path: Path,
) -> None:
    default = settings(database_url="").database
    assert (default.engine, default.sqlite_path) == ("sqlite", Path("data/bot.sqlite3"))
    assert settings(data_dir=tmp_path).database.sqlite_path == tmp_path / "bot.sqlite3"
    assert settings(database_url="sqlite:////srv/oms/bot.db").database.sqlite_path == Path(
        "/srv/oms/bot.db"
    )
    url = "postgresql://bot:s3cret@db.example.org:5432/oms"
    s = settings(database_url=url)
    assert (s.database.engine, s.database.url) == ("postgresql", url)
    assert "s3cret" not in repr(s)


@pytest.mark.parametrize(
    "url",
    [
        "mysql://bot:s3cret@db/oms",
        "sqlite://data/bot.sqlite3",
        "sqlite:///",
        "postgresql://bot:s3cret@db:port/oms",
        "postgresql:///oms",
        "data/bot.sqlite3",
    ],
)
def test_a_wrong_database_url_is_named_without_echoing_it(url: str) -> None:
    line = error_line(database_url=url)
    assert line.startswith("Invalid configuration: DATABASE_URL: expected sqlite:///")
    assert "s3cret" not in line


def test_flood_control_and_call_timeout_defaults_and_bounds() -> None:
    s = settings()
    assert (s.flood_limit, s.flood_period_seconds, s.telegram_timeout_seconds) == (20, 10.0, 60.0)
    assert settings(flood_limit="0").flood_limit == 0  # off
    assert error_line(flood_limit="-1").startswith("Invalid configuration: FLOOD_LIMIT: ")
    assert "FLOOD_PERIOD_SECONDS: " in error_line(flood_period_seconds="0")
    assert "TELEGRAM_TIMEOUT_SECONDS: " in error_line(telegram_timeout_seconds="0")
