"""The one path for everything sent outside a direct reply: status pushes, the policy PDF,
operator relays, reminders. It respects Telegram's rate limits (bot/ratelimit.py) and retries
on 429 and on transient failures, so callers only see success or a final, named failure.
"""

from __future__ import annotations

import asyncio
import logging
from contextvars import ContextVar
from typing import Any, TypeVar

from aiogram import Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.exceptions import (
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import (
    CopyMessage,
    GetChatAdministrators,
    GetFile,
    GetMe,
    GetUpdates,
    SendChatAction,
    SendDocument,
    SendMessage,
    SendPhoto,
    TelegramMethod,
)
from aiogram.methods.base import TelegramType

from bot.ratelimit import LocalSendRates, SendRates
from core.errors import DeliveryFailed, DeliveryUncertain, RecipientUnreachable

log = logging.getLogger(__name__)
T = TypeVar("T")
# Set while Delivery sends, so the session's own retrying leaves its calls alone.
_IN_DELIVERY: ContextVar[bool] = ContextVar("in_delivery", default=False)


class Delivery:
    def __init__(
        self,
        bot: Bot,
        rates: SendRates | None = None,
        *,
        attempts: int = 5,
    ) -> None:
        """`rates`: this process's own budgets (Telegram's limits) unless given (bot/app.py
        shares them through Redis when several processes send)."""
        self.bot = bot
        self.attempts = attempts
        self._rates = rates or LocalSendRates()

    def can_send_now(self, chat_id: int) -> bool:
        """Whether a message to `chat_id` would go out without waiting for a rate limit."""
        return self._rates.can_send_now(chat_id)

    async def send(
        self, method: TelegramMethod[T], *, chat_id: int, resend_after_lost_answer: bool = True
    ) -> T:
        """`resend_after_lost_answer=False` for a call that must not be carried out twice: a
        lost connection (Telegram may have acted on the call) then raises DeliveryUncertain
        instead of sending it again. 429 and 5xx answers are always retried: Telegram did
        not act on the call."""
        token = _IN_DELIVERY.set(True)
        try:
            return await self._send(method, chat_id, resend_after_lost_answer)
        finally:
            _IN_DELIVERY.reset(token)

    async def _send(self, method: TelegramMethod[T], chat_id: int, resend: bool) -> T:
        backoff = 0.5
        # A chat action ("sending a file...") is no message: the chat's budget is left alone.
        message = not isinstance(method, SendChatAction)
        for attempt in range(1, self.attempts + 1):
            await self._rates.acquire(chat_id, message=message)
            try:
                return await self.bot(method)
            except TelegramRetryAfter as error:
                wait: float = error.retry_after
                log.warning("429 on %s, retry after %ss", type(method).__name__, wait)
            except TelegramForbiddenError as error:
                raise RecipientUnreachable(error.message) from error
            except (TelegramServerError, TelegramNetworkError) as error:
                if isinstance(error, TelegramNetworkError) and not resend:
                    raise DeliveryUncertain(f"{type(method).__name__}: answer lost") from error
                wait = backoff
                backoff *= 2
                log.warning(
                    "%s on %s (attempt %s)",
                    type(error).__name__,
                    type(method).__name__,
                    attempt,
                )
            if attempt < self.attempts:
                await asyncio.sleep(wait)
        raise DeliveryFailed(f"{type(method).__name__} failed after {self.attempts} attempts")


# Calls that may be sent again after a lost connection: reads, and replies, which are better
# sent twice than never. An edit or a callback answer sent again would fail as "not modified"
# or "query is too old" when the first one went through.
_REPEATABLE = (
    SendMessage,
    SendDocument,
    SendPhoto,
    CopyMessage,
    SendChatAction,
    GetFile,
    GetChatAdministrators,
)


class RetryTransientFailures(BaseRequestMiddleware):
    """Session middleware for the calls made outside Delivery, which are mostly handlers'
    replies: a 429 is waited out and a 5xx tried again (Telegram did not act on either), and a
    lost connection is tried again for the calls in _REPEATABLE. Without it, one 502 on a reply
    failed the whole update and the citizen never saw the next step. getUpdates and getMe have
    retry loops of their own (aiogram's polling, start-up's)."""

    def __init__(self, attempts: int = 3, first_backoff: float = 0.5) -> None:
        self.attempts = attempts
        self.first_backoff = first_backoff

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Any:
        if _IN_DELIVERY.get() or isinstance(method, GetUpdates | GetMe):
            return await make_request(bot, method)
        backoff = self.first_backoff
        for attempt in range(1, self.attempts):
            try:
                return await make_request(bot, method)
            except TelegramRetryAfter as error:
                wait: float = error.retry_after
            except TelegramServerError:
                wait, backoff = backoff, backoff * 2
            except TelegramNetworkError:
                if not isinstance(method, _REPEATABLE):
                    raise
                wait, backoff = backoff, backoff * 2
            log.warning("%s failed (attempt %s); trying again", type(method).__name__, attempt)
            await asyncio.sleep(wait)
        return await make_request(bot, method)
