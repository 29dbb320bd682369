"""The last lines of each citizen's chat with the bot, for the card an operator sees first.

Kept in process memory on purpose: it is context for a human, not a record, and recording it
must cost nothing on the hot path (no database write per update). Lines are masked when read
(core.masking): what the citizen typed at a personal step (passport, postcode, address, e-mail)
is remembered as a value to hide, so the bot's own echo of it (the summary, /profile) is hidden
too, whenever it was said.
"""

from __future__ import annotations

import html
import re
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.methods import EditMessageText, SendMessage, TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import Message, TelegramObject

from bot.dialogs.restoration import ProfileForm, Restoration
from core.masking import mask_personal

LINE_LIMIT = 160
RAW_LIMIT = 1_000  # kept unmasked until read; longer texts are cut before that
_TAG = re.compile(r"<[^>]+>")  # the bot's texts are HTML; the card shows them plain

# Steps whose answer is personal data: the typed text is hidden wherever it shows up later.
PERSONAL_ANSWER_STATES = frozenset(
    state.state
    for state in (
        Restoration.passport_number,
        Restoration.postcode,
        Restoration.address,
        ProfileForm.email,
    )
)


class _Chat:
    # Plain lists, trimmed by hand: a deque with maxlen costs ~600 bytes even empty, and most
    # chats are short-lived (make bench, item 5: memory per parked dialog).
    __slots__ = ("lines", "personal")

    def __init__(self) -> None:
        self.lines: list[tuple[str, str]] = []
        self.personal: list[str] = []


def _append(items: list[Any], item: Any, limit: int) -> None:
    items.append(item)
    if len(items) > limit:
        del items[0]


class RecentChats:
    def __init__(
        self, *, per_chat: int = 6, max_chats: int = 5_000, shared_texts: int = 512
    ) -> None:
        self._chats: OrderedDict[int, _Chat] = OrderedDict()
        self._per_chat = per_chat
        self._max_chats = max_chats
        # The bot says the same prompts to everyone: one copy of each, not one per chat.
        self._texts: OrderedDict[str, str] = OrderedDict()
        self._shared_texts = shared_texts

    def _chat(self, chat_id: int) -> _Chat:
        chat = self._chats.get(chat_id)
        if chat is None:
            chat = self._chats[chat_id] = _Chat()
            if len(self._chats) > self._max_chats:
                self._chats.popitem(last=False)
        else:
            self._chats.move_to_end(chat_id)
        return chat

    def _shared(self, text: str) -> str:
        same = self._texts.get(text)
        if same is not None:
            self._texts.move_to_end(text)
            return same
        self._texts[text] = text
        if len(self._texts) > self._shared_texts:
            self._texts.popitem(last=False)
        return text

    def add(self, chat_id: int, who: str, text: str) -> None:
        text = text[:RAW_LIMIT]
        if who == "bot":
            text = self._shared(text)
        _append(self._chat(chat_id).lines, (who, text), self._per_chat)

    def add_personal(self, chat_id: int, value: str) -> None:
        """A value the citizen gave as personal data: masked in every line of the chat."""
        if value.strip():
            _append(self._chat(chat_id).personal, value[:RAW_LIMIT], self._per_chat * 2)

    def recent(self, chat_id: int) -> list[tuple[str, str]]:
        """The chat's last lines, personal data masked, each flattened to one short line."""
        chat = self._chats.get(chat_id)
        if chat is None:
            return []
        lines = []
        for who, text in chat.lines:
            # Street words mark an address in what people type; the bot's prompts name them.
            masked = mask_personal(text, chat.personal, addresses=who != "bot")
            flat = " ".join(masked.split())
            lines.append((who, flat if len(flat) <= LINE_LIMIT else flat[: LINE_LIMIT - 1] + "…"))
        return lines

    def forget(self, chat_id: int) -> None:
        """The citizen erased their data: nothing of their chat stays, even in memory."""
        self._chats.pop(chat_id, None)


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
            chat_id = event.chat.id
            if event.text and data.get("raw_state") in PERSONAL_ANSWER_STATES:
                self.recent.add_personal(chat_id, event.text)
            if event.contact is not None:
                self.recent.add_personal(chat_id, event.contact.phone_number)
            self.recent.add(chat_id, "citizen", describe(event))
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
