"""Moving between the dialog's steps: send a step's prompt and remember where the citizen is."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from aiogram import Bot
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardMarkup,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)

from bot import keyboards
from bot.dialogs.answers import Answers, save_answers
from bot.dialogs.restoration import TOTAL_STEPS, Restoration, step_for
from bot.i18n import t
from core.models import DeliveryMethod, InsuredPerson, PickupOffice
from core.ports import FileVault, PickupOffices, RegisterLookup
from core.restoration import RestorationService

Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | None


@dataclass(frozen=True, slots=True)
class CitizenChat:
    """The citizen's private chat when there is no incoming message to answer, e.g. when an
    operator hands the citizen back to the dialog. Answers like a Message does."""

    bot: Bot
    chat_id: int

    async def answer(self, text: str, reply_markup: Markup = None) -> Message:
        return await self.bot.send_message(self.chat_id, text, reply_markup=reply_markup)


Replyable = Message | CitizenChat


def callback_message(query: CallbackQuery) -> Message:
    """The message a button was pressed on; inaccessible (very old) ones cannot be answered."""
    if not isinstance(query.message, Message):
        raise MessageTooOld
    return query.message


async def pressed(query: CallbackQuery) -> Message:
    """Acknowledge a pressed button and take the keyboard off its message, so an answered step
    cannot be answered twice; returns that message to reply to."""
    await query.answer()
    message = callback_message(query)
    await message.edit_reply_markup(reply_markup=None)
    return message


class MessageTooOld(Exception):
    """A button on a message older than 48 hours: Telegram no longer shows it to the bot."""


def with_step(state: State, body: str) -> str:
    step = step_for(state.state)
    if step is None:
        return body
    return f"{t('restore.step', number=step.number, total=TOTAL_STEPS)}\n\n{body}"


def summary_text(
    answers: Answers, person: InsuredPerson | None, office: PickupOffice | None
) -> str:
    lines = [t("summary.title")]
    if person is not None:
        lines.append(t("summary.person", profile=escape(person.masked_profile)))
    if answers.reason is not None:
        reason = t(f"reason.{answers.reason.value}")
        if answers.reason_text:
            reason = f"{reason}: {escape(answers.reason_text)}"
        lines.append(t("summary.reason", reason=reason))
    if answers.passport is not None:
        lines.append(t("summary.passport", passport=escape(str(answers.passport))))
    if answers.scan is not None:
        lines.append(t("summary.scan"))
    if answers.delivery is not None:
        lines.append(t("summary.delivery", delivery=t(f"delivery.{answers.delivery.value}")))
        if answers.delivery is DeliveryMethod.POST:
            lines.append(
                t(
                    "summary.address",
                    postcode=escape(answers.postcode or ""),
                    address=escape(answers.address or ""),
                )
            )
        elif answers.delivery is DeliveryMethod.PICKUP and office is not None:
            lines.append(
                t("summary.office", name=escape(office.name), address=escape(office.address))
            )
    return "\n".join(lines)


async def ask(
    message: Replyable,
    state: FSMContext,
    answers: Answers,
    target: State,
    *,
    text: str | None = None,
    markup: Markup = None,
) -> None:
    """Enter `target`, persist the answers, and send its prompt with the step counter."""
    await state.set_state(target)
    await save_answers(state, answers)
    step = step_for(target.state)
    body = text if text is not None else t(step.prompt if step else "hint.generic")
    await message.answer(with_step(target, body), reply_markup=markup)


async def ask_next_or_summary(
    message: Replyable,
    state: FSMContext,
    answers: Answers,
    target: State,
    *,
    register: RegisterLookup,
    office_lookup: PickupOffices,
    markup: Markup = None,
) -> None:
    """After a group of answers: the next step, or back to the summary when correcting."""
    if answers.editing:
        await show_summary(message, state, answers, register=register, office_lookup=office_lookup)
    else:
        await ask(message, state, answers, target, markup=markup)


async def show_summary(
    message: Replyable,
    state: FSMContext,
    answers: Answers,
    *,
    register: RegisterLookup,
    office_lookup: PickupOffices,
) -> None:
    answers.editing = False
    person = register.by_enp(answers.enp) if answers.enp else None
    office = office_lookup.get(answers.office_id) if answers.office_id else None
    await ask(
        message,
        state,
        answers,
        Restoration.summary,
        text=summary_text(answers, person, office),
        markup=keyboards.summary(),
    )


async def resend_step(
    message: Replyable,
    state: FSMContext,
    answers: Answers,
    *,
    register: RegisterLookup,
    office_lookup: PickupOffices,
) -> None:
    """Show the current step again (after /lang, or when returning from a side trip)."""
    current = await state.get_state()
    person = register.by_enp(answers.enp) if answers.enp else None
    match current:
        case None:
            return
        case Restoration.summary.state | Restoration.payment.state:
            await show_summary(
                message, state, answers, register=register, office_lookup=office_lookup
            )
        case Restoration.consent.state:
            await ask(message, state, answers, Restoration.consent, markup=keyboards.consent())
        case Restoration.contact.state:
            await ask(
                message, state, answers, Restoration.contact, markup=keyboards.share_contact()
            )
        case Restoration.confirm_profile.state if person is not None:
            await ask(
                message,
                state,
                answers,
                Restoration.confirm_profile,
                text=t("restore.profile.prompt", profile=escape(person.masked_profile)),
                markup=keyboards.profile_confirmation(),
            )
        case Restoration.reason.state:
            await ask(message, state, answers, Restoration.reason, markup=keyboards.reasons())
        case Restoration.delivery.state:
            await ask(
                message, state, answers, Restoration.delivery, markup=keyboards.delivery_methods()
            )
        case Restoration.office.state if person is not None:
            found = office_lookup.for_region(person.region)
            await ask(message, state, answers, Restoration.office, markup=keyboards.offices(found))
        case _:
            target = STATES_BY_NAME.get(current)
            if target is not None:
                await ask(message, state, answers, target, markup=keyboards.operator_only())


STATES_BY_NAME: dict[str, State] = {s.state: s for s in Restoration.__states__}  # type: ignore[misc]


async def resume(
    message: Replyable,
    state: FSMContext,
    answers: Answers,
    *,
    register: RegisterLookup,
    office_lookup: PickupOffices,
) -> None:
    """Return from a side trip to the step the citizen left, and show it again."""
    target, answers.resume_state = answers.resume_state, None
    await state.set_state(target)
    await save_answers(state, answers)
    await resend_step(message, state, answers, register=register, office_lookup=office_lookup)


async def discard_draft_scan(
    answers: Answers, *, vault: FileVault, restoration: RestorationService
) -> None:
    """Delete the scan of a journey that is abandoned before it was submitted (152-FZ: keep it
    only while the check needs it). A submitted journey's scan belongs to its application."""
    if answers.scan_name is None:
        return
    if answers.run_id is not None and await restoration.submitted(answers.run_id) is not None:
        return
    await vault.delete(answers.scan_name)
