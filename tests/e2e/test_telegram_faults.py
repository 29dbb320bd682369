"""Faults from Telegram (README, "Reliability"): 5xx answers, 429 with retry_after, dropped
connections and timeouts on getUpdates, sendMessage, sendDocument, copyMessage and
createForumTopic. The bot recovers, and the citizen gets every status push and the policy PDF
exactly once; a relay arrives once; the citizen has one forum topic, also when Telegram made a
topic and its answer was lost."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from bot.i18n import Texts
from sandbox.client import GroupHandle, MemberHandle, SandboxClient, message_text
from sandbox.emulator import Emulator
from tests.e2e.conftest import StartBot
from tests.e2e.harness import BotProcess
from tests.e2e.journey import IVANOV, Citizen, new_citizen
from tests.fixtures_scans import make_jpeg

SUPPORT_CHAT = -1001234567890
OPERATOR = 2201
# Short, so a call Telegram leaves unanswered times out within the test.
CALL_TIMEOUT = 2
PUSHED = ("processing", "approved", "ready")  # the statuses pushed after "submitted"

Inject = Callable[[SandboxClient, str], Awaitable[None]]

FAULTS: dict[str, Inject] = {
    "5xx": lambda client, method: client.fail_next(method, status=502, times=2),
    "429": lambda client, method: client.fail_next(method, status=429, retry_after=1),
    "dropped": lambda client, method: client.drop_next(method, times=2),
    # No answer for longer than the bot waits (getUpdates: its long poll's 10 s on top).
    "timeout": lambda client, method: client.timeout_next(
        method, CALL_TIMEOUT + (11 if method == "getUpdates" else 1)
    ),
}
METHODS = ("getUpdates", "sendMessage", "sendDocument", "copyMessage", "createForumTopic")


class Scene:
    def __init__(
        self,
        bot: BotProcess,
        emulator: Emulator,
        client: SandboxClient,
        citizen: Citizen,
        support: GroupHandle,
        operator: MemberHandle,
    ) -> None:
        self.bot = bot
        self.emulator = emulator
        self.client = client
        self.citizen = citizen
        self.support = support
        self.operator = operator

    async def outbox_settled(self, timeout: float = 20) -> None:
        """Every outbox row sent (none failed for good, none waiting)."""
        for _ in range(int(timeout / 0.1)):
            rows = self.bot.query(
                "SELECT count(*) AS n FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL"
            )
            if rows[0]["n"] == 0:
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError("the outbox did not drain")
        assert self.bot.query("SELECT id, error FROM outbox WHERE failed_at IS NOT NULL") == []

    async def topic_thread(self) -> int:
        for _ in range(200):
            rows = self.bot.query(
                "SELECT thread_id, card_message_id FROM conversations WHERE user_id = ?",
                self.citizen.user.user_id,
            )
            if rows and rows[0]["card_message_id"]:
                return int(rows[0]["thread_id"])
            await asyncio.sleep(0.05)
        raise AssertionError("no topic with a card")

    async def fault_hit(self, method: str) -> None:
        """The injected fault met the bot's calls (else the test proves nothing). A call that
        timed out is recorded when the emulator gives up on it, after the bot did."""
        assert self.emulator.faults.pending() == {}
        for _ in range(100):
            if any(call.fault or call.error_code for call in self.emulator.calls(method)):
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"no faulty {method} call recorded")


@pytest.fixture
async def scene(
    start_bot: StartBot, emulator: Emulator, client: SandboxClient, texts: Texts
) -> Scene:
    support = await client.forum_group(chat_id=SUPPORT_CHAT, title="Support")
    operator = await support.member(OPERATOR, "Anna", admin=True)
    bot = await start_bot(
        {
            "SUPPORT_CHAT_ID": str(SUPPORT_CHAT),
            "OPERATOR_IDS": str(OPERATOR),
            "TELEGRAM_TIMEOUT_SECONDS": str(CALL_TIMEOUT),
        }
    )
    citizen = await new_citizen(client, texts, user_id=7501)
    return Scene(bot, emulator, client, citizen, support, operator)


def count(messages: list[dict[str, Any]], pattern: re.Pattern[str]) -> int:
    return sum(bool(pattern.search(message_text(m))) for m in messages)


async def every_push_and_the_pdf_once(c: Citizen, scene: Scene, number: str) -> None:
    await c.wait_status("ready", timeout=30)
    await c.user.wait_for(lambda m: "document" in m, timeout=30, since=0)
    await scene.outbox_settled()
    messages = await c.user.messages()
    pushes = {
        status: count(messages, re.compile(rf": {re.escape(c.t(f'status.name.{status}'))}(\n|$)"))
        for status in PUSHED
    }
    assert pushes == dict.fromkeys(PUSHED, 1)
    order = [
        status
        for m in messages
        for status in PUSHED
        if re.search(rf": {re.escape(c.t(f'status.name.{status}'))}(\n|$)", message_text(m))
    ]
    assert order == list(PUSHED)  # in the order the statuses changed
    assert sum("document" in m for m in messages) == 1
    accepted = c.t("summary.submitted", number=number).splitlines()[0]
    assert sum(accepted in message_text(m) for m in messages) == 1  # under the summary


async def submit_electronic(c: Citizen) -> str:
    await c.to_delivery(IVANOV)
    await c.choose_electronic()
    return await c.submit()


async def asks_for_an_operator(scene: Scene) -> int:
    c = scene.citizen
    await c.consent()
    await c.login(IVANOV)
    await c.press("button.operator")
    await c.expect("support.waiting.in_progress")
    return await scene.topic_thread()


async def one_topic_with_its_card(scene: Scene, thread: int) -> None:
    topics = await scene.support.topics()
    assert [t["message_thread_id"] for t in topics] == [thread]
    cards = [m for m in await scene.support.messages(thread) if "reply_markup" in m]
    assert len(cards) == 1


# --- one scenario per method -------------------------------------------------------------------


async def faulty_polling(scene: Scene, inject: Inject) -> None:
    await inject(scene.client, "getUpdates")
    c = scene.citizen
    number = await submit_electronic(c)  # each step waits for an update to come through
    await every_push_and_the_pdf_once(c, scene, number)


async def faulty_status_pushes(scene: Scene, inject: Inject) -> None:
    c = scene.citizen
    number = await submit_electronic(c)
    await inject(scene.client, "sendMessage")  # the next ones are the pushes
    await every_push_and_the_pdf_once(c, scene, number)


async def faulty_policy_pdf(scene: Scene, inject: Inject) -> None:
    c = scene.citizen
    await inject(scene.client, "sendDocument")
    number = await submit_electronic(c)
    await every_push_and_the_pdf_once(c, scene, number)


async def faulty_relays(scene: Scene, inject: Inject) -> None:
    c = scene.citizen
    thread = await asks_for_an_operator(scene)
    await inject(scene.client, "copyMessage")
    # A photo is copied into the topic (a text is sent anew under the citizen's name).
    await c.user.send_photo(make_jpeg(800, 600), caption="Where is my policy?")
    await scene.support.wait_for(
        lambda m: "Where is my policy?" in message_text(m), thread_id=thread, timeout=20
    )
    await inject(scene.client, "copyMessage")
    await scene.operator.send_text("Checking it now", thread_id=thread)
    await c.user.wait_text("Checking it now", timeout=20, since=0)
    await c.user.send_command("/help")  # a barrier: everything before it was handled
    await c.expect("help.text")
    await scene.outbox_settled()
    in_topic = [message_text(m) for m in await scene.support.messages(thread)]
    assert sum("Where is my policy?" in text for text in in_topic) == 1
    citizen_sees = [message_text(m) for m in await c.user.messages()]
    assert citizen_sees.count("Checking it now") == 1


async def faulty_topic_creation(scene: Scene, inject: Inject) -> None:
    await inject(scene.client, "createForumTopic")
    thread = await asks_for_an_operator(scene)
    await one_topic_with_its_card(scene, thread)


SCENARIOS: dict[str, Callable[[Scene, Inject], Awaitable[None]]] = {
    "getUpdates": faulty_polling,
    "sendMessage": faulty_status_pushes,
    "sendDocument": faulty_policy_pdf,
    "copyMessage": faulty_relays,
    "createForumTopic": faulty_topic_creation,
}


@pytest.mark.parametrize("fault", list(FAULTS))
@pytest.mark.parametrize("method", METHODS)
async def test_the_bot_recovers_and_nothing_is_lost_or_doubled(
    scene: Scene, method: str, fault: str
) -> None:
    await SCENARIOS[method](scene, FAULTS[fault])
    await scene.fault_hit(method)


async def test_a_topic_made_when_its_answer_was_lost_is_the_only_one(scene: Scene) -> None:
    """createForumTopic done by Telegram, the answer lost: the bot must not end up with a
    second topic for the citizen (a blind resend made one)."""
    await scene.client.lose_answer_next("createForumTopic")
    thread = await asks_for_an_operator(scene)
    await one_topic_with_its_card(scene, thread)
    made = [call for call in scene.emulator.calls("createForumTopic") if call.ok]
    assert [call.fault for call in made] == ["lose_answer", None]
    # The topic whose answer was lost is the one kept; the one made again is gone.
    assert thread == made[0].result["message_thread_id"]
    deleted = [t for t in await scene.support.topics(include_deleted=True) if t["is_deleted"]]
    assert [t["message_thread_id"] for t in deleted] == [made[1].result["message_thread_id"]]
    # The desk works in it: the citizen's message arrives there.
    await scene.citizen.user.send_text("Hello?")
    await scene.support.wait_text("Hello?", thread_id=thread)


async def test_an_outage_longer_than_the_retries_waits_in_the_outbox(scene: Scene) -> None:
    """Six 502s in a row outlast Delivery's five attempts: the push waits in the outbox and
    arrives once, later."""
    c = scene.citizen
    number = await submit_electronic(c)
    await scene.client.fail_next("sendMessage", status=502, times=6)
    await every_push_and_the_pdf_once(c, scene, number)
    rows = scene.bot.query("SELECT attempts, error FROM outbox ORDER BY attempts")
    # One push took two tries (the five attempts of its first one failed); the rest one each.
    attempts = [row["attempts"] for row in rows]  # (other rows, e.g. the digest, take one each)
    assert attempts.count(2) == 1 and set(attempts) == {1, 2}
    assert "DeliveryFailed" in rows[-1]["error"]
