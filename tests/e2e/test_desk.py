"""The operator desk end to end: one citizen, two operators and an outsider in the emulator's
forum supergroup, the unmodified bot in between."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot.i18n import Texts
from sandbox.client import GroupHandle, MemberHandle, SandboxClient, message_text
from sandbox.emulator import Emulator
from tests.e2e.conftest import StartBot
from tests.e2e.harness import BotProcess
from tests.e2e.journey import IVANOV, Citizen, plain
from tests.fixtures_scans import make_jpeg, make_pdf

SUPPORT_CHAT = -1001234567890
OLGA, PAVEL, EVE = 2001, 2002, 2003  # Olga by OPERATOR_IDS, Pavel as an admin, Eve neither


@dataclass
class Desk:
    bot: BotProcess
    group: GroupHandle
    olga: MemberHandle
    pavel: MemberHandle
    eve: MemberHandle
    citizen: Citizen
    texts: Texts

    def t(self, key: str, **params: Any) -> str:
        return plain(self.texts.t(key, locale="ru", **params))

    def relayed(self, text: str) -> str:
        """A citizen's text as the topic shows it: under their name."""
        return self.t("desk.relay.text", name="Ivan", text=text)

    def note(self, key: str) -> str:
        """A service note of the bot in the topic, styled apart from relays."""
        return self.t("desk.note", text=self.texts.t(key, locale="ru"))

    async def topic(self, *, not_thread: int | None = None) -> dict[str, Any]:
        """The citizen's one topic, once the bot has created it."""
        for _ in range(200):
            topics = await self.group.topics()
            if topics and topics[0]["message_thread_id"] != not_thread:
                assert len(topics) == 1, topics
                return topics[0]
            await asyncio.sleep(0.05)
        raise AssertionError("no topic was created")

    async def in_topic(
        self, predicate: Callable[[dict[str, Any]], bool], thread: int
    ) -> dict[str, Any]:
        return await self.group.wait_for(predicate, thread_id=thread, timeout=10, since=0)

    def audit_actors(self) -> list[str]:
        path = Path(self.bot.data_dir) / "bot.sqlite3"
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
            return [row[0] for row in db.execute("SELECT actor FROM status_changes ORDER BY id")]


@pytest.fixture
async def desk(
    start_bot: StartBot, client: SandboxClient, texts: Texts, emulator: Emulator
) -> Desk:
    group = await client.forum_group(chat_id=SUPPORT_CHAT, title="Support")
    olga = await group.member(OLGA, "Olga", admin=False)
    pavel = await group.member(PAVEL, "Pavel", admin=True)
    eve = await group.member(EVE, "Eve", admin=False)
    bot = await start_bot(
        {
            "SUPPORT_CHAT_ID": str(SUPPORT_CHAT),
            "OPERATOR_IDS": str(OLGA),
            "CHECK_DELAY_SECONDS": "3600",  # operators decide; the background check waits
        }
    )
    user = await client.user(user_id=7101, first_name="Ivan", language_code="ru")
    return Desk(bot, group, olga, pavel, eve, Citizen(user, texts), texts)


async def ask_operator(desk: Desk, *, command: bool = False) -> int:
    c = desk.citizen
    if command:
        await c.user.send_command("/operator")
    else:
        await c.press("button.operator")
    await c.expect("support.waiting.in_progress")
    topic = await desk.topic()
    return int(topic["message_thread_id"])


Step = Callable[[Desk], Awaitable[None]]


async def test_topic_with_card_and_takeover_pauses_the_dialog(desk: Desk) -> None:
    c = desk.citizen
    await c.consent()
    await c.login(IVANOV)
    thread = await ask_operator(desk)
    topic = await desk.topic()
    assert topic["name"].startswith("Ivan · ")
    card = await desk.in_topic(lambda m: "reply_markup" in m, thread)
    text = message_text(card)
    assert "Иванов И. И., 12.**.1985" in text
    assert desk.t("step_name.reason") in text  # the step the citizen left
    assert desk.t("desk.button.take") in str(card["reply_markup"])
    # The very first message after asking reaches the topic; the dialog does not answer it.
    await c.user.send_text("I lost my policy in the metro")
    await desk.in_topic(
        lambda m: message_text(m) == desk.relayed("I lost my policy in the metro"), thread
    )
    await c.user.send_text("45 08 123456")  # would be a passport answer if the dialog ran
    await desk.in_topic(lambda m: message_text(m) == desk.relayed("45 08 123456"), thread)
    texts = [message_text(m) for m in await c.user.messages()]
    assert not any(c.snippet("restore.scan.prompt") in t for t in texts)


async def test_relay_both_ways_with_replies_edits_and_files(desk: Desk) -> None:
    c = desk.citizen
    await c.consent()
    await c.login(IVANOV)
    thread = await ask_operator(desk)
    question = await c.user.send_text("Where is my policy?")
    copy = await desk.in_topic(
        lambda m: message_text(m) == desk.relayed("Where is my policy?"), thread
    )

    # The operator answers as a reply: the citizen sees a reply to their own question.
    await desk.olga.reply_to(copy["message_id"], "Checking it now", thread_id=thread)
    await c.expect("support.operator_joined")
    answer = await c.user.wait_text("Checking it now", since=0)
    assert answer["reply_to_message"]["message_id"] == question["message_id"]

    # The citizen replies to the operator's message: the topic copy replies to the original.
    await c.user.reply_to(answer["message_id"], "Thank you")
    thanks = await desk.in_topic(lambda m: message_text(m) == desk.relayed("Thank you"), thread)
    assert thanks["reply_to_message"]["from"]["id"] == OLGA

    # Edits are mirrored both ways.
    await c.user.edit(question["message_id"], "Where is my OMS policy?")
    await desk.in_topic(
        lambda m: message_text(m) == desk.relayed("Where is my OMS policy?"), thread
    )
    operator_message = await desk.olga.send_text("Please wait", thread_id=thread)
    await c.user.wait_text("Please wait", since=0)
    await desk.olga.edit(operator_message["message_id"], "Please wait a minute")
    await c.user.wait_text("Please wait a minute", since=0)

    # Files both ways.
    await desk.olga.send_photo(make_jpeg(800, 600), caption="sample", thread_id=thread)
    photo = await c.user.wait_for(lambda m: "photo" in m, since=0)
    assert message_text(photo) == "sample"
    await c.user.send_document(make_pdf(1), "scan.pdf", "application/pdf")
    await desk.in_topic(lambda m: "document" in m, thread)


async def test_release_returns_the_citizen_to_the_same_step(desk: Desk) -> None:
    c = desk.citizen
    await c.consent()
    await c.login(IVANOV)
    await c.reason()
    thread = await ask_operator(desk)
    await desk.olga.send_text("Hello, I am Olga", thread_id=thread)
    await c.expect("support.operator_joined")
    await desk.olga.press(desk.t("desk.button.release"), thread_id=thread)
    await c.expect("support.back_to_bot.in_progress")
    await c.expect("restore.passport.prompt")
    await c.passport(IVANOV)  # the dialog goes on from the step it left
    await c.scan()


async def submitted(desk: Desk) -> int:
    c = desk.citizen
    await c.to_delivery(IVANOV)
    await c.choose_electronic()
    await c.submit()
    return await ask_operator(desk)


async def test_operator_approves_from_the_card(desk: Desk) -> None:
    thread = await submitted(desk)
    await desk.in_topic(
        lambda m: desk.t("desk.button.approve") in str(m.get("reply_markup")), thread
    )
    answer = await desk.olga.press(desk.t("desk.button.approve"), thread_id=thread)
    assert answer["text"] == desk.t("desk.done")
    await desk.citizen.wait_status("approved")
    await desk.citizen.wait_status("ready")
    await desk.citizen.user.wait_for(lambda m: "document" in m, timeout=15)
    assert "operator:2001" in desk.audit_actors()
    # The topic title follows the status.
    topic = await desk.topic()
    assert topic["name"].endswith(desk.t("status.name.ready"))


async def test_operator_rejects_with_a_reason(desk: Desk) -> None:
    thread = await submitted(desk)
    await desk.in_topic(
        lambda m: desk.t("desk.button.reject") in str(m.get("reply_markup")), thread
    )
    await desk.pavel.press(desk.t("desk.button.reject"), thread_id=thread)  # an admin may act
    await desk.in_topic(lambda m: desk.t("desk.reject.choose") in message_text(m), thread)
    await desk.pavel.press(desk.t("rejection.bad_photo"), thread_id=thread)
    rejected = await desk.citizen.wait_status("rejected")
    assert desk.t("rejection.bad_photo") in message_text(rejected)
    assert "operator:2002" in desk.audit_actors()


async def test_outsider_cannot_act(desk: Desk) -> None:
    thread = await submitted(desk)
    await desk.in_topic(
        lambda m: desk.t("desk.button.approve") in str(m.get("reply_markup")), thread
    )
    refused = await desk.eve.press(desk.t("desk.button.approve"), thread_id=thread)
    assert refused["show_alert"] and refused["text"] == desk.t("desk.not_operator")
    await desk.eve.send_text("I am not an operator", thread_id=thread)
    await desk.in_topic(lambda m: message_text(m) == desk.note("desk.not_operator"), thread)
    assert "operator:2003" not in desk.audit_actors()
    assert not any(
        message_text(m) == "I am not an operator" for m in await desk.citizen.user.messages()
    )
    assert "2003" not in desk.bot.log()  # the attempt is logged without who it was
    assert "desk message refused" in desk.bot.log()


async def test_deleted_topic_is_recreated_with_its_card(desk: Desk) -> None:
    c = desk.citizen
    await c.consent()
    thread = await ask_operator(desk, command=True)
    await desk.in_topic(lambda m: "reply_markup" in m, thread)  # the card is there
    await desk.group.delete_topic(thread)
    await c.user.send_text("Is anyone there?")
    fresh = int((await desk.topic(not_thread=thread))["message_thread_id"])
    first = await desk.in_topic(lambda m: "reply_markup" in m, fresh)
    assert desk.t("desk.button.take") in str(first["reply_markup"])
    await desk.in_topic(lambda m: message_text(m) == desk.relayed("Is anyone there?"), fresh)


async def test_blocked_citizen_is_shown_in_the_topic(desk: Desk) -> None:
    c = desk.citizen
    await c.consent()
    thread = await ask_operator(desk, command=True)
    await c.user.block()
    await desk.olga.send_text("Are you still there?", thread_id=thread)
    await desk.in_topic(lambda m: message_text(m) == desk.note("desk.citizen_blocked"), thread)


async def test_rate_limited_topic_creation_waits_and_retries(
    desk: Desk, emulator: Emulator
) -> None:
    emulator.fail_next("createForumTopic", status=429, retry_after=1)
    c = desk.citizen
    await c.consent()
    # The operator button sits in the reply keyboard while the contact button is shown.
    await c.user.tap_keyboard(c.t("button.operator"))
    await c.expect("support.waiting.in_progress")
    await desk.topic()
    calls = emulator.calls("createForumTopic")
    assert [call.error_code for call in calls] == [429, None]


async def test_templates_reach_the_citizen_in_their_language(desk: Desk) -> None:
    c = desk.citizen
    await c.consent()
    thread = await ask_operator(desk, command=True)
    await desk.olga.send_command("/templates", thread_id=thread)
    await desk.in_topic(lambda m: message_text(m) == desk.note("desk.templates"), thread)
    await desk.olga.press(desk.t("template.greeting.title"), thread_id=thread)
    await c.user.wait_text(c.t("template.greeting.text"), since=0)


async def test_operator_asks_for_a_new_passport_photo(desk: Desk) -> None:
    thread = await submitted(desk)
    await desk.in_topic(
        lambda m: desk.t("desk.button.new_scan") in str(m.get("reply_markup")), thread
    )
    await desk.olga.press(desk.t("desk.button.new_scan"), thread_id=thread)
    await desk.citizen.expect("support.new_scan_requested")
    await desk.citizen.user.send_photo(make_jpeg(1300, 900))
    await desk.citizen.expect("support.new_scan_received")
    await desk.in_topic(lambda m: "photo" in m, thread)


async def test_uninvited_group_is_left(
    desk: Desk, client: SandboxClient, emulator: Emulator
) -> None:
    other = await client.plain_group(chat_id=-4009999999, title="Random")
    await other.member(EVE, "Eve")
    await other.add_bot(by_user_id=EVE)
    for _ in range(100):
        if emulator.calls("leaveChat"):
            break
        await asyncio.sleep(0.05)
    assert emulator.calls("leaveChat")[0].params["chat_id"] == -4009999999


async def test_operator_marks_a_paper_copy_ready_for_pickup(
    start_bot: StartBot, client: SandboxClient, texts: Texts
) -> None:
    group = await client.forum_group(chat_id=SUPPORT_CHAT, title="Support")
    olga = await group.member(OLGA, "Olga")
    bot = await start_bot(
        {
            "SUPPORT_CHAT_ID": str(SUPPORT_CHAT),
            "OPERATOR_IDS": str(OLGA),
            "CHECK_DELAY_SECONDS": "3600",
            "PAPER_PRINT_DELAY_SECONDS": "3600",  # printing waits: the operator says when
        }
    )
    user = await client.user(user_id=7102, first_name="Ivan", language_code="ru")
    desk = Desk(bot, group, olga, olga, olga, Citizen(user, texts), texts)
    await desk.citizen.to_delivery(IVANOV)
    await desk.citizen.choose_pickup()
    await desk.citizen.submit()
    thread = await ask_operator(desk)
    await desk.in_topic(
        lambda m: desk.t("desk.button.approve") in str(m.get("reply_markup")), thread
    )
    await olga.press(desk.t("desk.button.approve"), thread_id=thread)
    await desk.citizen.wait_status("approved")
    ready = desk.t("desk.button.ready_for_pickup")
    await desk.in_topic(lambda m: ready in str(m.get("reply_markup")), thread)  # the card follows
    await olga.press(ready, thread_id=thread)
    await desk.citizen.wait_status("ready_for_pickup")
    assert desk.audit_actors().count("operator:2001") == 3  # processing, approved, handed over


async def test_operators_get_their_own_command_menu(desk: Desk, emulator: Emulator) -> None:
    scopes = {
        (str(call.params.get("scope")), call.params.get("language_code"))
        for call in emulator.calls("setMyCommands")
        if call.ok
    }
    assert any(str(SUPPORT_CHAT) in scope and language == "ru" for scope, language in scopes)
