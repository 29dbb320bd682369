"""/reminders (what is scheduled, and the switch) and a reminder's "continue" button, which
returns the citizen to the exact step they stopped at."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from bot.callbacks import Reminder, ReminderAction
from bot.dialogs.answers import Answers
from bot.dialogs.flow import Dialog, callback_message
from bot.dialogs.restoration import step_for
from bot.i18n import Texts, t
from bot.reminders import reminders_keyboard, reminders_text
from core.reminders import ReminderService

router = Router(name=__name__)


async def _show(reminders: ReminderService, texts: Texts, user_id: int) -> tuple[str, object]:
    view = await reminders.of_citizen(user_id)
    locale = texts.current_locale
    if not view.consented:
        return t("reminder.no_consent"), None
    quiet = str(reminders.policy.quiet_hours).replace("-", "–")
    text = reminders_text(view, texts, locale, quiet)
    return text, reminders_keyboard(view.enabled, texts, locale)


@router.message(Command("reminders"))
async def reminders_command(message: Message, reminders: ReminderService, texts: Texts) -> None:
    assert message.from_user is not None
    text, markup = await _show(reminders, texts, message.from_user.id)
    await message.answer(text, reply_markup=markup)  # type: ignore[arg-type]


@router.callback_query(Reminder.filter(F.action.in_({ReminderAction.ON, ReminderAction.OFF})))
async def switch(
    query: CallbackQuery, callback_data: Reminder, reminders: ReminderService, texts: Texts
) -> None:
    enabled = callback_data.action is ReminderAction.ON
    if not await reminders.set_enabled(query.from_user.id, enabled):
        await query.answer(t("reminder.no_consent"), show_alert=True)
        return
    await query.answer(t("reminder.switched_on" if enabled else "reminder.switched_off"))
    text, markup = await _show(reminders, texts, query.from_user.id)
    await callback_message(query).edit_text(text, reply_markup=markup)  # type: ignore[arg-type]


@router.callback_query(Reminder.filter(F.action == ReminderAction.CONTINUE))
async def continue_dialog(
    query: CallbackQuery, state: FSMContext, answers: Answers, dialog: Dialog
) -> None:
    message = callback_message(query)
    if step_for(await state.get_state()) is None:
        # Finished, cancelled, or talking to an operator: there is no step to go back to.
        await query.answer(t("reminder.nothing_to_continue"), show_alert=True)
        return
    await query.answer()
    await message.edit_reply_markup(reply_markup=None)
    await dialog.resend(message, state, answers)
