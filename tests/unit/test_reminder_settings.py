"""Settings of reminders, email and the sandbox clock: named in one line when wrong; a movable
clock is refused anywhere but on a loopback Bot API server."""

from __future__ import annotations

from datetime import time, timedelta
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


def test_the_defaults_are_a_day_twice_three_days_and_quiet_nights() -> None:
    policy = settings().reminder_policy()
    assert (policy.dialog_after, policy.dialog_max) == (timedelta(hours=24), 2)
    assert policy.pickup_every == timedelta(days=3)
    assert str(policy.quiet_hours) == "22:00-09:00"
    assert policy.digest_at == time(9, 0)
    assert not settings().email_enabled


def test_quiet_hours_and_the_digest_time_are_read_from_text() -> None:
    s = settings(quiet_hours="23:30-07:00", digest_at="08:15")
    assert str(s.quiet_hours) == "23:30-07:00" and s.digest_at == time(8, 15)
    assert error_line(quiet_hours="late").startswith("Invalid configuration: QUIET_HOURS:")
    assert "DIGEST_AT" in error_line(digest_at="9am")


def test_smtp_needs_a_sender_and_a_url_of_its_own_scheme_without_echoing_it() -> None:
    assert settings(smtp_url="smtp://u:p@127.0.0.1:2525", smtp_from="a@b.org").email_enabled
    assert "SMTP_FROM" in error_line(smtp_url="smtp://127.0.0.1:2525")
    line = error_line(smtp_url="http://user:hunter2@mail.example.org", smtp_from="a@b.org")
    assert "SMTP_URL" in line and "hunter2" not in line


@pytest.mark.parametrize(
    "base", ["http://127.0.0.1:8081", "http://localhost:1234", "http://[::1]:8081"]
)
def test_the_sandbox_clock_is_accepted_on_loopback(base: str) -> None:
    assert settings(sandbox_clock=True, telegram_api_base=base).sandbox_clock


@pytest.mark.parametrize("base", ["https://api.telegram.org", "http://10.0.0.5:8081"])
def test_the_sandbox_clock_is_refused_for_a_real_bot_api(base: str) -> None:
    assert "SANDBOX_CLOCK" in error_line(sandbox_clock=True, telegram_api_base=base)
