"""Messages in the support chat: operators writing in citizens' topics, and desk commands."""

from __future__ import annotations

import logging

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import Message

from bot.desk.service import OperatorDesk
from bot.desk.templates import templates_keyboard
from bot.dialogs.restoration import DeskForm
from bot.filters import Check
from core.desk import SupportDesk
from core.errors import ApplicationNotFound, IllegalTransition
from core.restoration import RestorationService
from core.support import Conversation, RelayDirection
from core.validators import ValidationError, parse_free_text

router = Router(name=__name__)
log = logging.getLogger(__name__)

# What a person can write; service messages (topic created, pinned...) are not relayed.
RELAYABLE = {
    "text",
    "photo",
    "document",
    "video",
    "voice",
    "audio",
    "sticker",
    "animation",
    "video_note",
    "location",
    "contact",
}


async def operator_topic(message: Message, desk: OperatorDesk) -> Conversation | None:
    """The citizen's conversation behind this topic, if the sender may act in it."""
    if message.message_thread_id is None:
        return None
    if message.sender_chat is not None:
        # An anonymous administrator (sent as the group) or a channel: no person to answer
        # for it, so it is not relayed, and the topic says why.
        conversation = await desk.conversation_in(message.message_thread_id)
        if conversation is not None:
            await desk.note(conversation, desk.t("desk.anonymous_sender"))
        return None
    if message.from_user is None or message.from_user.is_bot:
        return None
    conversation = await desk.conversation_in(message.message_thread_id)
    if conversation is None:
        return None
    if not await desk.is_operator(message.from_user.id):
        log.warning("desk message refused: not an operator")
        await desk.tell_outsider(conversation)  # once per topic: no chat with each message
        return None
    return conversation


@router.message(Command("templates"), Check(F.message_thread_id))
async def list_templates(message: Message, desk: OperatorDesk) -> None:
    conversation = await operator_topic(message, desk)
    if conversation is not None:
        await desk.note(
            conversation,
            desk.t("desk.templates"),
            markup=templates_keyboard(desk, conversation.user_id),
        )


@router.message(Command("release"), Check(F.message_thread_id))
async def release_command(message: Message, desk: OperatorDesk, support: SupportDesk) -> None:
    conversation = await operator_topic(message, desk)
    if conversation is not None:
        await support.release(conversation.user_id)


@router.message(StateFilter(DeskForm.reject_reason), Check(F.text & F.message_thread_id))
async def typed_rejection_reason(
    message: Message, state: FSMContext, desk: OperatorDesk, restoration: RestorationService
) -> None:
    conversation = await operator_topic(message, desk)
    if conversation is None:
        return
    data = await state.get_data()
    try:
        reason = parse_free_text(message.text or "", max_len=300)
    except ValidationError:
        await desk.note(conversation, desk.t("desk.reject.type_now"))
        return
    await state.clear()
    assert message.from_user is not None
    try:
        await restoration.reject(
            int(data["application_id"]),
            owner=conversation.user_id,
            operator_id=message.from_user.id,
            reason=reason,
        )
    except IllegalTransition:
        await desk.note(conversation, desk.t("desk.status_moved"))
    except (ApplicationNotFound, KeyError, ValueError):
        await desk.note(conversation, desk.t("desk.unknown_application"))


@router.message(Check(F.message_thread_id & F.content_type.in_(RELAYABLE)))
async def operator_writes(message: Message, desk: OperatorDesk, support: SupportDesk) -> None:
    conversation = await operator_topic(message, desk)
    if conversation is None:
        return
    assert message.from_user is not None
    # Writing in the topic takes the conversation, as the "take" button does.
    await support.take(conversation.user_id, message.from_user.id, message.from_user.first_name)
    await desk.relay(message, conversation, RelayDirection.TO_CITIZEN)


@router.edited_message(Check(F.message_thread_id))
async def operator_edits(message: Message, desk: OperatorDesk) -> None:
    conversation = await operator_topic(message, desk)
    if conversation is not None:
        await desk.mirror_edit(message, conversation, RelayDirection.TO_CITIZEN)
