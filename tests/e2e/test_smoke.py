"""The unmodified bot answers /start through the emulator over real HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.i18n import Texts
from sandbox.client import SandboxClient
from sandbox.emulator import Emulator
from tests.e2e.harness import BotProcess


@pytest.fixture
async def python_m_bot(emulator: Emulator, tmp_path: Path) -> AsyncIterator[BotProcess]:
    """Literally `python -m bot` in a subprocess (other tests fork the same entry point)."""
    process = BotProcess(emulator, tmp_path / "data")
    await process.start()
    yield process
    assert await process.stop() == 0, process.log()
    assert "Traceback" not in process.log()


async def test_bot_answers_start(
    python_m_bot: BotProcess, client: SandboxClient, texts: Texts
) -> None:
    user = await client.user(user_id=5001, first_name="Ivan", language_code="ru")
    await user.send_command("/start")
    reply = await user.wait_text(texts.t("start.welcome", locale="ru")[:30], timeout=10)
    assert reply


async def test_command_menu_is_set_in_both_languages(
    bot: BotProcess, emulator: Emulator, texts: Texts
) -> None:
    calls = emulator.calls("setMyCommands")
    languages = {call.params.get("language_code") for call in calls if call.ok}
    assert {"ru", "en"} <= languages
