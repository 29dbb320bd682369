"""The optional fee for a paper extra: an invoice, paying, cancelling, and the settings guard."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from bot.i18n import Texts
from sandbox.client import SandboxClient
from sandbox.emulator import Emulator
from tests.e2e.conftest import StartBot
from tests.e2e.harness import BotProcess, base_environment, run_until_exit
from tests.e2e.journey import IVANOV, PETROVA, Citizen, new_citizen

FEE = {"PAPER_FEE_RUB": "150", "PAYMENT_PROVIDER_TOKEN": "284685063:TEST:abc"}


def prices(call: Any) -> list[dict[str, Any]]:
    value = call.params["prices"]
    return json.loads(value) if isinstance(value, str) else list(value)


async def invoice_after_submit(c: Citizen) -> dict[str, Any]:
    await c.press("button.submit")
    return await c.user.wait_for(lambda m: "invoice" in m)


async def test_paper_by_post_with_a_fee_is_paid_then_processed(
    start_bot: StartBot, client: SandboxClient, texts: Texts, emulator: Emulator
) -> None:
    bot = await start_bot(FEE)
    c = await new_citizen(client, texts)
    await c.to_delivery(PETROVA)
    await c.choose_post()
    invoice = await invoice_after_submit(c)
    [call] = emulator.calls("sendInvoice")
    assert call.params["currency"] == "RUB"
    assert sum(p["amount"] for p in prices(call)) == 15000
    assert invoice["invoice"]["total_amount"] == 15000
    assert bot.query("SELECT id FROM applications") == []  # nothing submitted before paying

    paid = await c.user.pay()
    assert paid["ok"], paid
    await c.expect("payment.received")
    await c.expect("summary.submitted")
    await c.wait_status("sent_by_post")
    [row] = bot.query("SELECT status, fee_paid_kopecks FROM applications")
    assert (row["status"], row["fee_paid_kopecks"]) == ("sent_by_post", 15000)


async def test_cancelled_payment_submits_nothing_and_a_later_payment_works(
    start_bot: StartBot, client: SandboxClient, texts: Texts, emulator: Emulator
) -> None:
    bot = await start_bot(FEE)
    c = await new_citizen(client, texts)
    await c.to_delivery(IVANOV)
    await c.choose_post()
    await invoice_after_submit(c)
    await c.press("button.cancel_payment")
    await c.expect("payment.cancelled")
    await c.expect("summary.title")  # the summary again, to correct or submit
    await c.user.send_command("/status")
    await c.expect("status.none")
    assert bot.query("SELECT id FROM applications") == []

    await invoice_after_submit(c)
    assert len(emulator.calls("sendInvoice")) == 2
    paid = await c.user.pay()
    assert paid["ok"], paid
    await c.expect("summary.submitted")
    await c.wait_status("sent_by_post")
    assert len(bot.query("SELECT id FROM applications")) == 1


async def test_electronic_policy_is_never_charged(
    start_bot: StartBot, client: SandboxClient, texts: Texts, emulator: Emulator
) -> None:
    await start_bot(FEE)
    c = await new_citizen(client, texts)
    await c.to_delivery(IVANOV)
    await c.choose_electronic()
    await c.submit()
    await c.wait_status("ready")
    assert emulator.calls("sendInvoice") == []


async def test_an_unpaid_invoice_step_hints_at_paying_or_cancelling(
    start_bot: StartBot, client: SandboxClient, texts: Texts
) -> None:
    await start_bot(FEE)
    c = await new_citizen(client, texts)
    await c.to_delivery(IVANOV)
    await c.choose_post()
    await invoice_after_submit(c)
    await c.user.send_text("done")
    await c.expect_hint("hint.payment", 6)
    await c.user.send_sticker()
    await c.expect_hint("hint.payment", 6)
    paid = await c.user.pay()
    assert paid["ok"], paid
    await c.expect("summary.submitted")


async def test_a_fee_without_a_payment_provider_stops_start_up(
    emulator: Emulator, tmp_path: Path
) -> None:
    env = base_environment(emulator.api_base, tmp_path / "data")
    env["PAPER_FEE_RUB"] = "150"
    result = await run_until_exit(env)
    assert result.code != 0
    assert len(result.lines) == 1, result.output
    assert "PAYMENT_PROVIDER_TOKEN" in result.lines[0]
    assert "Traceback" not in result.output


async def test_paying_a_stale_invoice_is_refused(
    start_bot: StartBot, client: SandboxClient, texts: Texts
) -> None:
    bot: BotProcess = await start_bot(FEE)
    c = await new_citizen(client, texts)
    await c.to_delivery(IVANOV)
    await c.choose_post()
    first = await invoice_after_submit(c)
    await c.press("button.cancel_payment")
    await c.expect("summary.title")
    # The cancelled invoice is still in the chat; paying it must not submit anything.
    refused = await c.user.pay(first["message_id"])
    assert not refused["ok"]
    assert refused["error_message"] == c.t("payment.stale")
    assert refused.get("message") is None  # no successful_payment was sent
    assert bot.query("SELECT id FROM applications") == []


async def test_double_tap_on_submit_with_a_fee_sends_one_invoice_and_submits_nothing(
    start_bot: StartBot, client: SandboxClient, texts: Texts, emulator: Emulator
) -> None:
    bot = await start_bot(FEE)
    c = await new_citizen(client, texts)
    await c.to_delivery(IVANOV)
    await c.choose_post()
    label = c.t("button.submit")
    # Two taps before the bot could remove the button: both reach the bot.
    taps = await asyncio.gather(c.user.press(label), c.user.press(label))
    assert all(tap["answered"] for tap in taps)
    await c.user.wait_for(lambda m: "invoice" in m)
    await c.user.send_command("/status")
    await c.expect("status.none")
    assert len(emulator.calls("sendInvoice")) == 1
    assert bot.query("SELECT id FROM applications") == []  # not without paying
    paid = await c.user.pay()
    assert paid["ok"], paid
    await c.expect("summary.submitted")
    [row] = bot.query("SELECT fee_paid_kopecks FROM applications")
    assert row["fee_paid_kopecks"] == 15000


async def test_cancel_while_the_invoice_waits_submits_nothing_and_keeps_no_scan(
    start_bot: StartBot, client: SandboxClient, texts: Texts
) -> None:
    bot = await start_bot(FEE)
    c = await new_citizen(client, texts)
    await c.to_delivery(IVANOV)
    await c.choose_post()
    invoice = await invoice_after_submit(c)
    await c.user.send_command("/cancel")
    await c.expect("cancel.done")
    refused = await c.user.pay(invoice["message_id"])
    assert not refused["ok"]
    assert bot.query("SELECT id FROM applications") == []
    assert bot.stored_files() == []
