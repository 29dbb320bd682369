"""The unmodified bot answers /start through the emulator over real HTTP."""

from __future__ import annotations

from bot.i18n import Texts
from sandbox.client import SandboxClient
from sandbox.emulator import Emulator
from tests.e2e.harness import BotProcess


async def test_bot_answers_start(bot: BotProcess, client: SandboxClient, texts: Texts) -> None:
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
