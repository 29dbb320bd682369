"""All routers, assembled in one place."""

from __future__ import annotations

from aiogram import Router

from bot.handlers import errors, membership
from bot.handlers.citizen import citizen_router
from bot.handlers.merge import merged
from bot.handlers.operator import operator_router


def get_routers(support_chat_id: int | None) -> list[Router]:
    # Merged: see bot.handlers.merge (each router an update passes costs a propagation).
    service = merged("service", errors.router, membership.router)
    return [service, operator_router(support_chat_id), citizen_router()]
