"""The last lines of each citizen's chat with the bot, for the card an operator sees first.

Kept in process memory on purpose: it is context for a human, not a record, and recording it
must cost nothing on the hot path (no database write per update).
"""

from __future__ import annotations

import html
import re
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.methods import EditMessageText, SendMessage, TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import Message, TelegramObject

LINE_LIMIT = 160
_TAG = re.compile(r"<[^>]+>")  # the bot's texts are HTML; the card shows them plain


class RecentChats:
    def __init__(self, *, per_chat: int = 6, max_chats: int = 5_000) -> None:
        self._chats: OrderedDict[int, deque[tuple[str, str]]] = OrderedDict()
        self._per_chat = per_chat
        self._max_chats = max_chats

    def add(self, chat_id: int, who: str, text: str) -> None:
        lines = self._chats.get(chat_id)
        if lines is None:
            lines = self._chats[chat_id] = deque(maxlen=self._per_chat)
            if len(self._chats) > self._max_chats:
                self._chats.popitem(last=False)
        else:
            self._chats.move_to_end(chat_id)
        flat = " ".join(text.split())
        lines.append((who, flat if len(flat) <= LINE_LIMIT else flat[: LINE_LIMIT - 1] + "…"))

    def recent(self, chat_id: int) -> list[tuple[str, str]]:
        return list(self._chats.get(chat_id, ()))


def describe(message: Message) -> str:
    """What the citizen sent, as a card line: text as typed, other content by its kind."""
    if message.text:
        return message.text
    if message.contact:
        return "[contact]"  # never the phone: the card shows the masked identity instead
    return f"[{message.content_type}]"


class RecordCitizenMessages(BaseMiddleware):
    """Outer middleware on private messages."""

    def __init__(self, recent: RecentChats) -> None:
        self.recent = recent

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        if isinstance(event, Message) and event.chat.type == "private":
            self.recent.add(event.chat.id, "citizen", describe(event))
        return await handler(event, data)


class RecordBotMessages(BaseRequestMiddleware):
    """Session middleware: the bot's own texts to private chats."""

    def __init__(self, recent: RecentChats) -> None:
        self.recent = recent

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Any:
        if isinstance(method, SendMessage | EditMessageText):
            chat_id = method.chat_id
            if isinstance(chat_id, int) and chat_id > 0 and method.text:
                self.recent.add(chat_id, "bot", html.unescape(_TAG.sub("", method.text)))
        return await make_request(bot, method)
