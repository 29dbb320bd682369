"""Whatever a step cannot take gets the step's hint with "Step N of 6", and the step stays:
each test then completes the step normally."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from bot.dialogs.restoration import STEP_BY_STATE, Restoration
from bot.i18n import Texts
from sandbox.client import SandboxClient
from tests.e2e.harness import BotProcess
from tests.e2e.journey import IVANOV, Citizen, new_citizen
from tests.fixtures_scans import make_jpeg

Send = Callable[[Citizen], Awaitable[Any]]


def sticker(c: Citizen) -> Awaitable[Any]:
    return c.user.send_sticker()


def voice(c: Citizen) -> Awaitable[Any]:
    return c.user.send_voice(duration=3)


def location(c: Citizen) -> Awaitable[Any]:
    return c.user.send_location(55.7558, 37.6173)


def text(c: Citizen) -> Awaitable[Any]:
    return c.user.send_text("hello")


def photo(c: Citizen) -> Awaitable[Any]:
    return c.user.send_photo(make_jpeg(640, 480))


async def hinted(c: Citizen, state: Any, *inputs: Send) -> None:
    """Each input is answered by the hint of the step `state`, under its number."""
    step = STEP_BY_STATE[state.state]
    for send in inputs:
        await send(c)
        await c.expect_hint(step.hint, step.number)


async def test_login_steps_hint_and_stay(
    bot: BotProcess, client: SandboxClient, texts: Texts
) -> None:
    c = await new_citizen(client, texts)
    await c.user.send_command("/start")
    await c.expect("restore.consent.prompt")
    await hinted(c, Restoration.consent, text, sticker, voice)
    await c.press("button.consent_accept")
    await c.expect("restore.contact.prompt")

    await hinted(c, Restoration.contact, text, location, voice, photo)
    await c.user.share_contact(phone=IVANOV.phone, own=True)
    await c.expect("restore.profile.prompt")

    await hinted(c, Restoration.confirm_profile, text, sticker, photo)
    await c.press("button.its_me")
    await c.expect("restore.reason.prompt")


async def test_reason_and_passport_steps_hint_and_stay(
    bot: BotProcess, client: SandboxClient, texts: Texts
) -> None:
    c = await new_citizen(client, texts)
    await c.consent()
    await c.login(IVANOV)

    await hinted(c, Restoration.reason, text, sticker, location)
    await c.press("reason.other")
    await c.expect("restore.reason_text.prompt")

    await hinted(c, Restoration.reason_text, photo, sticker, voice, location)
    await c.user.send_text("Left it on a train")
    await c.expect("restore.passport.prompt")

    await hinted(c, Restoration.passport_number, photo, sticker, voice, location)
    await c.passport(IVANOV)

    await hinted(c, Restoration.passport_scan, text, sticker, voice, location)
    await c.scan()


async def test_delivery_and_summary_steps_hint_and_stay(
    bot: BotProcess, client: SandboxClient, texts: Texts
) -> None:
    c = await new_citizen(client, texts)
    await c.to_delivery(IVANOV)

    await hinted(c, Restoration.delivery, text, sticker, photo)
    await c.press("delivery.post")
    await c.expect("restore.postcode.prompt")

    await hinted(c, Restoration.postcode, photo, sticker, location)
    await c.user.send_text("101000")
    await c.expect("restore.address.prompt")

    await hinted(c, Restoration.address, photo, sticker, voice)
    await c.user.send_text("Moscow, Tverskaya 1, 5")
    await c.expect("summary.title")

    await hinted(c, Restoration.summary, text, sticker, photo)
    await c.press("button.edit_delivery")
    await c.expect("restore.delivery.prompt")
    await c.press("delivery.pickup")
    prompt = await c.expect("restore.office.prompt")

    await hinted(c, Restoration.office, text, sticker)
    office = prompt["reply_markup"]["inline_keyboard"][0][0]["text"]
    await c.press_label(office)
    await c.expect("summary.title")
    await c.submit()
