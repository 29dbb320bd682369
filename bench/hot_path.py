"""Cost per update of this bot next to a bare aiogram bot on the same updates.

No network: both dispatchers get updates through `feed_update` and talk to a session that answers
every call locally, so the figures are the bots' own work (routing, middlewares, FSM storage on
SQLite, texts). Prints microseconds per update and the ratio.

    .venv/bin/python bench/hot_path.py [updates]
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncGenerator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aiogram import Bot, Dispatcher, Router
from aiogram.client.session.base import BaseSession
from aiogram.fsm.context import FSMContext
from aiogram.fsm.storage.base import StorageKey
from aiogram.fsm.storage.memory import MemoryStorage
from aiogram.methods import TelegramMethod
from aiogram.types import Chat, Message, Update, User

from bot.app import build_dispatcher, open_runtime
from bot.dialogs.restoration import Restoration
from bot.settings import Settings

TOKEN = "123456:bench"
USERS = 200


class LocalSession(BaseSession):
    """Answers sendMessage with a message and everything else with True."""

    async def make_request(
        self, bot: Bot, method: TelegramMethod[Any], timeout: int | None = None
    ) -> Any:
        if type(method).__name__ == "SendMessage":
            chat_id = int(method.chat_id)  # type: ignore[attr-defined]
            return Message(
                message_id=1,
                date=datetime.now(UTC),
                chat=Chat(id=chat_id, type="private"),
                text=method.text,  # type: ignore[attr-defined]
            )
        return True

    async def stream_content(self, *args: Any, **kwargs: Any) -> AsyncGenerator[bytes, None]:
        yield b""

    async def close(self) -> None:
        return None


def text_update(update_id: int, user_id: int, text: str) -> Update:
    user = User(id=user_id, is_bot=False, first_name="Bench", language_code="ru")
    return Update(
        update_id=update_id,
        message=Message(
            message_id=update_id,
            date=datetime.now(UTC),
            chat=Chat(id=user_id, type="private"),
            from_user=user,
            text=text,
        ),
    )


def bare_dispatcher() -> Dispatcher:
    """The baseline: a plain aiogram bot with a state filter that answers every text."""
    dp = Dispatcher(storage=MemoryStorage())
    router = Router()

    # An async filter: aiogram runs a plain `F.text` through asyncio.to_thread, a thread hop
    # per update that made this floor a third slower than a bare bot needs to be.
    async def has_text(message: Message) -> bool:
        return message.text is not None

    @router.message(Restoration.passport_number, has_text)
    async def reply(message: Message, state: FSMContext) -> None:
        await state.get_data()
        await message.answer("Please type the series and number, for example 45 08 123456.")

    dp.include_router(router)
    return dp


async def measure(dp: Dispatcher, bot: Bot, updates: int, **data: Any) -> list[float]:
    storage = dp.storage
    for user in range(USERS):
        key = StorageKey(bot_id=bot.id, chat_id=1000 + user, user_id=1000 + user)
        await storage.set_state(key, Restoration.passport_number)
        await storage.set_data(key, {"locale": "ru", "enp": "0040106028104484"})
    timings = []
    for i in range(updates):
        # A badly typed passport: the step's validation runs and a hint goes back.
        update = text_update(i + 1, 1000 + i % USERS, "45 08 12")
        started = time.perf_counter()
        await dp.feed_update(bot, update, **data)
        timings.append((time.perf_counter() - started) * 1e6)
    return timings


def report(name: str, timings: list[float]) -> float:
    timings = timings[len(timings) // 10 :]  # drop warm-up
    mean = statistics.fmean(timings)
    p95 = statistics.quantiles(timings, n=20)[-1]
    print(f"{name:<28} mean {mean:8.1f} us/update   p95 {p95:8.1f} us")
    return mean


async def main(updates: int) -> None:
    bot = Bot(TOKEN, session=LocalSession())
    bare = report("bare aiogram (memory FSM)", await measure(bare_dispatcher(), bot, updates))
    with tempfile.TemporaryDirectory() as tmp:
        # Each user here sends faster than a person could: a flood limit nothing reaches keeps
        # flood control's cost in the figure without dropped updates flattering it.
        settings = Settings(  # type: ignore[call-arg]
            bot_token=TOKEN, data_dir=Path(tmp), flood_limit=1000
        )
        runtime = await open_runtime(settings)
        try:
            dp = build_dispatcher(runtime, bot)
            ours = report("this bot (SQLite FSM)", await measure(dp, bot, updates))
        finally:
            await runtime.close()
    print(f"{'ratio':<28} {ours / bare:8.2f}x")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 3000))
