"""`python -m bot`: load settings, pick the mode, run. With no BOT_TOKEN, the offline sandbox.

Modes: long polling (the default) or, with WEBHOOK_URL set, a webhook server (bot/web.py).
Both serve GET /healthz on WEB_HOST:WEB_PORT. Start-up failures end in one line on stderr and
exit code 2, never a traceback.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Iterator
from enum import StrEnum

from aiogram import Bot, Dispatcher
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramUnauthorizedError,
)
from aiogram.methods import SetWebhook
from pydantic import ValidationError

from bot.app import build_dispatcher, create_bot, create_health_probe, open_runtime
from bot.logs import setup_logging
from bot.settings import Settings, describe_error
from bot.web import HealthProbe, ListenError, create_web_app, serve_webhook, serving
from core.errors import RegisterFileError

log = logging.getLogger("bot")


class Mode(StrEnum):
    """How the process gets its updates. (Separate web and worker roles would go here.)"""

    POLLING = "polling"
    WEBHOOK = "webhook"


def choose_mode(settings: Settings) -> Mode:
    return Mode.WEBHOOK if settings.webhook_url else Mode.POLLING


def _one_line(error: TelegramAPIError, token: str) -> str:
    # An HTTP client's message may quote the request URL, which holds the token.
    return " ".join(error.message.replace(token, "<BOT_TOKEN>").split())


@contextlib.contextmanager
def stop_on_signals() -> Iterator[asyncio.Event]:
    """An event set by SIGINT or SIGTERM, for a graceful stop (polling handles its own)."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    signals = (signal.SIGINT, signal.SIGTERM)
    for signum in signals:
        loop.add_signal_handler(signum, stop.set)
    try:
        yield stop
    finally:
        for signum in signals:
            loop.remove_signal_handler(signum)


async def serve_polling(
    dispatcher: Dispatcher, bot: Bot, settings: Settings, health: HealthProbe
) -> None:
    # A webhook left by an earlier deployment would make every getUpdates fail with 409.
    await bot.delete_webhook(drop_pending_updates=False)
    async with serving(create_web_app(health), settings.web_host, settings.web_port):
        await dispatcher.start_polling(bot, allowed_updates=dispatcher.resolve_used_update_types())


async def run(settings: Settings, mode: Mode) -> None:
    runtime = await open_runtime(settings)
    bot = create_bot(settings)
    try:
        dispatcher = build_dispatcher(runtime, bot)
        health = create_health_probe(runtime)
        if mode is Mode.WEBHOOK:
            with stop_on_signals() as stop:
                await serve_webhook(dispatcher, bot, settings, health, stop)
        else:
            await serve_polling(dispatcher, bot, settings, health)
    finally:
        await bot.session.close()
        await runtime.close()


def describe_telegram_error(error: TelegramAPIError, settings: Settings) -> str:
    """One line for a Telegram error that stopped start-up."""
    if isinstance(error, TelegramUnauthorizedError):
        return (
            "BOT_TOKEN: Telegram rejected the token (401 Unauthorized);"
            " if it was revoked, @BotFather shows the current one"
        )
    reason = _one_line(error, settings.bot_token.get_secret_value() if settings.bot_token else "")
    if isinstance(error.method, SetWebhook):
        return f"WEBHOOK_URL: Telegram refused the webhook ({reason})"
    method = type(error.method).__name__
    return (
        f"Telegram: {method} failed at start-up ({reason}); check"
        f" TELEGRAM_API_BASE={settings.telegram_api_base} and BOT_TOKEN"
    )


def main() -> int:
    try:
        settings = Settings()
    except ValidationError as error:
        print(describe_error(error), file=sys.stderr)
        return 2
    setup_logging(settings.log_level)
    if settings.bot_token is None:
        from sandbox.launcher import run_sandbox  # only the sandbox needs it

        return run_sandbox(settings)
    try:
        asyncio.run(run(settings, choose_mode(settings)))
    except RegisterFileError as error:
        variable = "OFFICES_PATH" if error.path == str(settings.offices_path) else "REGISTRY_PATH"
        print(f"{variable}: {error}", file=sys.stderr)
        return 2
    except ListenError as error:
        print(error, file=sys.stderr)
        return 2
    except TelegramAPIError as error:
        print(describe_telegram_error(error, settings), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
