"""Commands that work at any step: /cancel (registered first so it wins), /help, /lang, ..."""

from __future__ import annotations

from html import escape

from aiogram import Bot, F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from bot import keyboards
from bot.callbacks import Language, Profile, ProfileAction
from bot.dialogs.answers import Answers, save_answers
from bot.dialogs.flow import Dialog, callback_message, discard_draft_scan
from bot.dialogs.restoration import ProfileForm, SupportChat
from bot.filters import Check
from bot.i18n import Texts, t
from bot.messages import validation_error_text
from bot.notifications import PolicySender, status_line
from bot.settings import Settings
from core.desk import SupportDesk
from core.ports import FileVault
from core.restoration import RestorationService
from core.validators import ValidationError, parse_email

router = Router(name=__name__)


@router.message(Command("cancel"))
async def cancel(
    message: Message,
    state: FSMContext,
    answers: Answers,
    support: SupportDesk,
    vault: FileVault,
    restoration: RestorationService,
) -> None:
    """Leave the dialog at any step; nothing half-submitted remains."""
    current = await state.get_state()
    had_dialog = current is not None
    if current == SupportChat.with_operator.state and message.from_user is not None:
        await support.citizen_returned(message.from_user.id, note="desk.released_by_citizen")
    await discard_draft_scan(answers, vault=vault, restoration=restoration)
    await state.set_state(None)
    await save_answers(state, answers.fresh())
    key = "cancel.done" if had_dialog else "cancel.nothing"
    await message.answer(t(key), reply_markup=keyboards.remove())


@router.message(Command("help"))
async def help_command(message: Message, settings: Settings) -> None:
    await message.answer(
        t(
            "help.text",
            email=escape(settings.support_email),
            phone=escape(settings.support_phone),
        ),
        reply_markup=keyboards.operator_only(),
    )


@router.message(Command("lang"))
async def lang_command(message: Message) -> None:
    await message.answer(t("lang.choose"), reply_markup=keyboards.languages())


@router.callback_query(Language.filter(F.locale.in_({"ru", "en"})))
async def lang_chosen(
    query: CallbackQuery,
    callback_data: Language,
    state: FSMContext,
    answers: Answers,
    texts: Texts,
    restoration: RestorationService,
    dialog: Dialog,
) -> None:
    answers.locale = callback_data.locale
    await save_answers(state, answers)
    citizen = await restoration.get_citizen(query.from_user.id)
    if citizen is not None:
        citizen.locale = callback_data.locale
        await restoration.save_citizen(citizen)
    with texts.use_locale(callback_data.locale):
        await query.answer()
        message = callback_message(query)
        await message.edit_text(t("lang.switched"))
        await dialog.resend(message, state, answers)


@router.message(Command("status"))
async def status_command(
    message: Message, restoration: RestorationService, settings: Settings
) -> None:
    assert message.from_user is not None
    views = await restoration.applications_of(message.from_user.id)
    if not views:
        await message.answer(t("status.none"))
        return
    blocks = []
    for view in views:
        lines = [t("status.application", number=view.application.number)]
        lines.extend(status_line(change, settings.timezone) for change in view.history)
        blocks.append("\n".join(lines))
    await message.answer("\n\n".join(blocks))


@router.message(Command("policy"))
async def policy_command(
    message: Message, bot: Bot, restoration: RestorationService, policy_sender: PolicySender
) -> None:
    assert message.from_user is not None
    application = await restoration.latest_policy(message.from_user.id)
    if application is None:
        await message.answer(t("policy.none"))
        return
    await policy_sender.send(application)


@router.message(Command("profile"))
async def profile_command(message: Message, restoration: RestorationService) -> None:
    assert message.from_user is not None
    citizen = await restoration.get_citizen(message.from_user.id)
    phone = citizen.phone if citizen and citizen.phone else t("profile.not_set")
    email = citizen.email if citizen and citizen.email else t("profile.not_set")
    await message.answer(
        t("profile.text", phone=escape(phone), email=escape(email)),
        reply_markup=keyboards.profile(),
    )


@router.callback_query(Profile.filter(F.action == ProfileAction.SET_EMAIL))
async def ask_email(query: CallbackQuery, state: FSMContext, answers: Answers) -> None:
    await query.answer()
    answers.resume_state = await state.get_state()
    await save_answers(state, answers)
    await state.set_state(ProfileForm.email)
    await callback_message(query).answer(t("profile.ask_email"))


@router.message(StateFilter(ProfileForm.email), Check(F.text))
async def email_typed(
    message: Message,
    state: FSMContext,
    answers: Answers,
    restoration: RestorationService,
    dialog: Dialog,
) -> None:
    assert message.from_user is not None
    try:
        email = parse_email(message.text or "")
    except ValidationError as error:
        await message.answer(validation_error_text(error))
        return
    citizen = await restoration.get_citizen(message.from_user.id)
    if citizen is None:
        await message.answer(t("profile.no_consent"))
    else:
        citizen.email = email
        await restoration.save_citizen(citizen)
        await message.answer(t("profile.email_saved", email=escape(email)))
    await dialog.resume(message, state, answers)
