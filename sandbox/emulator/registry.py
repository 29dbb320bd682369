"""The table of implemented Bot API methods, filled by the ``methods_*`` modules."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from .params import Params
from .state import World


@dataclass
class Described:
    """A successful result that also carries Telegram's ``description`` (setWebhook & co.)."""

    value: Any
    description: str


@dataclass
class Ctx:
    world: World
    # Set when the server stops, so long polls return at once instead of holding shutdown.
    stopping: asyncio.Event = field(default_factory=asyncio.Event)


Handler = Callable[[Ctx, Params], Awaitable[Any]]
METHODS: dict[str, Handler] = {}


def api_method(name: str) -> Callable[[Handler], Handler]:
    def register(func: Handler) -> Handler:
        METHODS[name.lower()] = func
        return func

    return register
