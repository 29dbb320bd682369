"""/digest in the support chat: the overdue applications and the waiting conversations, now."""

from __future__ import annotations

import logging

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import Message

from bot.desk.service import OperatorDesk
from core.reminders import ReminderService

router = Router(name=__name__)
log = logging.getLogger(__name__)


@router.message(Command("digest"))
async def digest_command(message: Message, desk: OperatorDesk, reminders: ReminderService) -> None:
    if message.from_user is None or not await desk.is_operator(message.from_user.id):
        log.warning("desk command refused: not an operator (digest)")
        return
    # Through the outbox like the morning one, into the topic it was asked in.
    await reminders.request_digest(message.message_thread_id)
