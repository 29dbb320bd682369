"""The support chat: operators working in citizens' forum topics."""

from __future__ import annotations

from aiogram import F, Router

from bot.filters import Check
from bot.handlers.merge import merged
from bot.handlers.operator import card, digest, topic


def operator_router(support_chat_id: int | None) -> Router:
    if support_chat_id is None:
        return Router(name="operator")  # no desk configured: the bot ignores groups altogether
    router = merged("operator", card.router, digest.router, topic.router)
    router.message.filter(Check(F.chat.id == support_chat_id))
    router.edited_message.filter(Check(F.chat.id == support_chat_id))
    router.callback_query.filter(Check(F.message.chat.id == support_chat_id))
    return router
