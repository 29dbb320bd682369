"""Step 4, the passport number: mismatches, bad formats and the forms people type."""

from __future__ import annotations

import pytest

from bot.i18n import Texts
from sandbox.client import SandboxClient
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
    final = await c.expect("passport.mismatch_final")
    assert c.t("button.operator") in button_labels(final)
    await c.passport(IVANOV)  # the right number still moves on to the scan


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
