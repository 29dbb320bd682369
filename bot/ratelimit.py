"""Rate limits: Telegram's on what the bot sends, and flood control on what a person sends.

Each has two implementations, chosen in bot/app.py: in this process (aiolimiter's leaky
buckets; one bot process), or shared through Redis (REDIS_URL), so that several processes
together stay within the limits. The shared ones use the `limits` library's moving window,
which Redis checks and records in one script: two processes can never both take the last slot.

Telegram's limits: about 30 messages/s overall, 1 message/s per private chat, 20 messages/min
per group (https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this).
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict, deque
from typing import Protocol

from aiolimiter import AsyncLimiter
from limits import RateLimitItem, RateLimitItemPerMinute, RateLimitItemPerSecond
from limits.aio.storage import RedisStorage
from limits.aio.strategies import MovingWindowRateLimiter
from redis.asyncio import ConnectionPool, Redis

KEY_PREFIX = "oms"
# Telegram lets a chat take a short burst above one a second; two lets a status push and the
# policy PDF right behind it go out together instead of a second apart.
PRIVATE_CHAT_BURST = 2


class SendRates(Protocol):
    """Telegram's limits on what the bot sends (bot/delivery.py)."""

    def can_send_now(self, chat_id: int) -> bool:
        """Whether a message to `chat_id` would likely go out without waiting (a hint)."""
        ...

    async def acquire(self, chat_id: int, *, message: bool = True) -> None:
        """Waits for a slot in the overall budget, and in the chat's when it is a message."""
        ...


class LocalSendRates:
    def __init__(
        self,
        *,
        per_second: float = 30,
        per_private_chat_second: float = 1,
        per_private_chat_burst: int = PRIVATE_CHAT_BURST,
        per_group_minute: float = 20,
        max_chats_tracked: int = 10_000,
    ) -> None:
        self._global = AsyncLimiter(per_second, 1)
        self._private_rate = per_private_chat_second
        self._private_burst = per_private_chat_burst
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
                else AsyncLimiter(self._private_burst, self._private_burst / self._private_rate)
            )
            self._chats[chat_id] = limiter
            if len(self._chats) > self._max_chats:
                self._chats.popitem(last=False)
        else:
            self._chats.move_to_end(chat_id)
        return limiter

    def can_send_now(self, chat_id: int) -> bool:
        return self._chat_limiter(chat_id).has_capacity() and self._global.has_capacity()

    async def acquire(self, chat_id: int, *, message: bool = True) -> None:
        if message:
            await self._chat_limiter(chat_id).acquire()
        await self._global.acquire()


def redis_limits_storage(url: str, pool: ConnectionPool | None = None) -> RedisStorage:
    """The `limits` library's storage on REDIS_URL, through redis-py (already a dependency);
    on `pool` when given (bot/app.py shares its own)."""
    uri, prefix = f"async+{url}", f"{KEY_PREFIX}:rl"
    if pool is None:
        return RedisStorage(uri, implementation="redispy", key_prefix=prefix)
    return RedisStorage(uri, implementation="redispy", key_prefix=prefix, connection_pool=pool)


async def _take(limiter: MovingWindowRateLimiter, item: RateLimitItem, key: str) -> None:
    """Waits until the moving window has room, then takes a slot."""
    while not await limiter.hit(item, key):
        stats = await limiter.get_window_stats(item, key)
        # Its oldest entry leaves the window at reset_time; poll a little after, not in a spin.
        await asyncio.sleep(min(max(stats.reset_time - time.time(), 0.005), 1.0))


class RedisSendRates:
    """The budgets shared by every process. can_send_now answers from what this process
    knows (it is only a hint for the outbox to try another chat first); acquire is exact."""

    def __init__(
        self,
        storage: RedisStorage,
        *,
        per_second: int = 30,
        per_private_chat_second: int = 1,
        per_group_minute: int = 20,
        max_chats_tracked: int = 10_000,
    ) -> None:
        self._limiter = MovingWindowRateLimiter(storage)
        self._global = RateLimitItemPerSecond(per_second)
        # The same burst as LocalSendRates: PRIVATE_CHAT_BURST in as many seconds' window.
        self._private = RateLimitItemPerSecond(
            PRIVATE_CHAT_BURST * per_private_chat_second, multiples=PRIVATE_CHAT_BURST
        )
        self._group = RateLimitItemPerMinute(per_group_minute)
        # chat id -> when this process sent there within the chat's window (monotonic clock).
        self._sent: OrderedDict[int, deque[float]] = OrderedDict()
        self._max_chats = max_chats_tracked

    def _item(self, chat_id: int) -> RateLimitItem:
        # Negative ids are groups and channels, with a per-minute budget.
        return self._group if chat_id < 0 else self._private

    def _recent(self, chat_id: int) -> deque[float]:
        sent = self._sent.get(chat_id)
        if sent is None:
            return deque()
        window = self._item(chat_id).get_expiry()
        while sent and sent[0] <= time.monotonic() - window:
            sent.popleft()
        return sent

    def can_send_now(self, chat_id: int) -> bool:
        return len(self._recent(chat_id)) < self._item(chat_id).amount

    async def acquire(self, chat_id: int, *, message: bool = True) -> None:
        if message:
            await _take(self._limiter, self._item(chat_id), f"chat:{chat_id}")
            sent = self._sent.setdefault(chat_id, self._recent(chat_id))
            sent.append(time.monotonic())
            self._sent.move_to_end(chat_id)
            if len(self._sent) > self._max_chats:
                self._sent.popitem(last=False)
        await _take(self._limiter, self._global, "global")


class FloodCounter(Protocol):
    """Flood control's count of a person's updates (bot/middlewares.py, FloodControl)."""

    async def admit(self, user_id: int) -> bool:
        """Counts an update; False when it is over the person's limit."""
        ...

    async def first_drop(self, user_id: int) -> bool:
        """Records a dropped update; True when none was dropped within the period before
        (the one to warn about)."""
        ...


class LocalFloodCounter:
    """A leaky bucket per person: `limit` at once, then `limit / period` a second."""

    def __init__(self, *, limit: int, period: float, max_users: int = 100_000) -> None:
        self._limit = limit
        self._period = period
        self._max_users = max_users
        # Least recently used first, with when each was last used.
        self._buckets: OrderedDict[int, tuple[AsyncLimiter, float]] = OrderedDict()
        self._last_dropped: dict[int, float] = {}

    def _bucket(self, user_id: int) -> AsyncLimiter:
        now = time.monotonic()
        # A bucket unused for a whole period has leaked empty: a new one is the same, so it
        # is dropped (memory follows the people active lately, not everyone seen).
        while self._buckets:
            oldest, (_, used) = next(iter(self._buckets.items()))
            if now - used <= self._period and len(self._buckets) <= self._max_users:
                break
            del self._buckets[oldest]
            self._last_dropped.pop(oldest, None)
        entry = self._buckets.pop(user_id, None)
        bucket = entry[0] if entry is not None else AsyncLimiter(self._limit, self._period)
        self._buckets[user_id] = (bucket, now)
        return bucket

    async def admit(self, user_id: int) -> bool:
        bucket = self._bucket(user_id)
        if not bucket.has_capacity():
            return False
        await bucket.acquire()  # returns at once: there is capacity, and no await between
        return True

    async def first_drop(self, user_id: int) -> bool:
        now = time.monotonic()
        last = self._last_dropped.get(user_id)
        self._last_dropped[user_id] = now
        return last is None or now - last > self._period


class RedisFloodCounter:
    """`limit` updates in any `period` (a moving window: the bucket's burst, without its
    trickle), counted by every process together. Keys expire with the period."""

    def __init__(self, storage: RedisStorage, redis: Redis, *, limit: int, period: float) -> None:
        self._limiter = MovingWindowRateLimiter(storage)
        # The library counts whole seconds.
        self._period_seconds = max(1, round(period))
        self._item = RateLimitItemPerSecond(limit, self._period_seconds)
        self._redis = redis

    async def admit(self, user_id: int) -> bool:
        return await self._limiter.hit(self._item, f"flood:{user_id}")

    async def first_drop(self, user_id: int) -> bool:
        # The key lives for a period after each drop: absent means a calm spell before this one.
        previous = await self._redis.set(
            f"{KEY_PREFIX}:flood-dropped:{user_id}", "1", ex=self._period_seconds, get=True
        )
        return previous is None
