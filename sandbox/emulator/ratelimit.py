"""Telegram's flood limits, enforced: past them a send gets 429 with ``retry_after``.

Off by default. Turn it on for a load test of a bot's delivery path::

    emu.rate_limits = RateLimits()  # 30 messages/s overall, 1/s per private chat, 20/min per group

Limits are token buckets, the way Telegram describes them
(https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this): the overall
bucket holds a second's worth of messages, so a burst of 30 passes and then 30 per second; a
private chat's bucket holds ``private_chat_burst`` messages ("you may be able to send more for
short bursts": a reply of two messages in a row passes) refilled at one a second, so sustained
sending is held to 1 per second. ``tolerance`` accepts a send that comes that many seconds
early, standing in for the network jitter Telegram does not punish: a client that spaces its
sends exactly one second apart may see them arrive a few milliseconds closer together.

Only messages count (``send*`` except ``sendChatAction``, copies and forwards); edits, callback
answers and reads are free.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from .errors import ApiError, too_many_requests

NOT_MESSAGES = frozenset({"sendchataction"})
ALSO_MESSAGES = frozenset({"copymessage", "copymessages", "forwardmessage", "forwardmessages"})


def counts_as_message(method: str) -> bool:
    name = method.lower()
    return (name.startswith("send") and name not in NOT_MESSAGES) or name in ALSO_MESSAGES


@dataclass
class TokenBucket:
    """`capacity` tokens, refilled at `rate` per second; a send takes one."""

    rate: float
    capacity: float
    tokens: float = field(default=-1.0)
    updated: float = 0.0

    def __post_init__(self) -> None:
        if self.tokens < 0:
            self.tokens = self.capacity

    def _refill(self, now: float) -> None:
        if now > self.updated:
            self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
            self.updated = now

    def wait(self, now: float, tolerance: float = 0.0) -> float:
        """Seconds until a token is there (0 when one is, allowing `tolerance` seconds early)."""
        self._refill(now)
        missing = 1.0 - self.tokens - tolerance * self.rate
        return 0.0 if missing <= 0 else (1.0 - self.tokens) / self.rate

    def take(self) -> None:
        self.tokens -= 1.0


@dataclass
class RateLimitStats:
    allowed: int = 0
    refused_overall: int = 0
    refused_chat: int = 0

    @property
    def refused(self) -> int:
        return self.refused_overall + self.refused_chat


class RateLimits:
    """The limits of one bot. ``check`` answers None (the send goes ahead and is counted) or the
    429 error to return."""

    def __init__(
        self,
        per_second: float = 30,
        per_private_chat_second: float = 1,
        per_group_minute: float = 20,
        *,
        private_chat_burst: int = 3,
        tolerance: float = 0.05,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.per_second = per_second
        self.per_private_chat_second = per_private_chat_second
        self.per_group_minute = per_group_minute
        self.private_chat_burst = private_chat_burst
        self.tolerance = tolerance
        self.clock = clock
        self.overall = TokenBucket(per_second, per_second, updated=clock())
        self.chats: dict[str, TokenBucket] = {}
        self.stats = RateLimitStats()

    def _chat_bucket(self, chat: str, now: float) -> TokenBucket:
        bucket = self.chats.get(chat)
        if bucket is None:
            group = chat.startswith(("-", "@"))
            if group:
                bucket = TokenBucket(self.per_group_minute / 60, self.per_group_minute)
            else:
                bucket = TokenBucket(self.per_private_chat_second, self.private_chat_burst)
            bucket.updated = now
            self.chats[chat] = bucket
        return bucket

    def check(self, method: str, values: Mapping[str, str]) -> ApiError | None:
        if not counts_as_message(method):
            return None
        now = self.clock()
        chat = str(values.get("chat_id", "")).strip()
        bucket = self._chat_bucket(chat, now) if chat else None
        chat_wait = bucket.wait(now, self.tolerance) if bucket is not None else 0.0
        overall_wait = self.overall.wait(now)
        if chat_wait > 0 or overall_wait > 0:
            if chat_wait >= overall_wait:
                self.stats.refused_chat += 1
            else:
                self.stats.refused_overall += 1
            # Telegram states whole seconds, at least one.
            return too_many_requests(max(1, math.ceil(max(chat_wait, overall_wait))))
        self.overall.take()
        if bucket is not None:
            bucket.take()
        self.stats.allowed += 1
        return None
