"""Buttons on a citizen's card and the lists posted from it (rejection reasons, templates)."""

from __future__ import annotations

import logging

from aiogram import Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup

from bot.callbacks import TYPED_REASON, Desk, DeskAction, DeskReject, DeskTemplate
from bot.desk.service import OperatorDesk
from bot.desk.templates import REJECTION_CODES, send_template
from bot.dialogs.restoration import DeskForm
from core.desk import SupportDesk, UnknownConversation
from core.errors import ApplicationNotFound, IllegalTransition
from core.restoration import RestorationService

router = Router(name=__name__)
log = logging.getLogger(__name__)


async def refuse(query: CallbackQuery, desk: OperatorDesk, action: str) -> None:
    # Logged without who it was: the attempt matters, not the person's identity.
    log.warning("desk action refused: not an operator (action=%s)", action)
    await query.answer(desk.t("desk.not_operator"), show_alert=True)


@router.callback_query(Desk.filter())
async def card_button(
    query: CallbackQuery,
    callback_data: Desk,
    desk: OperatorDesk,
    support: SupportDesk,
    restoration: RestorationService,
) -> None:
    operator = query.from_user
    if not await desk.is_operator(operator.id):
        await refuse(query, desk, callback_data.action.value)
        return
    user_id, application_id = callback_data.user_id, callback_data.application_id
    action = callback_data.action
    try:
        if action is DeskAction.TAKE:
            await support.take(user_id, operator.id, operator.first_name)
        elif action is DeskAction.RELEASE:
            await support.release(user_id)
        elif action is DeskAction.APPROVE:
            await restoration.approve(application_id, owner=user_id, operator_id=operator.id)
        elif action is DeskAction.HANDED_OVER:
            await restoration.hand_over(application_id, owner=user_id, operator_id=operator.id)
        elif action is DeskAction.COLLECTED:
            await restoration.mark_collected(application_id, owner=user_id, operator_id=operator.id)
        elif action is DeskAction.NEW_SCAN:
            await support.request_new_scan(user_id, application_id)
        elif action is DeskAction.REJECT:
            conversation = await desk.conversation(user_id)
            if conversation is None:
                raise UnknownConversation(user_id)
            await query.answer()
            keyboard = rejection_keyboard(desk, application_id, user_id)
            await desk.note(conversation, desk.t("desk.reject.choose"), markup=keyboard)
            return
    except UnknownConversation:
        await query.answer(desk.t("desk.unknown_citizen"), show_alert=True)
        return
    except IllegalTransition:
        await query.answer(desk.t("desk.status_moved"), show_alert=True)
        return
    except ApplicationNotFound:
        await query.answer(desk.t("desk.unknown_application"), show_alert=True)
        return
    await query.answer(desk.t("desk.done"))


def rejection_keyboard(
    desk: OperatorDesk, application_id: int, user_id: int
) -> InlineKeyboardMarkup:
    def button(text: str, code: str) -> list[InlineKeyboardButton]:
        data = DeskReject(code=code, user_id=user_id, application_id=application_id)
        return [InlineKeyboardButton(text=text, callback_data=data.pack())]

    rows = [button(desk.t(f"rejection.{code}"), code) for code in REJECTION_CODES]
    rows.append(button(desk.t("desk.reject.typed"), TYPED_REASON))
    return InlineKeyboardMarkup(inline_keyboard=rows)


@router.callback_query(DeskReject.filter())
async def reject_reason_chosen(
    query: CallbackQuery,
    callback_data: DeskReject,
    state: FSMContext,
    desk: OperatorDesk,
    restoration: RestorationService,
) -> None:
    if not await desk.is_operator(query.from_user.id):
        await refuse(query, desk, "reject")
        return
    if callback_data.code == TYPED_REASON:
        # The operator's next message in this topic is the reason, not a message to the citizen.
        await state.set_state(DeskForm.reject_reason)
        await state.set_data(
            {"application_id": callback_data.application_id, "user_id": callback_data.user_id}
        )
        await query.answer()
        conversation = await desk.conversation(callback_data.user_id)
        if conversation is not None:
            await desk.note(conversation, desk.t("desk.reject.type_now"))
        return
    if callback_data.code not in REJECTION_CODES:
        await query.answer(desk.t("desk.unknown_application"), show_alert=True)
        return
    try:
        await restoration.reject(
            callback_data.application_id,
            owner=callback_data.user_id,
            operator_id=query.from_user.id,
            reason=callback_data.code,
        )
    except IllegalTransition:
        await query.answer(desk.t("desk.status_moved"), show_alert=True)
        return
    except ApplicationNotFound:
        await query.answer(desk.t("desk.unknown_application"), show_alert=True)
        return
    await query.answer(desk.t("desk.done"))


@router.callback_query(DeskTemplate.filter())
async def template_chosen(
    query: CallbackQuery, callback_data: DeskTemplate, desk: OperatorDesk
) -> None:
    if not await desk.is_operator(query.from_user.id):
        await refuse(query, desk, "template")
        return
    conversation = await desk.conversation(callback_data.user_id)
    if conversation is None:
        await query.answer(desk.t("desk.unknown_citizen"), show_alert=True)
        return
    sent = await send_template(desk, conversation, callback_data.name)
    await query.answer(desk.t("desk.done" if sent else "desk.relay_failed"))
