"""The one outbound path: retries on 429 after retry_after, on 5xx with backoff, and names a
final failure; a blocked user is told apart from a transient failure. And the session's
retrying of the other calls (replies)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from aiogram.exceptions import (
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import (
    EditMessageReplyMarkup,
    GetUpdates,
    SendChatAction,
    SendMessage,
    TelegramMethod,
)

from bot.delivery import Delivery, RetryTransientFailures
from core.errors import DeliveryFailed, DeliveryUncertain, RecipientUnreachable


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
    bot = ScriptedBot(["a", "b", "c", "d"])
    delivery = Delivery(bot)  # type: ignore[arg-type]
    for _ in range(4):
        await delivery.send(message(), chat_id=5)
    times = [at for at, _ in bot.calls]
    assert times[-1] - times[0] >= 1.5  # the bucket lets a burst of two through, then paces


async def test_a_private_chat_takes_a_burst_of_two_at_once() -> None:
    bot = ScriptedBot(["a", "b", "c"])
    delivery = Delivery(bot)  # type: ignore[arg-type]
    for _ in range(3):
        await delivery.send(message(), chat_id=5)
    (first, _), (second, _), (third, _) = bot.calls
    assert second - first < 0.5  # a status push and the PDF right behind it
    assert third - first >= 0.9  # then one a second


async def test_different_chats_are_not_paced_by_each_other() -> None:
    bot = ScriptedBot(["a", "b", "c"])
    delivery = Delivery(bot)  # type: ignore[arg-type]
    for chat in (1, 2, 3):
        await delivery.send(message(chat), chat_id=chat)
    times = [at for at, _ in bot.calls]
    assert times[-1] - times[0] < 0.5


def lost(method: TelegramMethod[Any]) -> Exception:
    return TelegramNetworkError(method=method, message="Server disconnected")


async def test_a_call_that_must_not_run_twice_is_not_resent_after_a_lost_answer() -> None:
    bot = ScriptedBot([server_error, lost])
    delivery = Delivery(bot)  # type: ignore[arg-type]
    with pytest.raises(DeliveryUncertain):
        await delivery.send(message(), chat_id=5, resend_after_lost_answer=False)
    assert len(bot.calls) == 2  # the 5xx was retried: Telegram did not act on it


class ScriptedRequests:
    """make_request for a session middleware, answering from a script like ScriptedBot."""

    def __init__(self, outcomes: list[Any]) -> None:
        self.bot = ScriptedBot(outcomes)

    async def __call__(self, bot: Any, method: TelegramMethod[Any]) -> Any:
        return await self.bot(method)


async def test_replies_outside_delivery_are_retried_on_transient_failures() -> None:
    retry = RetryTransientFailures(first_backoff=0.01)
    requests = ScriptedRequests([server_error, lost, "sent"])
    assert await retry(requests, None, message()) == "sent"  # type: ignore[arg-type]
    assert len(requests.bot.calls) == 3
    requests = ScriptedRequests([retry_after(1), "sent"])
    assert await retry(requests, None, message()) == "sent"  # type: ignore[arg-type]
    (first, _), (second, _) = requests.bot.calls
    assert second - first >= 0.95


async def test_an_edit_is_not_resent_after_a_lost_answer_and_attempts_are_bounded() -> None:
    retry = RetryTransientFailures(attempts=3, first_backoff=0.01)
    edit = EditMessageReplyMarkup(chat_id=5, message_id=1)
    requests = ScriptedRequests([lost])
    with pytest.raises(TelegramNetworkError):
        await retry(requests, None, edit)  # type: ignore[arg-type]
    requests = ScriptedRequests([server_error] * 3)
    with pytest.raises(TelegramServerError):
        await retry(requests, None, edit)  # type: ignore[arg-type]
    assert len(requests.bot.calls) == 3


async def test_delivery_and_polling_calls_pass_through_once() -> None:
    retry = RetryTransientFailures(first_backoff=0.01)
    requests = ScriptedRequests([server_error])
    with pytest.raises(TelegramServerError):
        await retry(requests, None, GetUpdates())  # type: ignore[arg-type]

    class ThroughSession:
        """A bot whose calls go through the middleware, as aiogram's session does."""

        def __init__(self) -> None:
            self.requests = ScriptedRequests([server_error, "sent"])

        async def __call__(self, method: TelegramMethod[Any]) -> Any:
            return await retry(self.requests, self, method)  # type: ignore[arg-type]

    bot = ThroughSession()
    delivery = Delivery(bot)  # type: ignore[arg-type]
    assert await delivery.send(message(), chat_id=5) == "sent"
    assert len(bot.requests.bot.calls) == 2  # Delivery's own retry; the session added none


async def test_a_chat_action_does_not_use_the_chats_message_budget() -> None:
    bot = ScriptedBot([True, "sent", "sent"])
    delivery = Delivery(bot)  # type: ignore[arg-type]
    await delivery.send(SendChatAction(chat_id=5, action="upload_document"), chat_id=5)
    assert delivery.can_send_now(5)
    await delivery.send(message(), chat_id=5)
    await delivery.send(message(), chat_id=5)
    (first, _), *_, (third, _) = bot.calls
    assert third - first < 0.5
    assert not delivery.can_send_now(5)  # a burst of two messages, then one a second
