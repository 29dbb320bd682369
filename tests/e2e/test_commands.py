"""Commands that work at any step: /cancel, /status, /policy, /help, /profile."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.i18n import Texts
from sandbox.client import SandboxClient, message_text
from sandbox.emulator import Emulator
from tests.e2e.conftest import StartBot
from tests.e2e.harness import ROOT, BotProcess
from tests.e2e.journey import IVANOV, KOZLOV, Citizen, Person, button_labels, new_citizen


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


async def completed(c: Citizen, person: Person = IVANOV) -> str:
    await c.to_delivery(person)
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


async def status_times(c: Citizen) -> list[tuple[datetime, str]]:
    """/status's history lines: each moment as written, and what stands between it and " — "
    (a zone label, or nothing)."""
    await c.user.send_command("/status")
    reply = message_text(await c.expect("status.application"))
    shown = re.findall(r"^(\d\d\.\d\d\.\d{4} \d\d:\d\d)(.*?) — ", reply, re.M)
    assert shown, reply
    return [(datetime.strptime(at, "%d.%m.%Y %H:%M"), label.strip()) for at, label in shown]


async def expected_dates(c: Citizen) -> list[tuple[datetime, str]]:
    """The pushes' "expected by" moments, each with what follows it (a zone label, or nothing)."""
    head = re.escape(c.t("next.by", at="@").split("@")[0])
    found = []
    for message in await c.user.messages():
        found += re.findall(rf"{head}(\d\d\.\d\d\.\d{{4}} \d\d:\d\d)([^.]*)", message_text(message))
    assert found
    return [(datetime.strptime(at, "%d.%m.%Y %H:%M"), label.strip()) for at, label in found]


def written_now(at: datetime, zone: ZoneInfo) -> bool:
    """`at`, as written with no zone, is the clock of `zone` about now."""
    return abs(datetime.now(zone) - at.replace(tzinfo=zone)) < timedelta(minutes=3)


@pytest.mark.parametrize("lang", ["ru", "en"])
async def test_status_times_are_in_the_citizens_own_zone_with_no_label(
    lang: str, start_bot: StartBot, client: SandboxClient, texts: Texts
) -> None:
    # KOZLOV lives in Novosibirsk (UTC+7); TIMEZONE is neither that nor UTC.
    await start_bot({"TIMEZONE": "Asia/Vladivostok"})
    c = await new_citizen(client, texts, lang=lang)
    await completed(c, KOZLOV)
    for at, label in await status_times(c):
        assert label == ""
        assert written_now(at, ZoneInfo("Asia/Novosibirsk")), at
    # The pushes' "what happens next" dates are in the same zone, minutes ahead at most.
    assert all(label == "" for _, label in await expected_dates(c))


def register_without_region(tmp_path: Path, person: Person) -> Path:
    """The demo register with `person`'s region one the table of zones does not know."""
    demo = (ROOT / "storage" / "demo" / "register.csv").read_text(encoding="utf-8")
    register = tmp_path / "register.csv"
    register.write_text(
        "\n".join(
            line.replace(person.region, "Atlantis") if line.startswith(person.enp) else line
            for line in demo.splitlines()
        )
        + "\n",
        encoding="utf-8",
    )
    return register


@pytest.mark.parametrize(
    ("timezone", "lang", "label"),
    [
        ("Europe/Moscow", "ru", "МСК"),
        ("Europe/Moscow", "en", "Moscow time"),
        ("Asia/Vladivostok", "ru", "UTC+10"),
        ("Asia/Vladivostok", "en", "UTC+10"),
    ],
)
async def test_status_times_say_their_zone_when_the_citizens_region_is_unknown(
    timezone: str,
    lang: str,
    label: str,
    start_bot: StartBot,
    client: SandboxClient,
    texts: Texts,
    tmp_path: Path,
) -> None:
    register = register_without_region(tmp_path, IVANOV)
    await start_bot({"TIMEZONE": timezone, "REGISTRY_PATH": str(register)})
    c = await new_citizen(client, texts, lang=lang)
    await completed(c)
    for at, shown in await status_times(c):
        assert shown == label
        assert written_now(at, ZoneInfo(timezone)), at
    assert all(shown == label for _, shown in await expected_dates(c))


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
