"""Email end to end: a real SMTP server on 127.0.0.1 (aiosmtpd, sandbox/mailbox.py) receives what
the unmodified bot sends: the confirmation code, then every status change, the PDF attached."""

from __future__ import annotations

import io
import re
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from pypdf import PdfReader

from bot.i18n import Texts
from sandbox.client import SandboxClient, message_text
from sandbox.mailbox import Mailbox
from tests.e2e.clock import CLOCK_ENV, advance
from tests.e2e.conftest import StartBot
from tests.e2e.harness import BotProcess
from tests.e2e.journey import IVANOV, Citizen, button_labels, new_citizen

ADDRESS = "ivan@example.ru"


@pytest.fixture
async def mailbox() -> AsyncIterator[Mailbox]:
    box = Mailbox()
    await box.start()
    yield box
    await box.stop()


async def mailing_bot(start_bot: StartBot, mailbox: Mailbox) -> BotProcess:
    return await start_bot(
        {
            **CLOCK_ENV,
            "SMTP_URL": mailbox.url,
            "SMTP_FROM": "OMS bot <noreply@oms.example>",
            "SMTP_TIMEOUT_SECONDS": "5",
        }
    )


async def confirm_email(c: Citizen, mailbox: Mailbox) -> None:
    await c.user.send_command("/profile")
    await c.expect("profile.text")
    await c.press("button.set_email")
    await c.expect("profile.ask_email")
    await c.user.send_text("ivan at example")
    await c.expect("invalid.email_format")
    await c.user.send_text(ADDRESS)
    await c.expect("email.code_sent")
    mail = await mailbox.wait_for(lambda m: ADDRESS in m.to)
    assert mail.subject == c.t("email.code.subject")
    code = re.search(r"\b(\d{6})\b", mail.text)
    assert code is not None, mail.text
    await c.user.send_text("000000" if code.group(1) != "000000" else "111111")
    await c.expect("email.wrong_code")
    await c.user.send_text(code.group(1))
    await c.expect("email.confirmed")


async def test_a_confirmed_address_gets_every_status_change_and_the_policy_pdf(
    start_bot: StartBot, client: SandboxClient, texts: Texts, mailbox: Mailbox
) -> None:
    await mailing_bot(start_bot, mailbox)
    c = await new_citizen(client, texts)
    await c.consent()
    await c.login(IVANOV)  # at the reason step
    await confirm_email(c, mailbox)
    await c.expect("restore.reason.prompt")  # back where the citizen was
    await c.reason()
    await c.passport(IVANOV)
    await c.scan()
    await c.choose_electronic()
    number = await c.submit()
    await c.wait_status("ready")

    ready_subject = c.t("email.status.subject", number=number, status=c.t("status.name.ready"))
    ready = await mailbox.wait_for(lambda m: m.subject == ready_subject)
    assert ready.to == [ADDRESS]
    assert c.t("next.done") in ready.text
    [pdf] = ready.attachments
    assert pdf.content_type == "application/pdf"
    pages = PdfReader(io.BytesIO(pdf.data)).pages
    assert IVANOV.enp in "".join(page.extract_text() for page in pages)
    subjects = [m.subject for m in mailbox.messages]
    for status in ("processing", "approved", "ready"):
        name = c.t(f"status.name.{status}")
        assert c.t("email.status.subject", number=number, status=name) in subjects

    await c.user.send_command("/profile")
    profile = await c.expect("profile.text")
    assert ADDRESS in message_text(profile)
    assert c.t("email.button.remove") in button_labels(profile)


async def test_a_failing_mail_server_is_retried_and_never_holds_up_telegram(
    start_bot: StartBot, client: SandboxClient, texts: Texts, mailbox: Mailbox
) -> None:
    await mailing_bot(start_bot, mailbox)
    c = await new_citizen(client, texts)
    await c.consent()
    await c.login(IVANOV)
    await confirm_email(c, mailbox)
    await c.reason()
    await c.passport(IVANOV)
    await c.scan()
    await c.choose_electronic()

    mailbox.fail_next(1000)  # the mail server is down for the whole journey
    number = await c.submit()
    ready = await c.wait_status("ready")  # every Telegram push arrives regardless
    assert "document" in ready  # the policy itself, its caption the push
    assert mailbox.refused >= 1
    delivered_before = len(mailbox.messages)

    mailbox.fail_next(0)  # back up: the outbox retries each email (backoff on the bot's clock)
    await advance(client, timedelta(minutes=10))
    ready_subject = c.t("email.status.subject", number=number, status=c.t("status.name.ready"))
    await mailbox.wait_for(lambda m: m.subject == ready_subject, timeout=20)
    assert len(mailbox.messages) - delivered_before == 3  # processing, approved, ready: once each
