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
    too_old = isinstance(event.exception, MessageTooOld)
    if not too_old:
        log.error(
            "update=%s failed: %s",
            update.update_id,
            type(event.exception).__name__,
            exc_info=event.exception,
        )
    try:
        if update.callback_query is not None:
            # A button on a message Telegram no longer shows the bot is simply stale: nothing
            # went wrong on our side, and the latest message has the step's buttons.
            key = "hint.stale_button" if too_old else "error.generic"
            await update.callback_query.answer(t(key), show_alert=True)
        elif update.message is not None and update.message.chat.type == "private":
            await update.message.answer(t("error.generic"))
    except Exception:  # the apology itself must never raise out of the error handler
        log.warning("could not tell the user about an error on update=%s", update.update_id)
    return True
