"""All routers, assembled in one place."""

from __future__ import annotations

from aiogram import Router

from bot.handlers import errors
from bot.handlers.citizen import citizen_router


def get_routers() -> list[Router]:
    return [errors.router, citizen_router()]
