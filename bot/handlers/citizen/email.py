"""The email address in /profile: typed, confirmed by a code sent to it, or removed. Offered only
when SMTP is configured; only a confirmed address gets status emails."""

from __future__ import annotations

from html import escape

from aiogram import F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from bot.callbacks import Email, EmailAction, Profile, ProfileAction
from bot.dialogs.answers import Answers, save_answers
from bot.dialogs.flow import Dialog, callback_message
from bot.dialogs.restoration import ProfileForm
from bot.filters import Check
from bot.i18n import t
from bot.messages import validation_error_text
from bot.settings import Settings
from core.email import Confirmation, EmailAddresses
from core.validators import ValidationError, parse_email

router = Router(name=__name__)


@router.callback_query(Profile.filter(F.action == ProfileAction.SET_EMAIL))
async def ask_email(
    query: CallbackQuery, state: FSMContext, answers: Answers, settings: Settings
) -> None:
    if not settings.email_enabled:
        await query.answer(t("email.unavailable"), show_alert=True)
        return
    await query.answer()
    current = await state.get_state()
    if current not in (ProfileForm.email.state, ProfileForm.email_code.state):
        answers.resume_state = current
    await save_answers(state, answers)
    await state.set_state(ProfileForm.email)
    await callback_message(query).answer(t("profile.ask_email"))


@router.message(StateFilter(ProfileForm.email), Check(F.text))
async def email_typed(
    message: Message,
    state: FSMContext,
    answers: Answers,
    emails: EmailAddresses,
    dialog: Dialog,
) -> None:
    assert message.from_user is not None
    try:
        email = parse_email(message.text or "")
    except ValidationError as error:
        await message.answer(validation_error_text(error))
        return
    if not await emails.request(message.from_user.id, email):
        await message.answer(t("profile.no_consent"))
        await dialog.resume(message, state, answers)
        return
    await state.set_state(ProfileForm.email_code)
    await message.answer(t("email.code_sent", email=escape(email)))


@router.message(StateFilter(ProfileForm.email_code), Check(F.text))
async def code_typed(
    message: Message,
    state: FSMContext,
    answers: Answers,
    emails: EmailAddresses,
    dialog: Dialog,
) -> None:
    assert message.from_user is not None
    outcome, email = await emails.confirm(message.from_user.id, message.text or "")
    if outcome is Confirmation.WRONG_CODE:
        await message.answer(t("email.wrong_code"))
        return
    key = {
        Confirmation.CONFIRMED: "email.confirmed",
        Confirmation.EXPIRED: "email.code_expired",
        Confirmation.NOTHING_PENDING: "email.code_expired",
    }[outcome]
    await message.answer(t(key, email=escape(email or "")))
    await dialog.resume(message, state, answers)


@router.callback_query(Email.filter(F.action == EmailAction.REMOVE))
async def remove_email(query: CallbackQuery, emails: EmailAddresses) -> None:
    await query.answer()
    await emails.remove(query.from_user.id)
    message = callback_message(query)
    await message.edit_reply_markup(reply_markup=None)
    await message.answer(t("email.removed"))
