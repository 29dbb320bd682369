"""Telegram ids reach the log only as salted hashes, aiogram's lines included."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from bot.logs import RedactTelegramIds, pseudonym, redact_ids


@pytest.fixture
def output() -> Iterator[io.StringIO]:
    """A handler with the filter on the root logger, as setup_logging installs it."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactTelegramIds())
    root = logging.getLogger()
    root.addHandler(handler)
    level = root.level
    root.setLevel(logging.DEBUG)
    yield stream
    root.removeHandler(handler)
    root.setLevel(level)


def test_a_pseudonym_is_stable_and_gives_no_id_away() -> None:
    assert pseudonym(586204937) == pseudonym("586204937")
    assert pseudonym(586204937) != pseudonym(586204938)
    assert "586204937" not in pseudonym(586204937)


@pytest.mark.parametrize(
    "line",
    [
        "Started chat action 'typing' sender in chat_id=586204937 via bot id=123",
        "Sent chat action 'typing' to chat_id=586204937 via bot 123 (already sent actions 0)",
        "user_id=586204937 chat=-100586204937",
        "{'chat_id': 586204937}",
    ],
)
def test_ids_in_known_shapes_are_replaced(line: str) -> None:
    redacted = redact_ids(line)
    assert "586204937" not in redacted
    assert pseudonym(586204937) in redacted or pseudonym(-100586204937) in redacted


def test_other_numbers_stay() -> None:
    line = "Update id=100751524 is handled. Duration 25 ms by bot id=123456789"
    assert redact_ids(line) == line


def test_records_of_aiogram_loggers_are_redacted_on_the_handler(output: io.StringIO) -> None:
    # A filter on the "aiogram" logger would miss this: records of child loggers skip it.
    logging.getLogger("aiogram.utils.chat_action").debug(
        "Started chat action %r sender in chat_id=%s via bot id=%d", "typing", 586204937, 123
    )
    text = output.getvalue()
    assert "586204937" not in text
    assert f"chat_id={pseudonym(586204937)} via bot id=123" in text
