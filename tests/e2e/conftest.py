"""End-to-end fixtures: a strict emulator, the real bot process, and a client acting as people."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from pathlib import Path

import pytest

from bot.i18n import Texts, create_texts
from sandbox.client import SandboxClient
from sandbox.emulator import Emulator
from tests.e2e.forkserver import ForkServer
from tests.e2e.harness import BotProcess

StartBot = Callable[..., Awaitable[BotProcess]]


@pytest.fixture(scope="session")
def texts() -> Texts:
    return create_texts()


@pytest.fixture
async def emulator() -> AsyncIterator[Emulator]:
    emu = Emulator(strict=True)
    await emu.start()
    yield emu
    await emu.stop()  # strict: raises if anything the bot saw broke the Bot API schema


@pytest.fixture
async def client(emulator: Emulator) -> AsyncIterator[SandboxClient]:
    async with SandboxClient(emulator.base_url) as sandbox:
        yield sandbox


@pytest.fixture(scope="session")
def forkserver() -> Iterator[ForkServer]:
    server = ForkServer()
    yield server
    server.close()


@pytest.fixture
async def start_bot(
    emulator: Emulator, tmp_path: Path, forkserver: ForkServer
) -> AsyncIterator[StartBot]:
    processes: list[BotProcess] = []

    async def start(env: Mapping[str, str] | None = None, *, webhook: bool = False) -> BotProcess:
        process = BotProcess(
            emulator, tmp_path / "data", env, forkserver=forkserver, webhook=webhook
        )
        await process.start()
        processes.append(process)
        return process

    yield start
    for process in processes:
        code = await process.stop()
        assert code == 0, process.log()
        assert "Traceback" not in process.log(), process.log()


@pytest.fixture
async def bot(start_bot: StartBot) -> BotProcess:
    return await start_bot()
