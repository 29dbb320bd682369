"""The one path for everything sent outside a direct reply: status pushes, the policy PDF,
operator relays, reminders. It respects Telegram's rate limits and retries on 429 and on
transient failures, so callers only see success or a final, named failure.

Limits: about 30 messages/s overall, 1 message/s per private chat, 20 messages/min per group
(https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this).
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from typing import TypeVar

from aiogram import Bot
from aiogram.exceptions import (
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import TelegramMethod
from aiolimiter import AsyncLimiter

from core.errors import DeliveryFailed, RecipientUnreachable

log = logging.getLogger(__name__)
T = TypeVar("T")


class Delivery:
    def __init__(
        self,
        bot: Bot,
        *,
        per_second: float = 30,
        per_private_chat_second: float = 1,
        per_group_minute: float = 20,
        attempts: int = 5,
        max_chats_tracked: int = 10_000,
    ) -> None:
        self.bot = bot
        self.attempts = attempts
        self._global = AsyncLimiter(per_second, 1)
        self._private_rate = per_private_chat_second
        self._group_rate = per_group_minute
        self._chats: OrderedDict[int, AsyncLimiter] = OrderedDict()
        self._max_chats = max_chats_tracked

    def _chat_limiter(self, chat_id: int) -> AsyncLimiter:
        limiter = self._chats.get(chat_id)
        if limiter is None:
            # Negative ids are groups and channels, with a per-minute budget.
            limiter = (
                AsyncLimiter(self._group_rate, 60)
                if chat_id < 0
                else AsyncLimiter(self._private_rate, 1)
            )
            self._chats[chat_id] = limiter
            if len(self._chats) > self._max_chats:
                self._chats.popitem(last=False)
        else:
            self._chats.move_to_end(chat_id)
        return limiter

    async def send(self, method: TelegramMethod[T], *, chat_id: int) -> T:
        backoff = 0.5
        for attempt in range(1, self.attempts + 1):
            async with self._chat_limiter(chat_id), self._global:
                try:
                    return await self.bot(method)
                except TelegramRetryAfter as error:
                    wait: float = error.retry_after
                    log.warning("429 on %s, retry after %ss", type(method).__name__, wait)
                except TelegramForbiddenError as error:
                    raise RecipientUnreachable(error.message) from error
                except (TelegramServerError, TelegramNetworkError) as error:
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
