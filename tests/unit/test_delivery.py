"""The one outbound path: retries on 429 after retry_after, on 5xx with backoff, and names a
final failure; a blocked user is told apart from a transient failure."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from aiogram.exceptions import TelegramForbiddenError, TelegramRetryAfter, TelegramServerError
from aiogram.methods import SendMessage, TelegramMethod

from bot.delivery import Delivery
from core.errors import DeliveryFailed, RecipientUnreachable


class ScriptedBot:
    """Answers each call with the next scripted outcome: an exception factory or a value."""

    def __init__(self, outcomes: list[Any]) -> None:
        self.outcomes: Iterator[Any] = iter(outcomes)
        self.calls: list[tuple[float, TelegramMethod[Any]]] = []

    async def __call__(self, method: TelegramMethod[Any]) -> Any:
        self.calls.append((time.monotonic(), method))
        outcome = next(self.outcomes)
        if callable(outcome):
            raise outcome(method)
        return outcome


def retry_after(seconds: int) -> Any:
    return lambda method: TelegramRetryAfter(
        method=method, message="Too Many Requests", retry_after=seconds
    )


def server_error(method: TelegramMethod[Any]) -> Exception:
    return TelegramServerError(method=method, message="Bad Gateway")


def blocked(method: TelegramMethod[Any]) -> Exception:
    return TelegramForbiddenError(method=method, message="Forbidden: bot was blocked by the user")


def message(chat_id: int = 5) -> SendMessage:
    return SendMessage(chat_id=chat_id, text="hello")


async def test_waits_retry_after_then_succeeds() -> None:
    bot = ScriptedBot([retry_after(1), "sent"])
    delivery = Delivery(bot)  # type: ignore[arg-type]
    assert await delivery.send(message(), chat_id=5) == "sent"
    (first, _), (second, _) = bot.calls
    assert second - first >= 0.95


async def test_server_errors_are_retried_then_reported() -> None:
    bot = ScriptedBot([server_error, server_error, server_error])
    delivery = Delivery(bot, attempts=3)  # type: ignore[arg-type]
    with pytest.raises(DeliveryFailed):
        await delivery.send(message(), chat_id=5)
    assert len(bot.calls) == 3


async def test_blocked_user_is_not_retried() -> None:
    bot = ScriptedBot([blocked])
    delivery = Delivery(bot)  # type: ignore[arg-type]
    with pytest.raises(RecipientUnreachable):
        await delivery.send(message(), chat_id=5)
    assert len(bot.calls) == 1


async def test_one_private_chat_gets_about_one_message_a_second() -> None:
    bot = ScriptedBot(["a", "b", "c"])
    delivery = Delivery(bot, per_private_chat_second=1)  # type: ignore[arg-type]
    for _ in range(3):
        await delivery.send(message(), chat_id=5)
    times = [at for at, _ in bot.calls]
    assert times[-1] - times[0] >= 1.5  # the bucket lets the first through, then paces


async def test_different_chats_are_not_paced_by_each_other() -> None:
    bot = ScriptedBot(["a", "b", "c"])
    delivery = Delivery(bot, per_private_chat_second=1)  # type: ignore[arg-type]
    for chat in (1, 2, 3):
        await delivery.send(message(chat), chat_id=chat)
    times = [at for at, _ in bot.calls]
    assert times[-1] - times[0] < 0.5
