"""The floor: a bare aiogram bot that answers each update with the calls the real bot made for
the same step, and nothing else.

    python bench/baseline_bot.py <script.json>   (BOT_TOKEN, TELEGRAM_API_BASE from the env)

The script is recorded from the real bot by the benchmark (bench/calibration.py): per kind of
update ("command:/start", "callback:cs:y", "contact", "file", "text") the Bot API calls the bot
made, in order, with their parameters. This bot polls the same emulator with aiogram's defaults
(Dispatcher, MemoryStorage, handlers as tasks), and per update builds those methods with the
update's chat, message and callback ids and sends them, one after the other, as a handler
written by hand would: the same texts, keyboards and number of sends, without the real bot's
middlewares, dialog state, database or validation. A `getFile` is replayed as `bot.download`
(getFile and the file's bytes), as the real bot downloads the scan. It logs one line per
update, as aiogram's own INFO logging does.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

from aiogram import Bot, Dispatcher, Router, methods
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.methods import TelegramMethod
from aiogram.types import (
    CallbackQuery,
    ForceReply,
    InlineKeyboardMarkup,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)

MARKUPS: dict[str, type[Any]] = {
    "inline_keyboard": InlineKeyboardMarkup,
    "keyboard": ReplyKeyboardMarkup,
    "remove_keyboard": ReplyKeyboardRemove,
    "force_reply": ForceReply,
}


def markup(value: dict[str, Any]) -> Any:
    for key, cls in MARKUPS.items():
        if key in value:
            return cls.model_validate(value)
    raise ValueError(f"unknown reply_markup {sorted(value)}")


class Call:
    """One recorded call, ready to be rebuilt per update."""

    def __init__(self, spec: dict[str, Any]) -> None:
        name: str = spec["method"]
        self.name = name
        self.download = name == "getFile"
        self.cls: type[TelegramMethod[Any]] = getattr(methods, name[0].upper() + name[1:])
        params: dict[str, Any] = dict(spec["params"])
        if isinstance(params.get("reply_markup"), dict):
            params["reply_markup"] = markup(params["reply_markup"])
        self.fixed = {k: v for k, v in params.items() if not _placeholder(v)}
        self.holes = {k: v for k, v in params.items() if _placeholder(v)}

    def build(self, values: dict[str, Any]) -> TelegramMethod[Any]:
        return self.cls(**self.fixed, **{k: values[v] for k, v in self.holes.items()})


def _placeholder(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("$")


def signature(event: Message | CallbackQuery) -> str:
    if isinstance(event, CallbackQuery):
        return f"callback:{event.data}"
    if event.contact is not None:
        return "contact"
    if event.photo or event.document:
        return "file"
    text = event.text or ""
    if text.startswith("/"):
        return f"command:{text.split()[0]}"
    return "text"


def build_router(script: dict[str, list[Call]]) -> Router:
    router = Router()

    async def play(bot: Bot, key: str, values: dict[str, Any]) -> None:
        for call in script.get(key, ()):
            if call.download:
                await bot.download(values["$file"])
            else:
                await bot(call.build(values))

    @router.message()
    async def on_message(message: Message, bot: Bot) -> None:
        file_id = None
        if message.photo:
            file_id = message.photo[-1].file_id
        elif message.document:
            file_id = message.document.file_id
        values = {"$chat": message.chat.id, "$message": message.message_id, "$file": file_id}
        await play(bot, signature(message), values)

    @router.callback_query()
    async def on_callback(query: CallbackQuery, bot: Bot) -> None:
        message = query.message
        chat = message.chat.id if message else query.from_user.id
        values = {
            "$chat": chat,
            "$message": message.message_id if message else None,
            "$callback": query.id,
        }
        await play(bot, signature(query), values)

    return router


async def run(raw: dict[str, Any]) -> None:
    script = {key: [Call(c) for c in step["calls"]] for key, step in raw["steps"].items()}
    session = AiohttpSession(api=TelegramAPIServer.from_base(os.environ["TELEGRAM_API_BASE"]))
    bot = Bot(
        os.environ["BOT_TOKEN"],
        session=session,
        default=DefaultBotProperties(parse_mode=ParseMode.HTML),
    )
    dp = Dispatcher()
    dp.include_router(build_router(script))
    await dp.start_polling(bot, allowed_updates=dp.resolve_used_update_types())


def main() -> None:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    raw = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    try:
        asyncio.run(run(raw))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
