"""Login refusals: each explains why, offers a human, and leaves the citizen at the login step."""

from __future__ import annotations

from bot.i18n import Texts
from sandbox.client import SandboxClient
from tests.e2e.harness import BotProcess
from tests.e2e.journey import IVANOV, PETROVA, UNKNOWN_PHONE, Citizen, button_labels, new_citizen


async def at_login(client: SandboxClient, texts: Texts) -> Citizen:
    c = await new_citizen(client, texts)
    await c.consent()
    return c


async def test_someone_elses_contact_is_refused(
    bot: BotProcess, client: SandboxClient, texts: Texts
) -> None:
    c = await at_login(client, texts)
    await c.user.share_contact(phone=PETROVA.phone, own=False, first_name="Anna")
    refusal = await c.expect("login.foreign_contact")
    assert c.t("button.operator") in button_labels(refusal)
    await c.login(IVANOV)  # the step stayed: one's own contact still logs in


async def test_forwarded_contact_card_is_refused(
    bot: BotProcess, client: SandboxClient, texts: Texts
) -> None:
    c = await at_login(client, texts)
    # A contact card of another Telegram user, forwarded from elsewhere.
    await c.user.forward_contact(IVANOV.phone, first_name="Ivan", user_id=424242)
    refusal = await c.user.wait_for(
        lambda m: any(
            c.snippet(key) in m.get("text", "")
            for key in ("login.forwarded_contact", "login.foreign_contact")
        )
    )
    assert c.t("button.operator") in button_labels(refusal)
    await c.login(IVANOV)


async def test_unknown_phone_is_explained_with_a_way_to_a_human(
    bot: BotProcess, client: SandboxClient, texts: Texts
) -> None:
    c = await at_login(client, texts)
    await c.user.share_contact(phone=UNKNOWN_PHONE, own=True)
    await c.expect("login.not_found")
    next_steps = await c.expect("login.not_found_next")
    labels = button_labels(next_steps)
    assert c.t("button.operator") in labels and c.t("button.restart") in labels
    await c.login(IVANOV)  # the step stayed


async def test_not_me_offers_an_operator_or_a_restart(
    bot: BotProcess, client: SandboxClient, texts: Texts
) -> None:
    c = await at_login(client, texts)
    await c.user.share_contact(phone=IVANOV.phone, own=True)
    await c.expect("restore.profile.prompt")
    await c.press("button.not_me")
    explanation = await c.expect("login.not_me")
    labels = button_labels(explanation)
    assert c.t("button.operator") in labels and c.t("button.restart") in labels
    await c.press("button.restart")
    await c.expect("restore.contact.prompt")
    await c.login(IVANOV)
    await c.reason()
