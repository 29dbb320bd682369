"""Reminders that involve the operator desk, end to end on the sandbox clock: the paper copy
waiting at the office (until an operator marks it collected), a new passport photo asked for,
and the operators' digest."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.i18n import Texts
from sandbox.client import GroupHandle, MemberHandle, SandboxClient, message_text
from tests.e2e.clock import CLOCK_ENV, advance, bot_now, move_to, settle
from tests.e2e.conftest import StartBot
from tests.e2e.harness import BotProcess
from tests.e2e.journey import IVANOV, PETROVA, Citizen, new_citizen, plain
from tests.fixtures_scans import make_jpeg

SUPPORT_CHAT = -1001234567890
OLGA = 2001
DAY = timedelta(days=1)


@dataclass
class Desk:
    bot: BotProcess
    group: GroupHandle
    olga: MemberHandle
    texts: Texts

    def t(self, key: str, **params: Any) -> str:
        return plain(self.texts.t(key, locale="ru", **params))

    async def topic_of(self, name_part: str) -> int:
        """The topic whose title names this (an application number), once it exists."""
        for _ in range(200):
            for topic in await self.group.topics():
                if name_part in topic["name"]:
                    return int(topic["message_thread_id"])
            await asyncio.sleep(0.05)
        raise AssertionError(f"no topic with {name_part!r}")

    async def press_on_card(self, label: str, thread: int) -> None:
        await self.group.wait_for(
            lambda m: label in str(m.get("reply_markup")), thread_id=thread, since=0
        )
        await self.olga.press(label, thread_id=thread)


async def open_desk(start_bot: StartBot, client: SandboxClient, texts: Texts, **env: str) -> Desk:
    group = await client.forum_group(chat_id=SUPPORT_CHAT, title="Support")
    olga = await group.member(OLGA, "Olga")
    bot = await start_bot(
        {**CLOCK_ENV, "SUPPORT_CHAT_ID": str(SUPPORT_CHAT), "OPERATOR_IDS": str(OLGA), **env}
    )
    return Desk(bot, group, olga, texts)


async def messages_with(c: Citizen, key: str) -> list[dict[str, Any]]:
    return [m for m in await c.user.messages() if c.snippet(key) in message_text(m)]


async def ask_operator(c: Citizen) -> None:
    await c.user.send_command("/operator")
    # Each situation has its own text; their first line (what expect matches) is the same.
    await c.expect("support.waiting.no_application")


async def test_a_paper_copy_at_the_office_is_reminded_every_few_days_until_collected(
    start_bot: StartBot, client: SandboxClient, texts: Texts
) -> None:
    desk = await open_desk(start_bot, client, texts)
    c = await new_citizen(client, texts)
    await c.to_delivery(IVANOV)
    await c.choose_pickup()
    number = await c.submit()
    await c.wait_status("ready_for_pickup")

    await advance(client, 2 * DAY)
    await settle(desk.bot, client)
    assert await messages_with(c, "reminder.pickup") == []
    await advance(client, DAY + timedelta(minutes=1))
    await settle(desk.bot, client)
    [first] = await messages_with(c, "reminder.pickup")
    text = message_text(first)
    assert number in text
    assert "ул. Примерная, д. 1" in text  # the office's address (demo list, msk-1)
    assert "пн–пт 09:00–20:00" in text  # and its hours
    await advance(client, 3 * DAY + timedelta(minutes=1))
    await settle(desk.bot, client)
    assert len(await messages_with(c, "reminder.pickup")) == 2

    await ask_operator(c)
    thread = await desk.topic_of(number)
    await desk.press_on_card(desk.t("desk.button.collected"), thread)
    await c.wait_status("collected")
    await advance(client, 10 * DAY)
    await settle(desk.bot, client)
    assert len(await messages_with(c, "reminder.pickup")) == 2  # its reason is gone


async def test_a_new_passport_photo_asked_for_is_reminded_once(
    start_bot: StartBot, client: SandboxClient, texts: Texts
) -> None:
    desk = await open_desk(start_bot, client, texts, CHECK_DELAY_SECONDS="10000000")
    c = await new_citizen(client, texts)
    await c.to_delivery(IVANOV)
    await c.choose_electronic()
    number = await c.submit()
    await ask_operator(c)
    thread = await desk.topic_of(number)
    await desk.press_on_card(desk.t("desk.button.new_scan"), thread)
    await c.expect("support.new_scan_requested")

    await advance(client, DAY + timedelta(minutes=1))
    await settle(desk.bot, client)
    assert len(await messages_with(c, "reminder.scan")) == 1
    await advance(client, 3 * DAY)
    await settle(desk.bot, client)
    assert len(await messages_with(c, "reminder.scan")) == 1  # once

    await c.press("reminder.continue")
    await c.expect("restore.scan.prompt")
    await c.user.send_photo(make_jpeg(1300, 900))
    await c.expect("support.new_scan_received")


def digest_texts(messages: list[dict[str, Any]], desk: Desk) -> list[dict[str, Any]]:
    title = desk.t("digest.title", at="").strip()
    return [m for m in messages if message_text(m).startswith(title)]


async def test_the_digest_lists_exactly_the_overdue_applications_and_waiting_citizens(
    start_bot: StartBot, client: SandboxClient, texts: Texts
) -> None:
    desk = await open_desk(
        start_bot, client, texts, CHECK_DELAY_SECONDS="10000000", SERVICE_LEVEL_HOURS="72"
    )
    late = await new_citizen(client, texts, user_id=7401)
    await late.to_delivery(IVANOV)
    await late.choose_electronic()
    late_number = await late.submit()
    await advance(client, timedelta(hours=73))
    await settle(desk.bot, client)  # the bot follows the clock before the next citizen starts
    recent = await new_citizen(client, texts, user_id=7402)
    await recent.to_delivery(PETROVA)
    await recent.choose_electronic()
    recent_number = await recent.submit()  # within the service level: not listed
    asking = Citizen(
        await client.user(user_id=7403, first_name="Светлана", language_code="ru"), texts
    )
    await asking.consent()
    await ask_operator(asking)
    await settle(desk.bot, client)

    before = len(digest_texts(await desk.group.messages(thread_id=1), desk))
    await desk.olga.send_command("/digest")
    await settle(desk.bot, client)
    digests = digest_texts(await desk.group.messages(thread_id=1), desk)
    assert len(digests) == before + 1
    digest = digests[-1]
    text = message_text(digest)
    assert desk.t("digest.overdue", hours=72, n=1) in text
    assert desk.t("digest.waiting", n=1) in text
    assert late_number in text and recent_number not in text
    assert "Светлана" in text
    links = [e["url"] for e in digest.get("entities", []) if e["type"] == "text_link"]
    assert len(links) == 2 and all(re.match(r"https://t\.me/c/1234567890/\d+$", u) for u in links)
    # The overdue application got a topic (with its card) for the operators to act in.
    await desk.topic_of(late_number)

    # Each morning at DIGEST_AT (09:00 in TIMEZONE), once.
    moscow = ZoneInfo("Europe/Moscow")
    tomorrow = (await bot_now(client)).astimezone(moscow).date() + DAY
    await move_to(
        client, datetime.combine(tomorrow, datetime.min.time(), moscow).replace(hour=9, minute=1)
    )
    await settle(desk.bot, client)
    await advance(client, timedelta(hours=2))
    await settle(desk.bot, client)
    morning = digest_texts(await desk.group.messages(thread_id=1), desk)
    assert len(morning) == len(digests) + 1
    assert late_number in message_text(morning[-1])
