"""The one logging set-up: one line per event, level from settings, no citizen's ids.

Telegram ids are personal data (a user id leads to the person), yet a log that cannot tell one
citizen's updates from another's is hard to debug. So ids appear only as salted hashes: the salt
is random per process and never written anywhere, so a hash cannot be turned back into an id
by trying every id. aiogram's own loggers print raw ids at DEBUG (aiogram.utils.chat_action:
"... in chat_id=123 ..."); a filter on the output handlers rewrites them.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets

_salt = secrets.token_bytes(16)
# `chat_id=123`, `user_id=-100123`, `chat=123`, `from_user.id=123`, also quoted ('chat_id': 123).
_TELEGRAM_ID = re.compile(
    r"""(?P<name>\b(?:chat_id|user_id|from_user_id|sender_chat_id|chat|user|from_user\.id|chat\.id)
        ['"]?\s*[=:]\s*)(?P<id>-?\d+)\b""",
    re.VERBOSE,
)


def pseudonym(telegram_id: int | str) -> str:
    """A salted hash of a chat or user id: the same id gives the same tag within a process."""
    digest = hashlib.blake2b(str(telegram_id).encode(), key=_salt, digest_size=5)
    return f"#{digest.hexdigest()}"


def redact_ids(text: str) -> str:
    return _TELEGRAM_ID.sub(lambda m: m["name"] + pseudonym(m["id"]), text)


class RedactTelegramIds(logging.Filter):
    """On a handler: rewrites chat and user ids in any record (aiogram's included) as pseudonyms.

    A filter on a handler sees every record it outputs, also those propagated from child
    loggers, which a filter on the "aiogram" logger would not.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact_ids(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


def setup_logging(level: str) -> None:
    global _salt
    _salt = secrets.token_bytes(16)  # per process: a forked child must not share its parent's
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        force=True,
    )
    for handler in logging.getLogger().handlers:
        handler.addFilter(RedactTelegramIds())
    # aiogram logs every update too; our own update line (bot.middlewares) replaces it.
    logging.getLogger("aiogram.event").setLevel(max(logging.WARNING, logging.getLevelName(level)))
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    # aiosqlite's DEBUG lines repeat every SQL statement with its parameters (phones, passport
    # numbers, ЕНП): personal data must never reach the logs, whatever LOG_LEVEL says.
    logging.getLogger("aiosqlite").setLevel(logging.WARNING)
