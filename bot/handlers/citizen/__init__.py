"""The citizen's private chat with the bot."""

from __future__ import annotations

from aiogram import F, Router

from bot.filters import Check
from bot.handlers.citizen import (
    commands,
    consent,
    delivery,
    email,
    fallback,
    forget,
    guards,
    login,
    passport,
    reason,
    reminders,
    summary,
    support,
)
from bot.handlers.merge import merged


def citizen_router() -> Router:
    # Order matters: commands (with /cancel first) win in every state; hints come last.
    router = merged(
        "citizen",
        guards.too_old,
        commands.router,
        reminders.router,
        forget.router,  # before email: /forget_me works while a code is awaited too
        email.router,
        support.router,
        consent.router,  # /start
        guards.unknown_commands,
        login.router,
        reason.router,
        passport.router,
        delivery.router,
        summary.router,
        fallback.router,
    )
    router.message.filter(Check(F.chat.type == "private"))
    router.callback_query.filter(Check(F.message.chat.type == "private"))
    return router
