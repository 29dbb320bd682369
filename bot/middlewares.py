"""Thin middlewares: one log line per update, flood control, per-user ordering, the user's
language."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.dispatcher.event.handler import HandlerObject
from aiogram.exceptions import TelegramAPIError
from aiogram.fsm.context import FSMContext
from aiogram.methods import SendMessage
from aiogram.types import Chat, TelegramObject, Update, User
from aiogram.utils.i18n import I18nMiddleware

from bot.delivery import Delivery
from bot.dialogs.answers import Answers, answers_from
from bot.i18n import Texts
from bot.locks import DialogLocks
from bot.logs import pseudonym
from bot.ratelimit import FloodCounter
from core.errors import DeliveryFailed, RecipientUnreachable

log = logging.getLogger("bot.updates")

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]
_TRACE = "_trace"


class UpdateLogMiddleware(BaseMiddleware):
    """Outer middleware on updates: one line per update with its id, the user's pseudonym,
    handler and duration.

    Never logs message content: texts, phones and passport numbers stay out of the logs, and
    the user's id only as a salted hash (bot.logs.pseudonym), enough to follow one person.
    """

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        assert isinstance(event, Update)
        trace: dict[str, str] = {}
        data[_TRACE] = trace
        started = time.perf_counter()
        outcome = "error"
        try:
            result = await handler(event, data)
            outcome = "unhandled" if result is UNHANDLED else "ok"
            return result
        finally:
            user: User | None = data.get("event_from_user")
            log.info(
                "update=%s type=%s user=%s handler=%s outcome=%s ms=%.1f",
                event.update_id,
                event.event_type,
                pseudonym(user.id) if user is not None else "-",
                trace.get("handler", "-"),
                outcome,
                (time.perf_counter() - started) * 1000,
            )


class InFlightUpdates(BaseMiddleware):
    """Outer middleware on updates: counts those being handled, so a shutdown can wait for them.

    On SIGINT/SIGTERM aiogram's polling stops and closes the bot's session without waiting for
    the update tasks it started: a reply being sent at that moment would fail and be lost.
    """

    def __init__(self) -> None:
        self._count = 0
        self._idle = asyncio.Event()
        self._idle.set()

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        self._count += 1
        self._idle.clear()
        try:
            return await handler(event, data)
        finally:
            self._count -= 1
            if not self._count:
                self._idle.set()

    async def wait_idle(self, timeout: float) -> bool:
        """True once no update is being handled; False if some still are after `timeout`."""
        try:
            async with asyncio.timeout(timeout):
                await self._idle.wait()
        except TimeoutError:
            return False
        return True


class HandlerNameMiddleware(BaseMiddleware):
    """Inner middleware: tells the update log which handler took the event."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        handler_object: HandlerObject | None = data.get("handler")
        trace: dict[str, str] | None = data.get(_TRACE)
        if trace is not None and handler_object is not None:
            callback = handler_object.callback
            trace["handler"] = f"{callback.__module__}.{callback.__qualname__}"
        return await handler(event, data)


class FloodControl(BaseMiddleware):
    """Outer middleware on updates, before the dialog's lock and the FSM: a person's updates
    beyond their limit (bot/ratelimit.py, FloodCounter) are dropped before any work is done
    for them, and the first one dropped after a calm spell gets one polite warning in the
    person's Telegram language (a language chosen with /lang lives in the FSM, which a dropped
    update does not read).
    """

    def __init__(self, *, counter: FloodCounter, texts: Texts, delivery: Delivery) -> None:
        self._counter = counter
        self._texts = texts
        self._delivery = delivery

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user: User | None = data.get("event_from_user")
        if user is None or await self._counter.admit(user.id):
            return await handler(event, data)
        trace: dict[str, str] | None = data.get(_TRACE)
        if trace is not None:
            trace["handler"] = "flood-control (dropped)"
        chat: Chat | None = data.get("event_chat")
        if await self._counter.first_drop(user.id) and chat is not None:
            if chat.type == "private":
                await self._warn(chat.id, user)
        return UNHANDLED

    async def _warn(self, chat_id: int, user: User) -> None:
        locale = self._texts.pick_locale(user.language_code)
        text = self._texts.t("flood.warning", locale=locale)
        try:
            await self._delivery.send(SendMessage(chat_id=chat_id, text=text), chat_id=chat_id)
        except (DeliveryFailed, RecipientUnreachable, TelegramAPIError) as error:
            log.warning("flood warning not sent: %s", type(error).__name__)


class PerUserOrderMiddleware(BaseMiddleware):
    """Handles one dialog's updates one at a time, in order, while different users run in
    parallel. Polling handles updates as concurrent tasks; without this, two parts of an album
    or a double tap could read and write the same dialog state at once. Keyed like the FSM
    (chat and user), so an operator in the support chat never waits for their own private chat.
    """

    def __init__(self, locks: DialogLocks) -> None:
        self._locks = locks

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user: User | None = data.get("event_from_user")
        if user is None:
            return await handler(event, data)
        chat: Chat | None = data.get("event_chat")
        async with self._locks.hold((chat.id if chat else user.id, user.id)):
            return await handler(event, data)


class LocaleMiddleware(I18nMiddleware):
    """The language chosen with /lang, else Telegram's language_code, else DEFAULT_LOCALE.

    Also hands the dialog's answers to handlers, so one update reads the FSM data once.
    """

    def __init__(self, texts: Texts) -> None:
        super().__init__(i18n=texts, i18n_key="texts")
        self.texts = texts

    async def get_locale(self, event: TelegramObject, data: dict[str, Any]) -> str:
        state: FSMContext | None = data.get("state")
        answers = answers_from(await state.get_data()) if state is not None else Answers()
        data["answers"] = answers
        if answers.locale:
            return answers.locale
        user: User | None = data.get("event_from_user")
        return self.texts.pick_locale(user.language_code if user else None)
