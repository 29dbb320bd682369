"""Step 1: what the bot does, and a separate, explicit consent to personal-data processing."""

from __future__ import annotations

import uuid

from aiogram import F, Router
from aiogram.filters import CommandStart, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from bot import keyboards
from bot.callbacks import Consent, ConsentAction
from bot.dialogs.answers import Answers, save_answers
from bot.dialogs.flow import Dialog, callback_message, discard_draft_scan
from bot.dialogs.restoration import Restoration, SupportChat
from bot.i18n import Texts, t
from core.desk import SupportDesk
from core.ports import FileVault
from core.restoration import RestorationService

router = Router(name=__name__)


@router.message(CommandStart())
async def start(
    message: Message,
    state: FSMContext,
    answers: Answers,
    support: SupportDesk,
    vault: FileVault,
    restoration: RestorationService,
    dialog: Dialog,
) -> None:
    if await state.get_state() == SupportChat.with_operator.state and message.from_user:
        await support.citizen_returned(message.from_user.id, note="desk.released_by_citizen")
    await discard_draft_scan(answers, vault=vault, restoration=restoration)
    answers = answers.fresh()
    answers.run_id = uuid.uuid4().hex
    await message.answer(t("start.welcome"), reply_markup=keyboards.remove())
    await dialog.ask(message, state, answers, Restoration.consent)


@router.callback_query(
    StateFilter(Restoration.consent), Consent.filter(F.action == ConsentAction.SHOW_TEXT)
)
async def show_consent_text(query: CallbackQuery) -> None:
    await query.answer()
    message = callback_message(query)
    await message.answer(t("consent.full_text"), reply_markup=keyboards.consent())


@router.callback_query(
    StateFilter(Restoration.consent), Consent.filter(F.action == ConsentAction.DECLINE)
)
async def decline(query: CallbackQuery, state: FSMContext, answers: Answers) -> None:
    await query.answer()
    await state.set_state(None)
    await save_answers(state, answers.fresh())
    await callback_message(query).edit_reply_markup(reply_markup=None)
    await callback_message(query).answer(t("consent.declined"))


@router.callback_query(
    StateFilter(Restoration.consent), Consent.filter(F.action == ConsentAction.ACCEPT)
)
async def accept(
    query: CallbackQuery,
    state: FSMContext,
    answers: Answers,
    restoration: RestorationService,
    texts: Texts,
    dialog: Dialog,
) -> None:
    await query.answer(t("consent.thanks"))
    await restoration.record_consent(query.from_user.id, locale=texts.current_locale)
    message = callback_message(query)
    await message.edit_reply_markup(reply_markup=None)
    await dialog.ask(message, state, answers, Restoration.contact)
