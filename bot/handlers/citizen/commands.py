"""Commands that work at any step: /cancel (registered first so it wins), /help, /lang, ..."""

from __future__ import annotations

from html import escape

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from bot import keyboards
from bot.callbacks import Language
from bot.dialogs.answers import Answers, save_answers
from bot.dialogs.flow import Dialog, callback_message, discard_draft_scan
from bot.dialogs.restoration import SupportChat
from bot.i18n import Texts, t
from bot.notifications import PolicySender, next_step_text, status_line
from bot.settings import Settings
from bot.times import zone_of_application
from core.desk import SupportDesk
from core.ports import FileVault
from core.restoration import RestorationService

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
    message: Message, restoration: RestorationService, settings: Settings, texts: Texts
) -> None:
    assert message.from_user is not None
    views = await restoration.applications_of(message.from_user.id)
    if not views:
        await message.answer(t("status.none"))
        return
    blocks = []
    for view in views:
        zone = await zone_of_application(restoration, view.application, settings.timezone)
        lines = [t("status.application", number=view.application.number)]
        lines.extend(status_line(change, zone) for change in view.history)
        step = restoration.next_step(view.application)
        lines.append(next_step_text(step, texts, zone))
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
async def profile_command(
    message: Message, restoration: RestorationService, settings: Settings
) -> None:
    assert message.from_user is not None
    citizen = await restoration.get_citizen(message.from_user.id)
    phone = citizen.phone if citizen and citizen.phone else t("profile.not_set")
    # Only a confirmed address gets emails (bot/handlers/citizen/email.py).
    confirmed = citizen.confirmed_email if citizen else None
    email = confirmed or t("profile.not_set")
    await message.answer(
        t("profile.text", phone=escape(phone), email=escape(email)),
        reply_markup=keyboards.profile(email=settings.email_enabled, confirmed=bool(confirmed)),
    )
