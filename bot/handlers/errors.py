"""Last resort: an unexpected error is logged (without personal data) and the user gets a polite
message; the dialog stays at its step because the failing handler did not move it."""

from __future__ import annotations

import logging

from aiogram import Router
from aiogram.types import ErrorEvent

from bot.dialogs.flow import MessageTooOld
from bot.i18n import t

router = Router(name=__name__)
log = logging.getLogger(__name__)


@router.errors()
async def on_error(event: ErrorEvent) -> bool:
    update = event.update
    if not isinstance(event.exception, MessageTooOld):
        log.error(
            "update=%s failed: %s",
            update.update_id,
            type(event.exception).__name__,
            exc_info=event.exception,
        )
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(t("error.generic"), show_alert=True)
        elif update.message is not None and update.message.chat.type == "private":
            await update.message.answer(t("error.generic"))
    except Exception:  # the apology itself must never raise out of the error handler
        log.warning("could not tell the user about an error on update=%s", update.update_id)
    return True
