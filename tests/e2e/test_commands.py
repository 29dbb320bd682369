"""Commands that work at any step: /cancel, /status, /policy, /help, /profile."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.i18n import Texts
from sandbox.client import SandboxClient, message_text
from sandbox.emulator import Emulator
from tests.e2e.conftest import StartBot
from tests.e2e.harness import BotProcess
from tests.e2e.journey import IVANOV, Citizen, button_labels, new_citizen


async def to_contact(c: Citizen) -> None:
    await c.consent()


async def to_scan(c: Citizen) -> None:
    await c.consent()
    await c.login(IVANOV)
    await c.reason()
    await c.passport(IVANOV)


async def to_summary(c: Citizen) -> None:
    await c.to_delivery(IVANOV)
    await c.choose_electronic()


STOPS: dict[str, Callable[[Citizen], Awaitable[None]]] = {
    "contact": to_contact,
    "scan": to_scan,
    "summary": to_summary,
}


@pytest.mark.parametrize("stop", list(STOPS))
async def test_cancel_leaves_nothing_submitted_and_start_begins_again(
    stop: str, bot: BotProcess, client: SandboxClient, texts: Texts
) -> None:
    c = await new_citizen(client, texts)
    await STOPS[stop](c)
    await c.user.send_command("/cancel")
    await c.expect("cancel.done")
    await c.user.send_command("/status")
    await c.expect("status.none")
    assert bot.query("SELECT id FROM applications") == []
    assert bot.stored_files() == []  # a scan uploaded before /cancel is not kept
    await c.to_delivery(IVANOV)  # /start works as new
    await c.choose_electronic()
    await c.submit()


async def test_start_in_the_middle_discards_the_unsubmitted_scan(
    bot: BotProcess, client: SandboxClient, texts: Texts
) -> None:
    c = await new_citizen(client, texts)
    await c.to_delivery(IVANOV)
    assert len(bot.stored_files()) == 1
    await c.consent()  # /start again
    assert bot.stored_files() == []
    await c.login(IVANOV)


async def test_cancel_after_submit_keeps_the_applications_scan(
    bot: BotProcess, client: SandboxClient, texts: Texts
) -> None:
    c = await new_citizen(client, texts)
    await to_summary(c)
    await c.submit()
    await c.user.send_command("/cancel")
    await c.expect("cancel.nothing")
    await c.consent()
    [row] = bot.query("SELECT scan_name FROM applications")
    assert [p.name for p in bot.stored_files()] == [row["scan_name"]]


async def completed(c: Citizen) -> str:
    await c.to_delivery(IVANOV)
    await c.choose_electronic()
    number = await c.submit()
    await c.wait_status("ready")
    await c.user.wait_for(lambda m: "document" in m, timeout=15)
    return number


async def test_status_lists_each_change_with_its_date(
    bot: BotProcess, client: SandboxClient, texts: Texts
) -> None:
    c = await new_citizen(client, texts)
    number = await completed(c)
    await c.user.send_command("/status")
    reply = message_text(await c.expect("status.application"))
    assert number in reply
    for status in ("submitted", "processing", "approved", "ready"):
        name = re.escape(c.t(f"status.name.{status}"))
        assert re.search(rf"^\d\d\.\d\d\.\d{{4}} \d\d:\d\d — {name}$", reply, re.M), reply


async def test_status_times_are_in_the_configured_time_zone(
    start_bot: StartBot, client: SandboxClient, texts: Texts
) -> None:
    zone = ZoneInfo("Asia/Vladivostok")  # UTC+10: far enough from UTC to tell them apart
    await start_bot({"TIMEZONE": "Asia/Vladivostok"})
    c = await new_citizen(client, texts)
    await completed(c)
    await c.user.send_command("/status")
    reply = message_text(await c.expect("status.application"))
    shown = re.search(r"^(\d\d\.\d\d\.\d{4} \d\d:\d\d) — ", reply, re.M)
    assert shown is not None, reply
    at = datetime.strptime(shown.group(1), "%d.%m.%Y %H:%M").replace(tzinfo=zone)
    assert abs(datetime.now(zone) - at) < timedelta(minutes=3)


async def test_policy_before_completion_says_there_is_none(
    bot: BotProcess, client: SandboxClient, texts: Texts
) -> None:
    c = await new_citizen(client, texts)
    await c.user.send_command("/policy")
    await c.expect("policy.none")


async def test_policy_is_sent_again_by_its_stored_file_id(
    bot: BotProcess, client: SandboxClient, texts: Texts, emulator: Emulator
) -> None:
    c = await new_citizen(client, texts)
    await completed(c)
    # The file_id is stored once Telegram's answer is back; a lookup reads only what is
    # committed (it does not wait for a write in progress), so ask once it is there.
    for _ in range(200):
        if bot.query("SELECT policy_file_id FROM applications")[0][0]:
            break
        await asyncio.sleep(0.05)
    else:
        raise AssertionError("the PDF's file_id was never stored")
    await c.user.send_command("/policy")
    again = await c.user.wait_for(lambda m: "document" in m, timeout=15)
    first, second = emulator.calls("sendDocument")
    assert first.files  # the rendered PDF was uploaded once (as an attach:// part)
    assert second.files == {}  # and then referred to by the file_id Telegram gave it
    assert second.params["document"] == first.result["document"]["file_id"]
    assert again["document"]["file_id"] == first.result["document"]["file_id"]


async def test_help_shows_the_configured_support_contacts(
    start_bot: StartBot, client: SandboxClient, texts: Texts
) -> None:
    await start_bot({"SUPPORT_EMAIL": "help@oms.example", "SUPPORT_PHONE": "8-800-555-35-35"})
    c = await new_citizen(client, texts)
    await c.user.send_command("/help")
    reply = await c.expect("help.text")
    assert "help@oms.example" in message_text(reply)
    assert "8-800-555-35-35" in message_text(reply)
    assert c.t("button.operator") in button_labels(reply)


async def test_profile_shows_the_phone_and_offers_no_email_without_smtp(
    bot: BotProcess, client: SandboxClient, texts: Texts
) -> None:
    c = await new_citizen(client, texts)
    await c.consent()
    await c.login(IVANOV)
    await c.user.send_command("/profile")
    profile = await c.expect("profile.text")
    assert IVANOV.phone in message_text(profile)
    assert c.t("button.set_email") not in button_labels(profile)  # SMTP_URL is not set
