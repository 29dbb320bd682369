"""The citizen's side of the operator desk: asking for a human, talking, going back."""

from __future__ import annotations

from functools import cache
from html import escape

from aiogram import F, Router
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message, User

from bot import keyboards
from bot.callbacks import AskOperator, BackToForm
from bot.desk.service import OperatorDesk
from bot.dialogs.answers import Answers
from bot.dialogs.control import pause
from bot.dialogs.flow import Dialog, Replyable, callback_message, pressed
from bot.dialogs.restoration import SupportChat
from bot.dialogs.situation import Standing, standing_of
from bot.filters import Check
from bot.i18n import LOCALES, Texts, t
from bot.settings import Settings
from core.desk import SupportDesk
from core.restoration import RestorationService
from core.support import RelayDirection

router = Router(name=__name__)


def back_to_form(standing: Standing) -> InlineKeyboardMarkup:
    label = t(standing.key("button.back_to_form"))
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=label, callback_data=BackToForm().pack())]]
    )


async def ask_for_operator(
    chat: Replyable,
    user: User,
    state: FSMContext,
    answers: Answers,
    *,
    support: SupportDesk,
    settings: Settings,
    restoration: RestorationService,
) -> None:
    if not support.enabled:
        # No support chat configured: the other support channels, never a dead end.
        await chat.answer(
            t(
                "help.text",
                email=escape(settings.support_email),
                phone=escape(settings.support_phone),
            )
        )
        return
    await pause(state, answers)
    standing = await standing_of(user.id, form_step=answers.resume_state, restoration=restoration)
    text = t(standing.key("support.waiting"), number=standing.number)
    await chat.answer(text, reply_markup=back_to_form(standing))
    await support.alert(user.id, user.first_name, reason="desk.reason.asked")


@cache
def operator_labels(texts: Texts) -> frozenset[str]:
    # Checked on every private text message: look the labels up once, not per update.
    return frozenset(texts.t("button.operator", locale=code) for code in LOCALES)


async def operator_button_text(message: Message, texts: Texts) -> bool:
    """The reply-keyboard button "contact an operator" (shown beside "share my phone")."""
    return message.text in operator_labels(texts)


@router.message(Command("operator"))
async def operator_command(
    message: Message,
    state: FSMContext,
    answers: Answers,
    support: SupportDesk,
    settings: Settings,
    restoration: RestorationService,
) -> None:
    assert message.from_user is not None
    await ask_for_operator(
        message,
        message.from_user,
        state,
        answers,
        support=support,
        settings=settings,
        restoration=restoration,
    )


@router.message(operator_button_text)
async def operator_keyboard_button(
    message: Message,
    state: FSMContext,
    answers: Answers,
    support: SupportDesk,
    settings: Settings,
    restoration: RestorationService,
) -> None:
    assert message.from_user is not None
    await message.answer(t("support.keyboard_hidden"), reply_markup=keyboards.remove())
    await ask_for_operator(
        message,
        message.from_user,
        state,
        answers,
        support=support,
        settings=settings,
        restoration=restoration,
    )


@router.callback_query(AskOperator.filter())
async def operator_button(
    query: CallbackQuery,
    state: FSMContext,
    answers: Answers,
    support: SupportDesk,
    settings: Settings,
    restoration: RestorationService,
) -> None:
    await query.answer()
    await ask_for_operator(
        callback_message(query),
        query.from_user,
        state,
        answers,
        support=support,
        settings=settings,
        restoration=restoration,
    )


@router.callback_query(BackToForm.filter())
async def back_to_the_form(
    query: CallbackQuery,
    state: FSMContext,
    answers: Answers,
    support: SupportDesk,
    dialog: Dialog,
    restoration: RestorationService,
) -> None:
    message = await pressed(query)
    await support.citizen_returned(query.from_user.id, note="desk.released_by_citizen")
    paused = await state.get_state() == SupportChat.with_operator.state
    if paused and answers.resume_state is not None:
        await dialog.resume(message, state, answers)  # the form again, at the same step
        return
    if paused:
        await dialog.resume(message, state, answers)  # out of the operator mode, no step
    standing = await standing_of(query.from_user.id, form_step=None, restoration=restoration)
    await message.answer(t(standing.key("support.returned"), number=standing.number))


@router.message(StateFilter(SupportChat.with_operator))
async def to_operators(message: Message, desk: OperatorDesk, support: SupportDesk) -> None:
    """While an operator is involved, everything the citizen sends goes to their topic."""
    assert message.from_user is not None
    user = message.from_user
    conversation = await support.conversation(user.id)
    if conversation is None or not conversation.is_open:
        await support.alert(user.id, user.first_name, reason="desk.reason.asked")
    conversation = await desk.ensure_topic(user.id)
    if conversation is not None:
        await desk.relay(message, conversation, RelayDirection.TO_OPERATORS)


@router.edited_message(Check(F.chat.type == "private"))
async def citizen_edited(message: Message, desk: OperatorDesk) -> None:
    """A message relayed to the operators is edited in their topic too; any other edit is
    left to the fallback, which asks for the correction as a new message."""
    if desk.enabled and message.from_user is not None:
        conversation = await desk.conversation(message.from_user.id)
        if conversation is not None and conversation.thread_id is not None:
            if await desk.mirror_edit(message, conversation, RelayDirection.TO_OPERATORS):
                return
    raise SkipHandler
