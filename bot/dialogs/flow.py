"""Moving between the dialog's steps: send a step's prompt (and its declared keyboard) and
remember where the citizen is. `Dialog` is built once in the composition root with the register
and the office list, so handlers never pass them around."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State
from aiogram.methods import SendMessage
from aiogram.types import CallbackQuery, Message

from bot.delivery import Delivery
from bot.dialogs.answers import Answers, save_step
from bot.dialogs.restoration import (
    STEPS,
    TOTAL_STEPS,
    Markup,
    Restoration,
    Step,
    StepContext,
    step_for,
)
from bot.i18n import t
from core.delivery_methods import policy_for
from core.models import InsuredPerson, PickupOffice
from core.ports import FileVault, PickupOffices, RegisterLookup
from core.restoration import RestorationService


@dataclass(frozen=True, slots=True)
class CitizenChat:
    """The citizen's private chat when there is no incoming message to answer, e.g. when an
    operator hands the citizen back to the dialog. Answers like a Message does, through the
    delivery path (it is not a reply to the citizen's update)."""

    delivery: Delivery
    chat_id: int

    async def answer(self, text: str, reply_markup: Markup = None) -> Message:
        method = SendMessage(chat_id=self.chat_id, text=text, reply_markup=reply_markup)
        return await self.delivery.send(method, chat_id=self.chat_id)


Replyable = Message | CitizenChat


def callback_message(query: CallbackQuery) -> Message:
    """The message a button was pressed on; inaccessible (very old) ones cannot be answered."""
    if not isinstance(query.message, Message):
        raise MessageTooOld
    return query.message


async def pressed(query: CallbackQuery) -> Message:
    """Acknowledge a pressed button and take the keyboard off its message, so an answered step
    cannot be answered twice; the message then says which option was chosen. Returns that
    message to reply to."""
    await query.answer()
    message = callback_message(query)
    label = chosen_label(message, query.data)
    if label is not None and message.text is not None:
        chosen = t("dialog.chosen", choice=escape(label))
        await message.edit_text(f"{message.html_text}\n\n{chosen}", reply_markup=None)
    else:
        await message.edit_reply_markup(reply_markup=None)
    return message


async def move(state: FSMContext, target: State | str | None, answers: Answers) -> None:
    """The answers and the step in one write where the storage allows; else the answers first,
    then the step: a crash between them must not leave a later step without the answer that
    led to it (the summary could never be submitted). The other way round the step is only
    asked again."""
    await save_step(state, target, answers)


def chosen_label(message: Message, data: str | None) -> str | None:
    """The text of the button that carries `data` on this message, if any."""
    markup = message.reply_markup
    if markup is None or data is None:
        return None
    for row in markup.inline_keyboard:
        for button in row:
            if button.callback_data == data:
                return button.text
    return None


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
        needs = policy_for(answers.delivery).needs
        if "address" in needs:
            lines.append(
                t(
                    "summary.address",
                    postcode=escape(answers.postcode or ""),
                    address=escape(answers.address or ""),
                )
            )
        elif "office_id" in needs and office is not None:
            lines.append(
                t("summary.office", name=escape(office.name), address=escape(office.address))
            )
    return "\n".join(lines)


STEP_OF_STATE: dict[str, Step] = {step.state.state: step for step in STEPS}  # type: ignore[misc]


class Dialog:
    """Sends the dialog's steps; the one place that knows the register and offices they show."""

    def __init__(self, *, register: RegisterLookup, offices: PickupOffices) -> None:
        self.register = register
        self.offices = offices

    def person(self, answers: Answers) -> InsuredPerson | None:
        return self.register.by_enp(answers.enp) if answers.enp else None

    def context(self, answers: Answers) -> StepContext:
        person = self.person(answers)
        return StepContext(person, self.offices.for_region(person.region) if person else ())

    async def ask(
        self,
        message: Replyable,
        state: FSMContext,
        answers: Answers,
        target: State,
        *,
        text: str | None = None,
        markup: Markup = None,
    ) -> None:
        """Persist the answers, enter `target`, and send its prompt with the step counter and
        the step's own keyboard (unless the caller shows something else)."""
        await move(state, target, answers)
        step = step_for(target.state)
        if step is None:
            await message.answer(text or t("hint.generic"), reply_markup=markup)
            return
        if text is None or markup is None:
            context = self.context(answers)
            text = text if text is not None else t(step.prompt, **step.params(context))
            markup = markup if markup is not None else step.keyboard(context)
        await message.answer(with_step(target, text), reply_markup=markup)

    async def next_or_summary(
        self, message: Replyable, state: FSMContext, answers: Answers, target: State
    ) -> None:
        """After a group of answers: the next step, or back to the summary when correcting."""
        if answers.editing:
            await self.summary(message, state, answers)
        else:
            await self.ask(message, state, answers, target)

    async def summary(self, message: Replyable, state: FSMContext, answers: Answers) -> None:
        answers.editing = False
        office = self.offices.get(answers.office_id) if answers.office_id else None
        text = summary_text(answers, self.person(answers), office)
        await self.ask(message, state, answers, Restoration.summary, text=text)

    async def resend(self, message: Replyable, state: FSMContext, answers: Answers) -> None:
        """Show the current step again (after /lang, or when returning from a side trip)."""
        current = await state.get_state()
        step = STEP_OF_STATE.get(current) if current else None
        if step is None:
            return
        if step.state in (Restoration.summary, Restoration.payment):
            await self.summary(message, state, answers)
        else:
            await self.ask(message, state, answers, step.state)

    async def resume(self, message: Replyable, state: FSMContext, answers: Answers) -> None:
        """Return from a side trip to the step the citizen left, and show it again."""
        target, answers.resume_state = answers.resume_state, None
        await move(state, target, answers)
        await self.resend(message, state, answers)


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
