"""The support chat: operators working in citizens' forum topics."""

from __future__ import annotations

from aiogram import F, Router

from bot.filters import Check
from bot.handlers.operator import card, digest, topic


def operator_router(support_chat_id: int | None) -> Router:
    router = Router(name="operator")
    if support_chat_id is None:
        return router  # no desk configured: the bot ignores groups altogether
    router.message.filter(Check(F.chat.id == support_chat_id))
    router.edited_message.filter(Check(F.chat.id == support_chat_id))
    router.callback_query.filter(Check(F.message.chat.id == support_chat_id))
    router.include_routers(card.router, digest.router, topic.router)
    return router
