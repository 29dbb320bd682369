"""One lock per dialog (chat, user): a citizen's updates run one at a time, in order, and an
operator's desk action that steers the citizen's dialog takes the same lock, so it can never
interleave with the citizen's own update (a stale state written back would undo it)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

DialogKey = tuple[int, int]  # (chat id, user id): a private chat's is (user id, user id)


def private_dialog(user_id: int) -> DialogKey:
    return (user_id, user_id)


class DialogLocks:
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
