"""Magic filters checked on the event loop.

aiogram 3.31 runs every non-coroutine filter, `F` expressions included, through
`asyncio.to_thread` (aiogram/dispatcher/event/handler.py: CallableObject.call), so each `F` check
costs a thread hop; with a router tree that is most of an update's cost. `Check(F...)` is an
async Filter doing the same test in place.
"""

from __future__ import annotations

from aiogram.filters import Filter
from aiogram.types import TelegramObject
from magic_filter import MagicFilter


class Check(Filter):
    def __init__(self, magic: MagicFilter) -> None:
        self.magic = magic

    async def __call__(self, event: TelegramObject) -> bool:
        return bool(self.magic.resolve(event))

    def __str__(self) -> str:
        return f"Check({self.magic!r})"
