"""Texts that fit the moment: the operator's texts follow where the citizen stands, the topic tells
the citizen's words from the bot's notes, and a step's message says which option was chosen."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import pytest

from bot.i18n import Texts
from sandbox.client import GroupHandle, MemberHandle, SandboxClient, message_text
from tests.e2e.conftest import StartBot
from tests.e2e.journey import IVANOV, Citizen, button_labels, plain

SUPPORT_CHAT = -1001234567002
OLGA = 2201


@dataclass
class Desk:
    group: GroupHandle
    olga: MemberHandle
    citizen: Citizen
    texts: Texts

    def t(self, key: str, **params: Any) -> str:
        return plain(self.texts.t(key, locale="ru", **params))

    async def thread(self) -> int:
        """The citizen's topic, once its card is posted (the conversation then knows it)."""
        for _ in range(200):
            topics = await self.group.topics()
            if topics:
                thread = int(topics[0]["message_thread_id"])
                await self.group.wait_for(
                    lambda m: "reply_markup" in m, thread_id=thread, timeout=10, since=0
                )
                await asyncio.sleep(0.2)  # the topic is recorded right after its card
                return thread
            await asyncio.sleep(0.05)
        raise AssertionError("no topic was created")


async def open_desk(start_bot: StartBot, client: SandboxClient, texts: Texts, **env: str) -> Desk:
    group = await client.forum_group(chat_id=SUPPORT_CHAT, title="Support")
    olga = await group.member(OLGA, "Olga", admin=False)
    await start_bot({"SUPPORT_CHAT_ID": str(SUPPORT_CHAT), "OPERATOR_IDS": str(OLGA), **env})
    user = await client.user(user_id=7801, first_name="Ivan", language_code="ru")
    return Desk(group, olga, Citizen(user, texts), texts)


@pytest.fixture
async def desk(start_bot: StartBot, client: SandboxClient, texts: Texts) -> Desk:
    return await open_desk(start_bot, client, texts)


async def test_after_the_policy_arrived_the_operator_texts_speak_of_a_finished_application(
    desk: Desk,
) -> None:
    c = desk.citizen
    await c.to_delivery(IVANOV)
    await c.choose_electronic()
    await c.submit()
    await c.wait_status("ready")
    await c.user.wait_for(lambda m: "document" in m, 15, since=0)

    await c.user.send_command("/operator")
    waiting = await c.expect("support.waiting.finished")
    assert button_labels(waiting) == [c.t("button.back_to_form.finished")]
    assert c.t("button.back_to_form.in_progress") not in message_text(waiting)
    thread = await desk.thread()
    await desk.olga.send_command("/release", thread_id=thread)
    released = await c.expect("support.back_to_bot.finished")
    assert "/policy" in message_text(released)

    # Asked again and ended by the citizen: the button is answered with a fitting text.
    await c.user.send_command("/operator")
    await c.expect("support.waiting.finished")
    press = await c.press("button.back_to_form.finished")
    assert press["answered"]
    await c.expect("support.returned.finished")


async def test_while_the_application_is_in_work_the_texts_name_it(
    start_bot: StartBot, client: SandboxClient, texts: Texts
) -> None:
    desk = await open_desk(start_bot, client, texts, CHECK_DELAY_SECONDS="3600")
    c = desk.citizen
    await c.to_delivery(IVANOV)
    await c.choose_post()
    number = await c.submit()

    await c.user.send_command("/operator")
    waiting = await c.expect("support.waiting.submitted")
    assert number in message_text(waiting)
    assert button_labels(waiting) == [c.t("button.back_to_form.submitted")]
    thread = await desk.thread()
    await desk.olga.send_command("/release", thread_id=thread)
    released = await c.expect("support.back_to_bot.submitted")
    assert number in message_text(released)


async def test_a_citizen_without_an_application_is_sent_to_start(desk: Desk) -> None:
    c = desk.citizen
    await c.user.send_command("/operator")
    await c.expect("support.waiting.no_application")
    await c.press("button.back_to_form.no_application")
    await c.expect("support.returned.no_application")


async def test_in_the_topic_the_citizens_words_stand_apart_from_the_bots_notes(
    desk: Desk,
) -> None:
    c = desk.citizen
    await c.consent()
    await c.login(IVANOV)
    await c.press("button.operator")
    await c.expect("support.waiting.in_progress")
    thread = await desk.thread()
    await c.user.send_text("I lost my policy <b>yesterday</b>")

    relayed = await desk.group.wait_for(
        lambda m: "I lost my policy" in message_text(m), thread_id=thread, timeout=10, since=0
    )
    # Typed markup arrives literally, under the citizen's name.
    assert message_text(relayed) == "👤 Ivan:\nI lost my policy <b>yesterday</b>"
    entities = relayed.get("entities", [])
    assert any(e["type"] == "bold" for e in entities)  # the name line stands out
    note = await desk.group.wait_for(
        lambda m: desk.t("desk.reason.asked") in message_text(m),
        thread_id=thread,
        timeout=10,
        since=0,
    )
    assert message_text(note).startswith("🤖")
    assert any(e["type"] == "italic" for e in note.get("entities", []))


async def test_a_chosen_option_is_named_on_its_step_message(desk: Desk) -> None:
    c = desk.citizen
    await c.consent()
    await c.login(IVANOV)
    await c.press("reason.lost")
    await c.expect("restore.passport.prompt")
    messages = await c.user.messages()
    step = next(m for m in messages if c.snippet("restore.reason.prompt") in message_text(m))
    assert c.t("dialog.chosen", choice=c.t("reason.lost")) in message_text(step)
    assert not button_labels(step)  # the keyboard is gone: it cannot be answered twice
