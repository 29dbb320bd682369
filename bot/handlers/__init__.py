"""All routers, assembled in one place."""

from __future__ import annotations

from aiogram import Router

from bot.handlers import errors, membership
from bot.handlers.citizen import citizen_router
from bot.handlers.operator import operator_router


def get_routers(support_chat_id: int | None) -> list[Router]:
    return [errors.router, membership.router, operator_router(support_chat_id), citizen_router()]
