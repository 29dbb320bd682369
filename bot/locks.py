"""One lock per dialog (chat, user): a citizen's updates run one at a time, in order, and an
operator's desk action that steers the citizen's dialog takes the same lock, so it can never
interleave with the citizen's own update (a stale state written back would undo it).

Two implementations, chosen in bot/app.py: in this process only (one bot process), or shared
through Redis when several processes take updates (REDIS_URL)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Protocol

from aiogram.fsm.storage.base import KeyBuilder, StorageKey
from aiogram.fsm.storage.redis import RedisEventIsolation
from redis.asyncio import Redis
from redis.asyncio.lock import Lock
from redis.exceptions import LockError, RedisError

log = logging.getLogger(__name__)

DialogKey = tuple[int, int]  # (chat id, user id): a private chat's is (user id, user id)


def private_dialog(user_id: int) -> DialogKey:
    return (user_id, user_id)


class DialogLocks(Protocol):
    def hold(self, key: DialogKey) -> AbstractAsyncContextManager[None]:
        """Held for the block; waits while another holder has the same key."""
        ...


class LocalDialogLocks:
    """Locks exist only while someone holds or waits for them, so memory stays flat."""

    def __init__(self) -> None:
        self._locks: dict[DialogKey, asyncio.Lock] = {}
        self._waiters: dict[DialogKey, int] = {}

    @asynccontextmanager
    async def hold(self, key: DialogKey) -> AsyncIterator[None]:
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._waiters[key] = self._waiters.get(key, 0) + 1
        try:
            async with lock:
                yield
        finally:
            self._waiters[key] -= 1
            if not self._waiters[key]:
                del self._waiters[key], self._locks[key]


class RenewedEventIsolation(RedisEventIsolation):
    """aiogram's RedisEventIsolation whose lock expires soon unless its holder renews it: held
    as long as the update runs (a scan check, a slow Bot API call), yet a process killed while
    holding it blocks the citizen's dialog for `expiry` seconds only, not for as long as the
    longest update could take."""

    def __init__(
        self, redis: Redis, *, key_builder: KeyBuilder, expiry: float, poll: float
    ) -> None:
        super().__init__(redis, key_builder=key_builder)
        self.expiry = expiry
        self.poll = poll

    @asynccontextmanager
    async def lock(self, key: StorageKey) -> AsyncIterator[None]:
        name = self.key_builder.build(key, "lock")
        lock = self.redis.lock(name, timeout=self.expiry, sleep=self.poll, lock_class=Lock)
        async with lock:
            done = asyncio.Event()
            renewing = asyncio.create_task(self._renew(lock, done))
            try:
                yield
            finally:
                # Told to stop, not cancelled: a Redis call cut off half-way would leave its
                # pooled connection out of step with the server.
                done.set()
                await renewing

    async def _renew(self, lock: Lock, done: asyncio.Event) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.expiry / 3):
                    await done.wait()
            if done.is_set():
                return
            try:
                await lock.extend(self.expiry, replace_ttl=True)
            except (LockError, RedisError, OSError) as error:
                # Lost (Redis away past the expiry): the update runs on; say so once.
                log.warning("dialog lock not renewed: %s", type(error).__name__)
                return


class RedisDialogLocks:
    """The same lock across processes, through aiogram's RedisEventIsolation (a Redis lock
    with an expiry, so a process that dies holding it blocks the dialog only that long).

    The local lock is taken first: Redis hands a free lock to whichever waiter polls first, so
    without it two updates of one chat in this process could overtake each other."""

    def __init__(self, isolation: RedisEventIsolation, bot_id: int) -> None:
        self._isolation = isolation
        self._bot_id = bot_id
        self._local = LocalDialogLocks()

    @asynccontextmanager
    async def hold(self, key: DialogKey) -> AsyncIterator[None]:
        chat_id, user_id = key
        storage_key = StorageKey(bot_id=self._bot_id, chat_id=chat_id, user_id=user_id)
        async with self._local.hold(key), self._isolation.lock(storage_key):
            yield
