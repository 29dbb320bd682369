"""One notification never holds up, duplicates or mislabels another: the eight defects of the
outbox and the operator desk, each reproduced against the running bot and the emulator."""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot.i18n import Texts
from sandbox.client import GroupHandle, MemberHandle, SandboxClient, message_text
from tests.e2e.conftest import StartBot
from tests.e2e.harness import BotProcess
from tests.e2e.journey import IVANOV, PETROVA, Citizen, Person, plain

SUPPORT_CHAT = -1001234567001
OLGA = 2101
KICKED = "Forbidden: bot was kicked from the supergroup chat"


@contextmanager
def database(bot: BotProcess) -> Iterator[sqlite3.Connection]:
    with closing(sqlite3.connect(Path(bot.data_dir) / "bot.sqlite3", timeout=10)) as db:
        db.row_factory = sqlite3.Row
        yield db
        db.commit()


async def citizen(client: SandboxClient, texts: Texts, user_id: int) -> Citizen:
    user = await client.user(user_id=user_id, first_name="Ivan", language_code="ru")
    return Citizen(user, texts)


async def journey_to_submit(c: Citizen, person: Person) -> str:
    await c.to_delivery(person)
    await c.choose_electronic()
    return await c.submit()


async def pushes(c: Citizen, status: str) -> list[dict[str, Any]]:
    pattern = re.compile(rf": {re.escape(c.t(f'status.name.{status}'))}(\n|$)")
    return [m for m in await c.user.messages() if pattern.search(message_text(m))]


async def wait_document(c: Citizen, timeout: float = 20.0) -> dict[str, Any]:
    return await c.user.wait_for(lambda m: "document" in m, timeout, since=0)


@dataclass
class Desk:
    bot: BotProcess
    group: GroupHandle
    olga: MemberHandle
    citizen: Citizen
    texts: Texts

    def t(self, key: str, **params: Any) -> str:
        return plain(self.texts.t(key, locale="ru", **params))

    async def open_topic(self) -> int:
        """The citizen asks for a human once (the topic is made) and goes back to the form."""
        c = self.citizen
        await c.press("button.operator")
        await c.expect("support.waiting.in_progress")
        for _ in range(200):
            topics = await self.group.topics()
            if topics:
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("no topic was created")
        await c.press("button.back_to_form.in_progress")
        await asyncio.sleep(0.3)
        return int(topics[0]["message_thread_id"])

    async def to_summary_with_a_topic(self) -> None:
        """Logged in, a topic opened once, then the form to the summary (electronic)."""
        c = self.citizen
        await c.consent()
        await c.login(IVANOV)
        await self.open_topic()
        await c.reason()
        await c.passport(IVANOV)
        await c.scan()
        await c.choose_electronic()


@pytest.fixture
async def desk(start_bot: StartBot, client: SandboxClient, texts: Texts) -> Desk:
    group = await client.forum_group(chat_id=SUPPORT_CHAT, title="Support")
    olga = await group.member(OLGA, "Olga", admin=False)
    bot = await start_bot({"SUPPORT_CHAT_ID": str(SUPPORT_CHAT), "OPERATOR_IDS": str(OLGA)})
    return Desk(bot, group, olga, await citizen(client, texts, 7301), texts)


# 1 -------------------------------------------------------------------------------------------


async def test_a_citizen_who_blocked_the_bot_does_not_hold_up_another(
    start_bot: StartBot, client: SandboxClient, texts: Texts
) -> None:
    bot = await start_bot()
    first = await citizen(client, texts, 7201)
    await journey_to_submit(first, IVANOV)
    await first.user.block()  # before the policy: its chat action and PDF get 403
    await asyncio.sleep(2.0)  # the first citizen's rows are due and fail now
    second = await citizen(client, texts, 7202)
    await journey_to_submit(second, PETROVA)
    await second.wait_status("ready", timeout=20)
    await wait_document(second)
    with database(bot) as db:
        blocked = db.execute("SELECT blocked_bot FROM citizens WHERE user_id = 7201").fetchone()
        pending = db.execute(
            "SELECT count(*) FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL"
            " AND chat_id = 7201"
        ).fetchone()
    assert blocked[0] == 1
    assert pending[0] == 0  # given up at once: a blocked chat is not retried


# 2 -------------------------------------------------------------------------------------------


async def test_a_failing_topic_rename_never_repeats_the_citizens_status_push(
    desk: Desk, client: SandboxClient
) -> None:
    c = desk.citizen
    await desk.to_summary_with_a_topic()
    # Every rename of the topic fails from now on (a lasting error), 404 as Telegram answers.
    await client.fail_next("editForumTopic", status=404, description="Not Found", times=100)
    await c.submit()
    await c.wait_status("ready", timeout=20)
    await wait_document(c)
    await asyncio.sleep(1.5)  # time for repeats, were there any
    for status in ("processing", "approved", "ready"):
        assert len(await pushes(c, status)) == 1, status
    documents = [m for m in await c.user.messages() if "document" in m]
    assert len(documents) == 1


# 3 -------------------------------------------------------------------------------------------


async def test_a_403_from_the_support_chat_never_marks_the_citizen_as_blocked(
    desk: Desk, client: SandboxClient
) -> None:
    c = desk.citizen
    await desk.to_summary_with_a_topic()
    await c.submit()  # its receipt is an edit of the summary: the faults come after it
    for method in ("editForumTopic", "editMessageText"):
        await client.fail_next(method, status=403, description=KICKED, times=3)
    await c.wait_status("ready", timeout=20)
    await wait_document(c)
    await asyncio.sleep(0.5)  # the row is marked right after Telegram's answer
    with database(desk.bot) as db:
        blocked = db.execute("SELECT blocked_bot FROM citizens WHERE user_id = 7301").fetchone()
        citizen_rows = db.execute(
            "SELECT kind, sent_at, failed_at FROM outbox WHERE chat_id = 7301"
            " AND kind IN ('status_changed', 'policy_document')"
        ).fetchall()
    assert blocked[0] == 0
    assert citizen_rows and all(r["sent_at"] and not r["failed_at"] for r in citizen_rows), [
        dict(r) for r in citizen_rows
    ]


# 4 -------------------------------------------------------------------------------------------


async def test_an_operators_take_during_the_citizens_upload_is_not_lost(
    desk: Desk, client: SandboxClient
) -> None:
    c = desk.citizen
    await c.consent()
    await c.login(IVANOV)
    thread = await desk.open_topic()
    await c.reason()
    await c.passport(IVANOV)
    await client.delay_next("getFile", 1.5)  # the citizen's upload is slow to fetch
    from tests.fixtures_scans import make_jpeg

    await c.user.send_photo(make_jpeg(1200, 800))
    await asyncio.sleep(0.4)  # the scan handler is waiting for the file now
    await desk.olga.press(desk.t("desk.button.take"), thread_id=thread)
    await c.expect("support.operator_joined")
    await asyncio.sleep(1.5)  # the upload finished after the take
    await c.user.send_text("Hello, is anyone there?")
    relayed = await desk.group.wait_for(
        lambda m: message_text(m).endswith("Hello, is anyone there?"),
        thread_id=thread,
        timeout=10,
        since=0,
    )
    assert relayed
    # The scan itself was kept: release returns to the step after it.
    await desk.olga.press(desk.t("desk.button.release"), thread_id=thread)
    await c.expect("restore.delivery.prompt")


# 5 -------------------------------------------------------------------------------------------


async def test_operator_approval_of_a_new_application_is_one_transaction(
    start_bot: StartBot, client: SandboxClient, texts: Texts
) -> None:
    group = await client.forum_group(chat_id=SUPPORT_CHAT, title="Support")
    olga = await group.member(OLGA, "Olga", admin=False)
    bot = await start_bot(
        {
            "SUPPORT_CHAT_ID": str(SUPPORT_CHAT),
            "OPERATOR_IDS": str(OLGA),
            "CHECK_DELAY_SECONDS": "3600",  # the operator decides, not the background check
        }
    )
    c = await citizen(client, texts, 7401)
    await c.to_delivery(IVANOV)
    await c.choose_electronic()
    await c.submit()
    await c.press("button.operator")
    await c.expect("support.waiting.submitted")
    for _ in range(200):
        topics = await group.topics()
        if topics:
            break
        await asyncio.sleep(0.05)
    thread = int(topics[0]["message_thread_id"])
    label = plain(texts.t("desk.button.approve", locale="ru"))
    await group.wait_for(
        lambda m: label in json.dumps(m.get("reply_markup"), ensure_ascii=False), thread_id=thread
    )
    answer = await olga.press(label, thread_id=thread)
    assert answer["answered"]
    await c.wait_status("ready", timeout=20)
    with database(bot) as db:
        rows = db.execute(
            "SELECT from_status, to_status, at FROM status_changes ORDER BY id"
        ).fetchall()
    steps = [(r["from_status"], r["to_status"]) for r in rows]
    assert steps[:3] == [
        (None, "submitted"),
        ("submitted", "processing"),
        ("processing", "approved"),
    ]
    assert rows[1]["at"] == rows[2]["at"]  # one transaction, one moment


# 6 -------------------------------------------------------------------------------------------


async def test_login_creates_the_missing_profile_with_the_confirmed_enp(
    start_bot: StartBot, client: SandboxClient, texts: Texts
) -> None:
    bot = await start_bot()
    c = await citizen(client, texts, 7501)
    await c.consent()
    with database(bot) as db:  # a profile lost since the consent (e.g. an older version)
        db.execute("DELETE FROM citizens WHERE user_id = 7501")
    await c.login(IVANOV)
    await c.reason()
    await c.passport(IVANOV)
    await c.scan()
    await c.choose_electronic()
    await c.submit()
    await c.wait_status("ready", timeout=20)
    with database(bot) as db:
        row = db.execute("SELECT enp FROM citizens WHERE user_id = 7501").fetchone()
    assert row is not None and row["enp"] == IVANOV.enp


# 7 -------------------------------------------------------------------------------------------


async def test_outbox_payloads_hold_no_personal_data_and_are_cleared(
    start_bot: StartBot, client: SandboxClient, texts: Texts
) -> None:
    bot = await start_bot()
    c = await citizen(client, texts, 7601)
    await journey_to_submit(c, IVANOV)
    await c.wait_status("ready", timeout=20)
    await wait_document(c)
    await bot.stop()
    with database(bot) as db:
        payloads = [r[0] for r in db.execute("SELECT payload FROM outbox")]
    assert payloads
    assert not any(IVANOV.enp in p or "enp" in p for p in payloads)
    assert not any(re.search(r"\d{10,}", p) for p in payloads)
    # Sent rows older than OUTBOX_RETENTION_DAYS lose their payload (0: at the next sweep).
    again = BotProcess(bot.emulator, bot.data_dir, {"OUTBOX_RETENTION_DAYS": "0"})
    await again.start()
    try:
        for _ in range(100):
            with database(again) as db:
                kept = db.execute(
                    "SELECT count(*) FROM outbox WHERE sent_at IS NOT NULL AND payload != '{}'"
                ).fetchone()[0]
            if kept == 0:
                break
            await asyncio.sleep(0.1)
        assert kept == 0
    finally:
        assert await again.stop() == 0, again.log()


# 8 -------------------------------------------------------------------------------------------


async def test_submission_is_announced_once(
    start_bot: StartBot, client: SandboxClient, texts: Texts
) -> None:
    await start_bot()
    c = await citizen(client, texts, 7701)
    number = await journey_to_submit(c, IVANOV)
    await c.wait_status("processing", timeout=20)
    messages = [message_text(m) for m in await c.user.messages()]
    until_processing = messages[
        : next(
            i for i, t in enumerate(messages) if number in t and c.t("status.name.processing") in t
        )
    ]
    assert sum(number in t for t in until_processing) == 1
    assert not await pushes(c, "submitted")
