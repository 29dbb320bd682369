"""Step 2: login confirmation by the citizen's own phone, matched to the register."""

from __future__ import annotations

from html import escape

from aiogram import F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from bot import keyboards
from bot.callbacks import ProfileAnswer, Restart
from bot.dialogs.answers import Answers, save_answers
from bot.dialogs.flow import Dialog, callback_message, pressed
from bot.dialogs.restoration import Restoration
from bot.filters import Check
from bot.i18n import Texts, t
from core.desk import SupportDesk
from core.ports import RegisterLookup
from core.restoration import RestorationService
from core.validators import ValidationError, normalize_phone

router = Router(name=__name__)


@router.message(StateFilter(Restoration.contact), Check(F.contact))
async def contact_shared(
    message: Message,
    state: FSMContext,
    answers: Answers,
    register: RegisterLookup,
    restoration: RestorationService,
    texts: Texts,
    support: SupportDesk,
    dialog: Dialog,
) -> None:
    contact = message.contact
    assert contact is not None and message.from_user is not None
    # Only the citizen's own contact proves the phone: Telegram sets contact.user_id for the
    # sender's own card; a forwarded card or another person's card has a different or no user_id.
    # The share button stays under the input field (it was not used); the refusal offers a human.
    if message.forward_origin is not None:
        await message.answer(t("login.forwarded_contact"), reply_markup=keyboards.operator_only())
        return
    if contact.user_id != message.from_user.id:
        await message.answer(t("login.foreign_contact"), reply_markup=keyboards.operator_only())
        return
    try:
        phone = normalize_phone(contact.phone_number)
    except ValidationError:
        phone = None
    person = register.by_phone(phone) if phone else None
    if person is None:
        await message.answer(t("login.not_found"), reply_markup=keyboards.remove())
        await message.answer(t("login.not_found_next"), reply_markup=keyboards.dead_end())
        await support.alert(
            message.from_user.id, message.from_user.first_name, reason="desk.reason.not_found"
        )
        return
    answers.enp = person.enp
    await restoration.confirm_identity(
        message.from_user.id,
        locale=answers.locale or texts.current_locale,
        phone=person.phone,
        enp=person.enp,
    )
    await message.answer(t("login.phone_received"), reply_markup=keyboards.remove())
    await dialog.ask(
        message,
        state,
        answers,
        Restoration.confirm_profile,
        text=t("restore.profile.prompt", profile=escape(person.masked_profile)),
        markup=keyboards.profile_confirmation(),
    )


@router.callback_query(StateFilter(Restoration.confirm_profile), ProfileAnswer.filter(F.is_me))
async def profile_confirmed(
    query: CallbackQuery, state: FSMContext, answers: Answers, dialog: Dialog
) -> None:
    message = await pressed(query)
    await dialog.ask(message, state, answers, Restoration.reason)


@router.callback_query(StateFilter(Restoration.confirm_profile), ProfileAnswer.filter(~F.is_me))
async def profile_rejected(
    query: CallbackQuery, state: FSMContext, answers: Answers, support: SupportDesk
) -> None:
    await query.answer()
    answers.enp = None
    await save_answers(state, answers)
    await state.set_state(Restoration.contact)
    message = callback_message(query)
    await message.edit_reply_markup(reply_markup=None)
    await message.answer(t("login.not_me"), reply_markup=keyboards.dead_end())
    await support.alert(query.from_user.id, query.from_user.first_name, reason="desk.reason.not_me")


@router.callback_query(Restart.filter())
async def restart(
    query: CallbackQuery, state: FSMContext, answers: Answers, dialog: Dialog
) -> None:
    """Start the journey again from the login step (consent was given already)."""
    message = await pressed(query)
    if answers.run_id is None:
        await message.answer(t("hint.start"))
        return
    await dialog.ask(message, state, answers, Restoration.contact)
