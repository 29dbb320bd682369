"""Properties of a whole journey: every button press is answered, echoed input is escaped,
and the logs hold no personal data."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from bot.i18n import Texts
from sandbox.client import SandboxClient, message_text
from sandbox.emulator import Emulator
from tests.e2e.conftest import StartBot
from tests.e2e.harness import BotProcess
from tests.e2e.journey import IVANOV, Citizen, new_citizen


async def busy_journey(c: Citizen) -> None:
    """A journey that presses nearly every kind of button the dialog has."""
    await c.user.send_command("/start")
    prompt = await c.expect("restore.consent.prompt")
    await c.press("button.consent_text")
    await c.expect("consent.full_text")  # with the consent buttons again
    await c.press("button.consent_accept")
    await c.expect("restore.contact.prompt")
    # The first consent message still shows its buttons: a late tap is answered too.
    stale = await c.user.press(c.t("button.consent_accept"), message_id=prompt["message_id"])
    c.presses.append(stale)
    assert stale["text"] == c.t("hint.stale_button")
    await c.user.share_contact(phone=IVANOV.phone, own=True)
    await c.expect("restore.profile.prompt")
    await c.press("button.not_me")
    await c.expect("login.not_me")
    await c.press("button.restart")
    await c.expect("restore.contact.prompt")
    await c.login(IVANOV)
    await c.reason("damaged")
    await c.press("button.operator")  # no support chat configured: the other channels
    await c.expect("help.text")
    await c.passport(IVANOV)
    await c.scan()
    await c.press("delivery.pickup")
    await c.expect("restore.office.prompt")
    await c.press("button.other_delivery")
    await c.expect("restore.delivery.prompt")
    await c.choose_post()
    await c.press("button.edit_passport")
    await c.expect("restore.passport.prompt")
    await c.user.send_text(IVANOV.passport)
    await c.expect("summary.title")
    await c.user.send_command("/lang")
    await c.expect("lang.choose")
    await c.press_label(c.texts.t("lang.name", locale="ru"))
    await c.expect("summary.title")
    await c.user.send_command("/reminders")
    await c.expect("reminder.settings.on")
    await c.press("reminder.button.off")
    await c.expect("reminder.settings.off")
    await c.submit()
    await c.wait_status("sent_by_post")


async def test_every_pressed_button_is_answered(
    bot: BotProcess, client: SandboxClient, texts: Texts, emulator: Emulator
) -> None:
    c = await new_citizen(client, texts)
    await busy_journey(c)
    assert len(c.presses) >= 12
    unanswered = [p["data"] for p in c.presses if not p["answered"]]
    assert unanswered == []
    answers = [call for call in emulator.calls("answerCallbackQuery") if call.ok]
    assert len(answers) == len(c.presses)
    assert emulator.world.callback_queries == {}  # no query left waiting


async def test_text_typed_by_the_citizen_is_shown_literally(
    bot: BotProcess, client: SandboxClient, texts: Texts
) -> None:
    c = await new_citizen(client, texts)
    await c.consent()
    await c.login(IVANOV)
    await c.press("reason.other")
    await c.expect("restore.reason_text.prompt")
    typed = "<b>x</b> & <script>"
    await c.user.send_text(typed)
    await c.expect("restore.passport.prompt")
    await c.passport(IVANOV)
    await c.scan()
    await c.press("delivery.post")
    await c.expect("restore.postcode.prompt")
    await c.user.send_text("101000")
    await c.expect("restore.address.prompt")
    address = "Moscow, <i>Tverskaya</i> 1 & 2"
    await c.user.send_text(address)
    summary = await c.expect("summary.title")
    assert typed in message_text(summary)
    assert address in message_text(summary)
    # The bot's own formatting survives next to it: the title is still bold.
    bold = [e for e in summary.get("entities", []) if e["type"] == "bold"]
    assert bold
    await c.submit()
    await c.wait_status("sent_by_post")


# A citizen's Telegram id that cannot turn up in a log by chance (a duration, an update id).
CITIZEN_ID = 586_204_937


@pytest.mark.parametrize("level", ["INFO", "DEBUG"])
async def test_logs_hold_no_phone_passport_enp_or_telegram_id(
    level: str, start_bot: StartBot, client: SandboxClient, texts: Texts
) -> None:
    bot = await start_bot({"LOG_LEVEL": level})
    c = await new_citizen(client, texts, user_id=CITIZEN_ID)
    await c.to_delivery(IVANOV)  # the scan is checked under a "typing" chat action
    await c.choose_electronic()
    await c.submit()
    await c.user.wait_for(lambda m: "document" in m, timeout=15)
    await c.user.send_command("/profile")
    await c.expect("profile.text")
    actions = {action["action"] for action in await c.user.chat_actions()}
    assert "typing" in actions
    await bot.stop()
    log = bot.log()
    assert "update=" in log  # the log was written (one line per update)
    assert "user=#" in log  # the citizen as a salted hash, enough to follow one person
    if level == "DEBUG":
        # aiogram's chat-action logger prints the chat id; it reaches the log only hashed.
        assert "Started chat action" in log and "chat_id=#" in log
    digits = IVANOV.phone.lstrip("+")
    passport = IVANOV.passport.replace(" ", "")
    for secret in (
        digits,
        digits[1:],  # without the country code
        passport,
        IVANOV.passport,
        f"{passport[:4]} {passport[4:]}",
        IVANOV.enp,
        str(CITIZEN_ID),  # the user id, and the private chat's id, which is the same
    ):
        assert secret not in log, f"{secret!r} found in the {level} log"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_what_the_bot_keeps_on_disk_is_its_users_only(
    bot: BotProcess, client: SandboxClient, texts: Texts
) -> None:
    c = await new_citizen(client, texts)
    await c.to_delivery(IVANOV)
    (scan,) = bot.stored_files()
    assert mode(scan) == 0o600  # while the check needs it; the final status destroys it
    await c.choose_electronic()
    await c.submit()
    await c.wait_status("ready")
    # While the bot runs, so SQLite's -wal and -shm files exist.
    data = bot.data_dir
    database = data / "bot.sqlite3"
    kept = [
        database,
        database.with_name("bot.sqlite3-wal"),
        database.with_name("bot.sqlite3-shm"),
        data / "data.key",
    ]
    assert bot.stored_files() == []
    assert {p.name: mode(p) for p in kept} == {p.name: 0o600 for p in kept}
    # The harness made the data directory before the bot started, with the usual 0755.
    directories = [data, *(p for p in data.rglob("*") if p.is_dir())]
    assert bot.files_dir in directories
    assert {str(d): mode(d) for d in directories} == {str(d): 0o700 for d in directories}
