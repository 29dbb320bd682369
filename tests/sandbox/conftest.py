"""Fixtures: a strict emulator, a control client and a real aiogram Bot pointed at it."""

from __future__ import annotations

import asyncio
import contextlib
import io
from collections.abc import AsyncIterator

import pytest
from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from PIL import Image

from sandbox.client import SandboxClient
from sandbox.emulator import Emulator

TOKEN = "123456789:AAEtestTOKEN_for-sandbox"
BOT_ID = 123456789


class QuickSession(AiohttpSession):
    """aiogram's session without the 250 ms grace sleep on close, to keep tests fast."""

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    emulator = Emulator(strict=True)
    await emulator.start()
    yield emulator
    # Strict mode: stop() raises if any response or update broke the Bot API schema.
    await emulator.stop()


@pytest.fixture
async def client(emu: Emulator) -> AsyncIterator[SandboxClient]:
    async with SandboxClient(emu.base_url) as sandbox:
        yield sandbox


@pytest.fixture
async def bot(emu: Emulator) -> AsyncIterator[Bot]:
    session = QuickSession(api=TelegramAPIServer.from_base(emu.api_base))
    telegram_bot = Bot(TOKEN, session=session)
    yield telegram_bot
    await session.close()


@contextlib.asynccontextmanager
async def polling(dp: Dispatcher, bot: Bot) -> AsyncIterator[None]:
    """Run the dispatcher's long polling for the duration of the block."""
    started = asyncio.Event()

    async def on_startup() -> None:
        started.set()

    dp.startup.register(on_startup)
    task = asyncio.create_task(dp.start_polling(bot, handle_signals=False, close_bot_session=False))
    await asyncio.wait_for(started.wait(), 5)
    try:
        yield
    finally:
        await dp.stop_polling()
        await asyncio.wait_for(task, 5)


def png_bytes(width: int = 1000, height: int = 600, color: str = "navy") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buffer, format="PNG")
    return buffer.getvalue()
