"""Step 3: why the policy has to be restored."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from bot.callbacks import Reason
from bot.dialogs.answers import Answers
from bot.dialogs.flow import Dialog, pressed
from bot.dialogs.restoration import Restoration
from bot.filters import Check
from bot.messages import validation_error_text
from core.models import LossReason
from core.validators import ValidationError, parse_free_text

router = Router(name=__name__)
REASON_TEXT_MAX = 500


@router.callback_query(StateFilter(Restoration.reason), Reason.filter())
async def reason_chosen(
    query: CallbackQuery,
    callback_data: Reason,
    state: FSMContext,
    answers: Answers,
    dialog: Dialog,
) -> None:
    message = await pressed(query)
    answers.reason = callback_data.reason
    if callback_data.reason is LossReason.OTHER:
        await dialog.ask(message, state, answers, Restoration.reason_text)
        return
    answers.reason_text = None
    await dialog.next_or_summary(message, state, answers, Restoration.passport_number)


@router.message(StateFilter(Restoration.reason_text), Check(F.text))
async def reason_text_typed(
    message: Message,
    state: FSMContext,
    answers: Answers,
    dialog: Dialog,
) -> None:
    try:
        answers.reason_text = parse_free_text(message.text or "", max_len=REASON_TEXT_MAX)
    except ValidationError as error:
        await message.answer(validation_error_text(error, max_len=REASON_TEXT_MAX))
        return
    await dialog.next_or_summary(message, state, answers, Restoration.passport_number)
