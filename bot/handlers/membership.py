"""Membership: the bot stays only in the support chat and notices being blocked; when the
support chat's members change, who can read it is checked again."""

from __future__ import annotations

import contextlib
import logging

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.types import ChatMemberUpdated, Message

from bot.desk.service import OperatorDesk
from bot.filters import Check
from bot.i18n import t
from core.restoration import RestorationService

router = Router(name=__name__)
log = logging.getLogger(__name__)
PRESENT = {"member", "administrator", "restricted"}


@router.my_chat_member(Check(F.chat.type.in_({"group", "supergroup", "channel"})))
async def added_to_group(event: ChatMemberUpdated, bot: Bot, desk: OperatorDesk) -> None:
    if event.new_chat_member.status in PRESENT and event.chat.id != desk.chat_id:
        log.warning("added to a group that is not the support chat; leaving it")
        if event.chat.type != "channel":  # a channel's subscribers never asked for the bot
            # One line for whoever added the bot, in their language, then it goes.
            text = t("input.private_only", bot=f"@{(await bot.me()).username}")
            with contextlib.suppress(TelegramAPIError):
                await bot.send_message(event.chat.id, text)
        await bot.leave_chat(event.chat.id)


@router.my_chat_member(Check(F.chat.type == "private"))
async def blocked_or_unblocked(
    event: ChatMemberUpdated, desk: OperatorDesk, restoration: RestorationService
) -> None:
    blocked = event.new_chat_member.status == "kicked"
    citizen = await restoration.get_citizen(event.chat.id)
    if citizen is not None and citizen.blocked_bot != blocked:
        citizen.blocked_bot = blocked
        await restoration.save_citizen(citizen)
    if blocked and desk.enabled:
        conversation = await desk.conversation(event.chat.id)
        if conversation is not None and conversation.thread_id is not None:
            await desk.note(conversation, desk.t("desk.citizen_blocked"))


@router.chat_member()
async def support_member_changed(event: ChatMemberUpdated, desk: OperatorDesk) -> None:
    """Someone joined, left or was promoted (Telegram tells administrators only)."""
    if desk.enabled and event.chat.id == desk.chat_id:
        desk.readers_check.wake()


@router.message(Check(F.new_chat_members | F.left_chat_member))
async def support_members_message(message: Message, desk: OperatorDesk) -> None:
    """The service message of a join or leave, for when chat_member updates do not come."""
    if desk.enabled and message.chat.id == desk.chat_id:
        desk.readers_check.wake()
