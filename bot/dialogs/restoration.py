"""The restoration dialog declared in one place: its states and ordered steps.

Each step names the state, its number in "step N of 6", the locale key of its prompt, the
keyboard sent with it and the hint sent when the citizen sends something this step cannot take,
so showing a step again (after /lang, a correction, an operator's release) is a lookup. Handlers
in `bot/handlers/citizen/` implement the steps; keyboards live in `bot/keyboards.py`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from html import escape

from aiogram.fsm.state import State, StatesGroup
from aiogram.types import InlineKeyboardMarkup, ReplyKeyboardMarkup, ReplyKeyboardRemove

from bot import keyboards
from core.models import InsuredPerson, PickupOffice

Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | None


class Restoration(StatesGroup):
    consent = State()
    contact = State()
    confirm_profile = State()
    reason = State()
    reason_text = State()
    passport_number = State()
    passport_scan = State()
    delivery = State()
    postcode = State()
    address = State()
    office = State()
    summary = State()
    payment = State()


class ProfileForm(StatesGroup):
    email = State()
    email_code = State()  # the code emailed to the new address, typed back


class SupportChat(StatesGroup):
    """The dialog is paused: everything the citizen sends goes to the operators' topic."""

    with_operator = State()


class DeskForm(StatesGroup):
    """An operator, in a citizen's topic, typing the reason of a rejection."""

    reject_reason = State()


TOTAL_STEPS = 6


@dataclass(frozen=True, slots=True)
class StepContext:
    """What a step's prompt and keyboard may show: the confirmed person and their offices."""

    person: InsuredPerson | None
    offices: Sequence[PickupOffice] = ()


def _operator_only(_: StepContext) -> Markup:
    return keyboards.operator_only()


def _profile(context: StepContext) -> dict[str, str]:
    return {"profile": escape(context.person.masked_profile) if context.person else ""}


@dataclass(frozen=True, slots=True)
class Step:
    state: State
    number: int
    prompt: str
    hint: str
    keyboard: Callable[[StepContext], Markup] = _operator_only
    params: Callable[[StepContext], dict[str, str]] = field(default=lambda _: {})


STEPS: tuple[Step, ...] = (
    Step(
        Restoration.consent,
        1,
        "restore.consent.prompt",
        "hint.press_button",
        lambda _: keyboards.consent(),
    ),
    Step(
        Restoration.contact,
        2,
        "restore.contact.prompt",
        "hint.contact",
        lambda _: keyboards.share_contact(),
    ),
    Step(
        Restoration.confirm_profile,
        2,
        "restore.profile.prompt",
        "hint.press_button",
        lambda _: keyboards.profile_confirmation(),
        _profile,
    ),
    Step(
        Restoration.reason,
        3,
        "restore.reason.prompt",
        "hint.press_button",
        lambda _: keyboards.reasons(),
    ),
    Step(Restoration.reason_text, 3, "restore.reason_text.prompt", "hint.text"),
    Step(Restoration.passport_number, 4, "restore.passport.prompt", "hint.passport_number"),
    Step(Restoration.passport_scan, 4, "restore.scan.prompt", "hint.scan"),
    Step(
        Restoration.delivery,
        5,
        "restore.delivery.prompt",
        "hint.press_button",
        lambda _: keyboards.delivery_methods(),
    ),
    Step(Restoration.postcode, 5, "restore.postcode.prompt", "hint.postcode"),
    Step(Restoration.address, 5, "restore.address.prompt", "hint.text"),
    Step(
        Restoration.office,
        5,
        "restore.office.prompt",
        "hint.press_button",
        lambda context: keyboards.offices(context.offices),
    ),
    # The summary's text is the answers themselves (Dialog.summary builds it).
    Step(
        Restoration.summary,
        6,
        "restore.summary.prompt",
        "hint.press_button",
        lambda _: keyboards.summary(),
    ),
    Step(Restoration.payment, 6, "restore.payment.prompt", "hint.payment"),
)

STEP_BY_STATE: dict[str, Step] = {step.state.state: step for step in STEPS}  # type: ignore[misc]


def step_for(state_name: str | None) -> Step | None:
    return STEP_BY_STATE.get(state_name) if state_name else None
