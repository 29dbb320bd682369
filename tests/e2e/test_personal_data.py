"""Personal data under 152-FZ, end to end: scans destroyed with the final status, the retention
sweep, /forget_me leaving nothing behind, the desk card's masking and who may read the desk."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from bot.i18n import Texts
from sandbox.client import SandboxClient, message_text
from sandbox.emulator import Emulator
from sandbox.mailbox import Mailbox
from tests.e2e.conftest import StartBot
from tests.e2e.harness import BotProcess
from tests.e2e.journey import IVANOV, PETROVA, Citizen, new_citizen
from tests.e2e.test_desk import (  # noqa: F401 - `desk` is a fixture
    EVE,
    OLGA,
    PAVEL,
    SUPPORT_CHAT,
    Desk,
    ask_operator,
    desk,
    submitted,
)

SWEEP_FAST = {
    "RETENTION_SWEEP_SECONDS": "0.5",
    "ORPHAN_FILE_GRACE_SECONDS": "1",
    "DRAFT_RETENTION_DAYS": "0.00006",  # about 5 seconds
}


async def eventually(check: Callable[[], bool], timeout: float = 15.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        if loop.time() > deadline:
            raise AssertionError("the condition never came true")
        await asyncio.sleep(0.1)


def destructions(bot: BotProcess) -> set[tuple[str, str]]:
    return {(r["what"], r["reason"]) for r in bot.query("SELECT what, reason FROM destructions")}


# --- the scan goes with the final status --------------------------------------------------------


async def test_the_scan_is_deleted_once_the_application_is_approved_and_ready(
    bot: BotProcess, client: SandboxClient, texts: Texts
) -> None:
    c = await new_citizen(client, texts)
    await c.to_delivery(IVANOV)
    assert len(bot.stored_files()) == 1
    await c.choose_electronic()
    await c.submit()
    await c.wait_status("approved")
    await c.wait_status("ready")
    await eventually(lambda: bot.stored_files() == [])
    (row,) = bot.query("SELECT scan_name, scan_destroyed_at, status FROM applications")
    assert row["scan_name"] is None and row["scan_destroyed_at"] and row["status"] == "ready"
    assert ("scan", "final_status") in destructions(bot)


async def test_the_scan_is_deleted_once_an_operator_rejects(desk: Desk) -> None:  # noqa: F811
    thread = await submitted(desk)
    assert len(desk.bot.stored_files()) == 1
    await desk.in_topic(
        lambda m: desk.t("desk.button.reject") in str(m.get("reply_markup")), thread
    )
    await desk.olga.press(desk.t("desk.button.reject"), thread_id=thread)
    await desk.in_topic(lambda m: desk.t("desk.reject.choose") in message_text(m), thread)
    await desk.olga.press(desk.t("rejection.bad_photo"), thread_id=thread)
    await desk.citizen.wait_status("rejected")
    await eventually(lambda: desk.bot.stored_files() == [])
    (row,) = desk.bot.query("SELECT scan_name, scan_destroyed_at FROM applications")
    assert row["scan_name"] is None and row["scan_destroyed_at"]


# --- the sweep ----------------------------------------------------------------------------------


async def test_the_sweep_removes_an_abandoned_draft_a_stray_file_and_a_temporary_file(
    start_bot: StartBot, client: SandboxClient, texts: Texts
) -> None:
    bot = await start_bot(SWEEP_FAST)
    c = await new_citizen(client, texts)
    await c.to_delivery(IVANOV)  # a scan stored, the journey left at the delivery step
    (draft_scan,) = bot.stored_files()
    # What a crash leaves: a stored file the dialog never got to name, half a write.
    orphan = bot.files_dir / ("0123456789abcdef" * 2 + ".jpg")
    orphan.write_bytes(b"\xff\xd8 stored, then the bot was killed")
    temporary = bot.files_dir / ".incoming-kill9ed.tmp"
    temporary.write_bytes(b"half a scan")
    user_id = c.user.user_id

    await eventually(lambda: not any(bot.files_dir.iterdir()), timeout=20)

    assert not draft_scan.exists() and not orphan.exists() and not temporary.exists()
    assert bot.query("SELECT key FROM fsm_state WHERE user_id = ?", user_id) == []
    assert {
        ("dialog", "abandoned"),
        ("orphan_file", "unreferenced"),
        ("temporary_file", "unreferenced"),
    } <= destructions(bot)
    # The abandoned dialog is gone: the bot points to /start.
    await c.user.send_text("hello?")
    await c.expect("hint.start")


async def test_a_finished_application_is_anonymised_after_the_retention_period(
    start_bot: StartBot, client: SandboxClient, texts: Texts
) -> None:
    bot = await start_bot(
        {"RETENTION_SWEEP_SECONDS": "0.5", "APPLICATION_RETENTION_DAYS": "0.00003"}  # ~2.6 s
    )
    c = await new_citizen(client, texts)
    await c.to_delivery(IVANOV)
    await c.choose_post()
    number = await c.submit()
    await c.wait_status("sent_by_post", timeout=20)

    def anonymised() -> bool:
        return bool(bot.query("SELECT id FROM applications WHERE anonymised_at IS NOT NULL"))

    await eventually(anonymised)
    (row,) = bot.query("SELECT * FROM applications")
    assert (row["number"], row["status"], row["user_id"], row["enp"]) == (
        number,
        "sent_by_post",
        0,
        "",
    )
    assert row["passport_number"] == "" and row["address"] is None and row["postcode"] is None
    statuses = [r["to_status"] for r in bot.query("SELECT to_status FROM status_changes")]
    assert statuses == ["submitted", "processing", "approved", "sent_by_post"]
    assert ("application_person", "retention_period") in destructions(bot)
    await c.user.send_command("/status")
    await c.expect("status.none")  # nothing links the citizen to it any more


# --- /forget_me ---------------------------------------------------------------------------------

EMAIL = "petrova.forget@example.org"
POSTCODE = "125009"
ADDRESS = "Moskva, Zabytaya ulitsa 17, kv 5"


def traces(data_dir: Path, secrets: list[str]) -> list[str]:
    """Every file of the data directory (database, -wal, scans, log...) holding a secret."""
    found = []
    for path in sorted(p for p in data_dir.rglob("*") if p.is_file()):
        content = path.read_bytes()
        found += [f"{path.name}: {s}" for s in secrets if s.encode() in content]
    return found


@pytest.fixture
async def mailbox() -> AsyncIterator[Mailbox]:
    box = Mailbox()
    await box.start()
    yield box
    await box.stop()


@pytest.fixture
async def mailing_desk(
    start_bot: StartBot, client: SandboxClient, texts: Texts, emulator: Emulator, mailbox: Mailbox
) -> Desk:
    """The desk of test_desk with email configured: the citizen's address and its code are
    personal data too."""
    group = await client.forum_group(chat_id=SUPPORT_CHAT, title="Support")
    olga = await group.member(OLGA, "Olga", admin=False)
    pavel = await group.member(PAVEL, "Pavel", admin=True)
    eve = await group.member(EVE, "Eve", admin=False)
    bot = await start_bot(
        {
            "SUPPORT_CHAT_ID": str(SUPPORT_CHAT),
            "OPERATOR_IDS": str(OLGA),
            "CHECK_DELAY_SECONDS": "3600",  # operators decide; the background check waits
            "SMTP_URL": mailbox.url,
            "SMTP_FROM": "OMS bot <noreply@oms.example>",
            "SMTP_TIMEOUT_SECONDS": "5",
        }
    )
    user = await client.user(user_id=7101, first_name="Ivan", language_code="ru")
    return Desk(bot, group, olga, pavel, eve, Citizen(user, texts), texts)


async def test_forget_me_leaves_no_personal_data_in_any_table_or_file(
    mailing_desk: Desk, mailbox: Mailbox
) -> None:
    desk = mailing_desk  # noqa: F811 - the desk, with email
    c, bot = desk.citizen, desk.bot
    user_id = c.user.user_id
    await c.to_delivery(PETROVA)
    await c.choose_post(postcode=POSTCODE, address=ADDRESS)
    number = await c.submit()  # checked in an hour: still in progress when consent goes
    await c.user.send_command("/profile")
    await c.expect("profile.text")
    await c.press("button.set_email")
    await c.expect("profile.ask_email")
    await c.user.send_text(EMAIL)
    await c.expect("email.code_sent")
    mail = await mailbox.wait_for(lambda m: EMAIL in m.to)
    code = re.search(r"\b(\d{6})\b", mail.text)
    assert code is not None, mail.text
    await c.user.send_text(code.group(1))
    await c.expect("email.confirmed")
    thread = await ask_operator(desk)
    await c.user.send_text(f"My address is {ADDRESS}")
    await desk.in_topic(lambda m: ADDRESS in message_text(m), thread)
    await desk.olga.send_text("Got it", thread_id=thread)
    await c.user.wait_text("Got it", since=0)
    secrets = [
        PETROVA.phone,
        PETROVA.phone.lstrip("+"),
        PETROVA.passport.split()[1],
        PETROVA.enp,
        EMAIL,
        "Zabytaya",
        POSTCODE,
    ]
    assert traces(bot.data_dir, secrets)  # the test would see them

    # Withdrawing consent from /profile: asked first, then done.
    await c.user.send_command("/profile")
    await c.expect("profile.text")
    await c.press("button.forget_me")
    await c.expect("forget.confirm")
    await c.press("button.forget_confirm")
    done = await c.expect("forget.done")
    assert c.t("forget.withdrawn", numbers=number) in message_text(done)
    assert c.t("forget.kept", numbers=number) in message_text(done)

    # Operators are told; the topic with the card and the conversation is gone.
    await desk.group.wait_text(desk.t("forget.desk_note").split(":")[0], since=0)
    await eventually(lambda: bot.query("SELECT id FROM outbox WHERE sent_at IS NULL") == [])
    assert await desk.group.topics() == []

    # No table keeps the person; the application stays as an anonymised, withdrawn record.
    for table, column in (
        ("citizens", "user_id"),
        ("fsm_state", "user_id"),
        ("conversations", "user_id"),
        ("relayed_messages", "user_id"),
        ("outbox", "chat_id"),
        ("applications", "user_id"),
        ("reminders_sent", "user_id"),
        ("email_confirmations", "user_id"),
    ):
        assert bot.query(f"SELECT * FROM {table} WHERE {column} = ?", user_id) == [], table
    (application,) = bot.query("SELECT * FROM applications")
    assert application["number"] == number and application["status"] == "withdrawn"
    assert application["anonymised_at"] and application["scan_name"] is None
    actors = [r["actor"] for r in bot.query("SELECT actor FROM status_changes")]
    assert actors == ["citizen", "citizen"]  # submitted, withdrawn: nobody named
    assert {("citizen", "consent_withdrawn"), ("scan", "consent_withdrawn")} <= destructions(bot)
    # The operators' morning digest (names no one) may have gone out meanwhile.
    kinds = [r["kind"] for r in bot.query("SELECT kind FROM outbox WHERE kind != 'desk_digest'")]
    assert kinds == ["desk_erased"]
    assert bot.stored_files() == []

    # Nothing readable is left in the database, its -wal, the scans or the log.
    assert traces(bot.data_dir, secrets) == []


async def test_forget_me_can_be_cancelled_and_means_nothing_for_a_stranger(
    bot: BotProcess, client: SandboxClient, texts: Texts
) -> None:
    c = await new_citizen(client, texts)
    await c.user.send_command("/forget_me")
    await c.expect("forget.confirm")
    await c.press("button.forget_cancel")
    await c.expect("forget.cancelled")
    await c.user.send_command("/forget_me")
    await c.expect("forget.confirm")
    await c.press("button.forget_confirm")
    await c.expect("forget.nothing")


# --- what operators, and only they, see -------------------------------------------------------


async def test_the_card_masks_a_typed_passport_number_and_address(desk: Desk) -> None:  # noqa: F811
    c = desk.citizen
    await c.to_delivery(IVANOV)
    await c.choose_post(postcode="101000", address="Moscow, Tverskaya 1, 5")
    thread = await ask_operator(desk)
    card = message_text(await desk.in_topic(lambda m: "reply_markup" in m, thread))
    assert desk.t("desk.card.recent").split("{")[0].strip() in card
    for secret in ("123456", "4508", "Tverskaya", "101000"):
        assert secret not in card, secret
    assert desk.t("summary.passport", passport="***") in card  # the summary's line, hidden
    assert desk.t("restore.address.prompt").replace("\n", " ") in card  # the prompt is readable


async def test_outsiders_reading_the_desk_are_pointed_out_and_told_once_per_topic(
    desk: Desk,  # noqa: F811
    client: SandboxClient,
) -> None:
    def warning(count: int) -> Callable[[dict[str, object]], bool]:
        text = desk.t("retention.readers_warning", count=count)
        return lambda m: message_text(m) == text  # type: ignore[arg-type]

    # Eve is neither an administrator nor an operator: said at start-up.
    await desk.group.wait_for(warning(1), since=0)
    # Someone else joins: said again, with the new count.
    await desk.group.member(2004, "Mallory")
    await desk.group.wait_for(warning(2), since=0, timeout=15)

    c = desk.citizen
    await c.consent()
    thread = await ask_operator(desk, command=True)
    for text in ("hello?", "anyone?"):
        await desk.eve.send_text(text, thread_id=thread)
    await desk.eve.send_text("still nothing?", thread_id=thread)
    await desk.in_topic(lambda m: message_text(m) == desk.note("desk.not_operator"), thread)
    await asyncio.sleep(1)
    notes = [
        m
        for m in await desk.group.messages(thread)
        if message_text(m) == desk.note("desk.not_operator")
    ]
    assert len(notes) == 1
    assert EVE not in [m.get("from", {}).get("id") for m in await c.user.messages()]
