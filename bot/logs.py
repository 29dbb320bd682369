"""The one logging set-up: one line per event, level from settings."""

from __future__ import annotations

import logging


def setup_logging(level: str) -> None:
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        force=True,
    )
    # aiogram logs every update too; our own update line (bot.middlewares) replaces it.
    logging.getLogger("aiogram.event").setLevel(max(logging.WARNING, logging.getLevelName(level)))
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    # aiosqlite's DEBUG lines repeat every SQL statement with its parameters (phones, passport
    # numbers, ЕНП): personal data must never reach the logs, whatever LOG_LEVEL says.
    logging.getLogger("aiosqlite").setLevel(logging.WARNING)
