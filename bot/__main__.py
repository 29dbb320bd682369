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
    AiogramError,
    ClientDecodeError,
    TelegramAPIError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.methods import SetWebhook
from pydantic import ValidationError

from bot.app import build_dispatcher, create_bot, create_health_probe, open_runtime
from bot.clock import FollowedClock, SandboxClockUnavailable
from bot.logs import setup_logging
from bot.settings import Settings, describe_error
from bot.web import HealthProbe, ListenError, create_web_app, serve_webhook, serving
from core.errors import RegisterFileError
from storage.keys import DataKeyError
from storage.postgres import DatabaseUnavailable

log = logging.getLogger("bot")
# getMe at start-up: each try gives up after this long (a silently dropped connection would
# otherwise wait for the session's 60 s), and waits between tries double up to this cap.
GET_ME_TIMEOUT_SECONDS = 10
MAX_RETRY_DELAY_SECONDS = 30.0


class Mode(StrEnum):
    """How the process gets its updates. (Separate web and worker roles would go here.)"""

    POLLING = "polling"
    WEBHOOK = "webhook"


def choose_mode(settings: Settings) -> Mode:
    return Mode.WEBHOOK if settings.webhook_url else Mode.POLLING


class TelegramUnreachable(Exception):
    """The Bot API did not answer at start-up, retries included; the message is one line."""


def retry_delays(budget: float) -> list[float]:
    """Waits between tries: 1, 2, 4, 8... s (at most MAX_RETRY_DELAY_SECONDS), summing to
    `budget` (the last one shortened to fit)."""
    delays: list[float] = []
    delay, left = 1.0, budget
    while left > 0:
        delays.append(min(delay, left))
        left -= delays[-1]
        delay = min(delay * 2, MAX_RETRY_DELAY_SECONDS)
    return delays


async def reach_telegram(bot: Bot, settings: Settings) -> None:
    """getMe, retried with backoff while the network or Telegram's servers fail. A refusal
    (401, 404...) is not retried: it raises at once."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    delays = retry_delays(settings.startup_retry_seconds)
    for attempt, delay in enumerate([*delays, None], start=1):
        try:
            await bot.get_me(request_timeout=GET_ME_TIMEOUT_SECONDS)
            return
        # Transient: the network, Telegram's servers, flood control, or something in between
        # (a proxy's error page) answering instead of the Bot API.
        except (
            TelegramNetworkError,
            TelegramServerError,
            TelegramRetryAfter,
            ClientDecodeError,
        ) as error:
            reason = _one_line(error, bot.token)
            if delay is None:
                raise TelegramUnreachable(
                    f"Telegram unreachable: getMe failed {attempt} time(s) in"
                    f" {loop.time() - started:.0f} s ({reason}); check the network and"
                    f" TELEGRAM_API_BASE={settings.telegram_api_base}"
                ) from error
            if isinstance(error, TelegramRetryAfter):
                delay = max(delay, float(error.retry_after))
            log.warning("Telegram unreachable (%s); retrying in %g s", reason, delay)
            await asyncio.sleep(delay)


def _one_line(error: AiogramError, token: str) -> str:
    if isinstance(error, TelegramRetryAfter):
        return f"flood control, retry after {error.retry_after} s"
    if isinstance(error, ClientDecodeError):
        return "the answer was not the Bot API's JSON"
    text = error.message if isinstance(error, TelegramAPIError) else str(error)
    if isinstance(error, TelegramServerError):
        text = f"server error: {text}"
    if token:  # an HTTP client's message may quote the request URL, which holds the token
        text = text.replace(token, "<BOT_TOKEN>")
    return " ".join(text.split())


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
    # The offline sandbox's movable clock (SANDBOX_CLOCK; refused outside loopback).
    clock = FollowedClock(settings.telegram_api_base) if settings.sandbox_clock else None
    if clock is not None:
        await clock.start()
    try:
        await _run(settings, mode, clock)
    finally:
        if clock is not None:
            await clock.stop()


async def _run(settings: Settings, mode: Mode, clock: FollowedClock | None) -> None:
    # Settings files first (register, offices, keys): a bad one stops start-up before any call.
    runtime = await open_runtime(settings, clock=clock)
    bot = create_bot(settings)
    try:
        await reach_telegram(bot, settings)
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


def describe_telegram_error(error: AiogramError, settings: Settings) -> str:
    """One line for a Telegram error that stopped start-up."""
    if isinstance(error, TelegramUnauthorizedError):
        return (
            "BOT_TOKEN: Telegram rejected the token (401 Unauthorized);"
            " if it was revoked, @BotFather shows the current one"
        )
    reason = _one_line(error, settings.bot_token.get_secret_value() if settings.bot_token else "")
    method = getattr(error, "method", None)
    if isinstance(method, SetWebhook):
        return f"WEBHOOK_URL: Telegram refused the webhook ({reason})"
    what = type(method).__name__ if method is not None else "a Bot API call"
    return (
        f"Telegram: {what} failed at start-up ({reason}); check"
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
    except DataKeyError as error:  # a damaged key file in DATA_DIR
        print(f"DATA_KEY: {error}", file=sys.stderr)
        return 2
    except DatabaseUnavailable as error:
        print(f"DATABASE_URL: {error}", file=sys.stderr)
        return 2
    except (TelegramUnreachable, ListenError, SandboxClockUnavailable) as error:
        print(error, file=sys.stderr)
        return 2
    except AiogramError as error:
        print(describe_telegram_error(error, settings), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
