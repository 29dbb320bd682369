"""Step 4, the passport number: mismatches, bad formats and the forms people type."""

from __future__ import annotations

import asyncio

import pytest

from bot.i18n import Texts
from sandbox.client import SandboxClient
from tests.e2e.conftest import StartBot
from tests.e2e.harness import BotProcess
from tests.e2e.journey import IVANOV, Citizen, button_labels, new_citizen


async def at_passport(client: SandboxClient, texts: Texts) -> Citizen:
    c = await new_citizen(client, texts)
    await c.consent()
    await c.login(IVANOV)
    await c.reason()
    return c


async def test_third_passport_mismatch_offers_a_human_and_the_step_stays(
    bot: BotProcess, client: SandboxClient, texts: Texts
) -> None:
    c = await at_passport(client, texts)
    for left in (2, 1):
        await c.user.send_text("4510 000001")
        reply = await c.expect("passport.mismatch")
        assert c.t("passport.mismatch", n=left) in reply["text"]
    await c.user.send_text("4510 000001")
    final = await c.expect("passport.locked_now")
    assert c.t("button.operator") in button_labels(final)
    assert c.t("passport.locked_now", minutes=60) in final["text"]  # PASSPORT_LOCK_MINUTES


async def test_the_passport_step_locks_after_three_mismatches_and_start_does_not_reset_it(
    start_bot: StartBot, client: SandboxClient, texts: Texts
) -> None:
    await start_bot({"PASSPORT_LOCK_MINUTES": "0.05"})  # 3 seconds
    c = await at_passport(client, texts)
    for _ in range(2):
        await c.user.send_text("4510 000001")
        await c.expect("passport.mismatch")
    # Starting again does not give three fresh attempts: the third mismatch locks the step.
    await c.consent()
    await c.login(IVANOV)
    await c.reason()
    await c.user.send_text("4510 000001")
    await c.expect("passport.locked_now")
    # While locked even the right number is not checked, and an operator is offered.
    await c.user.send_text(IVANOV.passport)
    locked = await c.expect("passport.locked")
    assert c.t("button.operator") in button_labels(locked)
    await c.consent()
    await c.login(IVANOV)
    await c.reason()
    await c.user.send_text(IVANOV.passport)
    await c.expect("passport.locked")
    await asyncio.sleep(3.2)
    await c.passport(IVANOV)  # once the lock is over, the right number moves on to the scan


async def test_badly_formatted_passport_is_explained(
    bot: BotProcess, client: SandboxClient, texts: Texts
) -> None:
    c = await at_passport(client, texts)
    for typed in ("45 08", "450 8123456", "паспорт"):
        await c.user.send_text(typed)
        await c.expect("invalid.passport_format")
    await c.passport(IVANOV)


@pytest.mark.parametrize("typed", ["4508123456", "4508 № 123456"])
async def test_common_passport_forms_are_accepted(
    typed: str, bot: BotProcess, client: SandboxClient, texts: Texts
) -> None:
    c = await at_passport(client, texts)
    await c.user.send_text(typed)
    await c.expect("restore.scan.prompt")
