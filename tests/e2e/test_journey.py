"""The citizen journey end to end: the unmodified bot, over HTTP, against the emulator."""

from __future__ import annotations

import asyncio
import io

import pytest
from pypdf import PdfReader

from bot.i18n import Texts
from sandbox.client import SandboxClient, message_text
from sandbox.emulator import Emulator
from tests.e2e.conftest import StartBot
from tests.e2e.harness import BotProcess
from tests.e2e.journey import IVANOV, KOZLOV, PETROVA, Citizen


@pytest.fixture(params=["polling", "webhook"])
async def bot(request: pytest.FixtureRequest, start_bot: StartBot) -> BotProcess:
    """Every journey twice: updates by long polling, and posted to the bot by webhook."""
    return await start_bot(webhook=request.param == "webhook")


async def citizen(
    client: SandboxClient, texts: Texts, user_id: int = 7001, lang: str = "ru"
) -> Citizen:
    user = await client.user(user_id=user_id, first_name="Ivan", language_code=lang)
    return Citizen(user, texts, locale=lang)


async def test_electronic_policy_arrives_as_pdf(
    bot: BotProcess, client: SandboxClient, texts: Texts, emulator: Emulator
) -> None:
    c = await citizen(client, texts)
    await c.to_delivery(IVANOV)
    await c.choose_electronic()
    number = await c.submit()
    for status in ("processing", "approved"):
        await c.wait_status(status)
    # READY is told by the policy itself: one message, its caption the status push.
    document = await c.wait_status("ready")
    assert document["document"]["file_name"] == f"polis-oms-{IVANOV.enp[-4:]}.pdf"
    assert c.t("status.explain.ready") in document["caption"]
    messages = await c.user.messages()
    assert sum(c.t("status.name.ready") in message_text(m) for m in messages) == 1
    pdf = PdfReader(io.BytesIO(await c.user.download(document["document"]["file_id"])))
    text = pdf.pages[0].extract_text()
    assert len(pdf.pages) == 1
    assert IVANOV.surname in text
    assert IVANOV.enp in text.replace(" ", "")
    assert number in text


async def test_the_receipt_is_written_under_the_summary_in_place_of_its_buttons(
    bot: BotProcess, client: SandboxClient, texts: Texts
) -> None:
    c = await citizen(client, texts)
    await c.to_delivery(IVANOV)
    await c.choose_electronic()
    before = len(await c.user.messages())
    number = await c.submit()
    messages = await c.user.messages()
    receipt = c.t("summary.submitted", number=number).splitlines()[0]
    [summary] = [m for m in messages if receipt in message_text(m)]
    assert c.snippet("summary.title") in message_text(summary)
    assert "reply_markup" not in summary  # no button to tap twice
    assert len(messages[:before]) == before and summary in messages[:before]  # no new message


async def test_paper_by_post_ends_sent_by_post(
    bot: BotProcess, client: SandboxClient, texts: Texts
) -> None:
    c = await citizen(client, texts)
    await c.to_delivery(PETROVA)
    await c.choose_post(postcode="101000", address="Moscow, Tverskaya st. 1, flat 5")
    await c.submit()
    for status in ("processing", "approved", "sent_by_post"):
        await c.wait_status(status)
    final = await c.wait_status("sent_by_post")
    assert "101000" in message_text(final)


async def test_paper_pickup_ends_ready_for_pickup(
    bot: BotProcess, client: SandboxClient, texts: Texts
) -> None:
    c = await citizen(client, texts)
    await c.to_delivery(IVANOV)
    await c.choose_pickup()
    await c.submit()
    final = await c.wait_status("ready_for_pickup")
    assert "ДЕМО" in message_text(final)  # the chosen office and its hours


async def test_region_without_office_offers_post_or_electronic(
    bot: BotProcess, client: SandboxClient, texts: Texts
) -> None:
    c = await citizen(client, texts)
    await c.to_delivery(KOZLOV)
    await c.press("delivery.pickup")
    message = await c.expect("delivery.no_office")
    labels = [b["text"] for row in message["reply_markup"]["inline_keyboard"] for b in row]
    assert c.t("delivery.electronic") in labels and c.t("delivery.post") in labels
    assert c.t("delivery.pickup") not in labels
    await c.choose_electronic()


async def test_english_dialog(bot: BotProcess, client: SandboxClient, texts: Texts) -> None:
    c = await citizen(client, texts, lang="en")
    await c.to_delivery(IVANOV)
    await c.choose_electronic()
    await c.submit()
    await c.wait_status("ready")


async def test_lang_command_switches_language_mid_dialog(
    bot: BotProcess, client: SandboxClient, texts: Texts
) -> None:
    c = await citizen(client, texts)
    await c.consent()
    await c.user.send_command("/lang")
    await c.expect("lang.choose")
    await c.user.press(texts.t("lang.name", locale="en"))
    c.locale = "en"
    await c.expect("restore.contact.prompt")  # the step is shown again, in English
    await c.login(IVANOV)


async def test_correcting_an_answer_returns_to_the_summary(
    bot: BotProcess, client: SandboxClient, texts: Texts
) -> None:
    c = await citizen(client, texts)
    await c.to_delivery(IVANOV)
    await c.choose_electronic()
    await c.press("button.edit_reason")
    await c.expect("restore.reason.prompt")
    await c.press("reason.stolen")
    summary = await c.expect("summary.title")
    assert c.t("reason.stolen") in message_text(summary)
    await c.press("button.edit_delivery")
    await c.expect("restore.delivery.prompt")
    await c.choose_post()
    await c.submit()


async def test_double_submit_creates_one_application(
    bot: BotProcess, client: SandboxClient, texts: Texts, emulator: Emulator
) -> None:
    c = await citizen(client, texts)
    await c.to_delivery(IVANOV)
    await c.choose_electronic()
    label = c.t("button.submit")
    # Two taps before the bot could remove the button: both reach the bot.
    taps = await asyncio.gather(c.user.press(label), c.user.press(label))
    assert all(tap["answered"] for tap in taps)
    await c.expect("summary.submitted")
    await c.wait_status("ready")
    await c.user.send_command("/status")
    status = await c.expect("status.application")
    assert message_text(status).count(c.snippet("status.application")) == 1
    accepted = [
        m for m in await c.user.messages() if c.t("status.name.submitted") in message_text(m)
    ]
    assert len(accepted) == 1  # one line of /status for one application (the reply said it)
