"""One lock per dialog (chat, user): a citizen's updates run one at a time, in order, and an
operator's desk action that steers the citizen's dialog takes the same lock, so it can never
interleave with the citizen's own update (a stale state written back would undo it).

Two implementations, chosen in bot/app.py: in this process only (one bot process), or shared
through Redis when several processes take updates (REDIS_URL)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Protocol

from aiogram.fsm.storage.base import StorageKey
from aiogram.fsm.storage.redis import RedisEventIsolation

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
