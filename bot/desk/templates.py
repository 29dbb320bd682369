"""Canned replies and rejection reasons an operator can send in one tap. Their texts live in
the locale files (`template.<name>.title` / `.text`, `rejection.<code>`)."""

from __future__ import annotations

from html import escape

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.callbacks import DeskTemplate
from bot.desk.service import OperatorDesk
from core.restoration import RejectionReason
from core.support import Conversation, RelayDirection, RelayedMessage

TEMPLATES = ("greeting", "checking", "photo_quality", "register_update", "goodbye")
REJECTION_CODES = (
    RejectionReason.PASSPORT_MISMATCH.value,
    RejectionReason.NOT_IN_REGISTER.value,
    "bad_photo",
    "duplicate",
)


def templates_keyboard(desk: OperatorDesk, user_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=desk.t(f"template.{name}.title"),
                    callback_data=DeskTemplate(name=name, user_id=user_id).pack(),
                )
            ]
            for name in TEMPLATES
        ]
    )


async def send_template(desk: OperatorDesk, conversation: Conversation, name: str) -> bool:
    """The reply goes to the citizen in their language; the topic shows what was sent."""
    if name not in TEMPLATES:
        return False
    sent = await desk.tell_citizen(conversation, f"template.{name}.text")
    if sent is None:
        return False
    copy = await desk.note(conversation, desk.t("desk.template_sent", text=escape(sent.text or "")))
    async with desk.uow_factory() as uow:
        await uow.conversations.link(
            RelayedMessage(
                conversation.user_id, sent.message_id, copy.message_id, RelayDirection.TO_CITIZEN
            )
        )
        await uow.commit()
    return True
