"""The bot's HTTP server (aiohttp): GET /healthz always, and Telegram's webhook in webhook mode.

Telegram posts only to HTTPS URLs: a TLS proxy in front forwards WEBHOOK_URL to
WEB_HOST:WEB_PORT with the same path. Every request must carry the secret given to setWebhook
(https://core.telegram.org/bots/api#setwebhook); aiogram's handler answers 401 to any other.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Protocol

from aiogram import Bot, Dispatcher
from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application
from aiohttp import web

from bot.settings import HEALTH_PATH, Settings

log = logging.getLogger(__name__)
# Docker's HEALTHCHECK gives up after its own timeout; answer 503 before that.
HEALTH_TIMEOUT_SECONDS = 3.0
# Long enough for an update being received to be acknowledged, short enough for a restart.
SHUTDOWN_TIMEOUT_SECONDS = 5.0


class OutboxBacklog(Protocol):
    @property
    def pending(self) -> int: ...

    @property
    def lag_seconds(self) -> float: ...


class HealthProbe(Protocol):
    async def outbox_backlog(self) -> OutboxBacklog:
        """Raises when the database does not answer."""
        ...


@dataclass(frozen=True)
class Webhook:
    """Where Telegram posts updates, the path this server takes them on, and their secret."""

    url: str
    path: str
    secret: str = field(repr=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> Webhook:
        assert settings.webhook_url is not None
        secret = (
            settings.webhook_secret.get_secret_value()
            if settings.webhook_secret is not None
            # Unset: a new one per start; setWebhook at start-up hands it to Telegram.
            else secrets.token_urlsafe(32)
        )
        return cls(url=settings.webhook_url, path=settings.webhook_path, secret=secret)


class ListenError(Exception):
    """The server could not listen; the message is the one line start-up prints."""


_HEALTH_PROBE = web.AppKey("health_probe", HealthProbe)


def create_web_app(
    health: HealthProbe,
    *,
    webhook: Webhook | None = None,
    dispatcher: Dispatcher | None = None,
    bot: Bot | None = None,
) -> web.Application:
    """/healthz; with `webhook`, also the update route, and the dispatcher's startup and
    shutdown tied to the server's."""
    app = web.Application()
    app[_HEALTH_PROBE] = health
    app.router.add_get(HEALTH_PATH, healthz)
    if webhook is not None:
        if dispatcher is None or bot is None:
            raise ValueError("a webhook needs the dispatcher and the bot")
        # First, so its shutdown (waiting for updates in flight, stopping the workers) runs
        # before the request handler's, which closes the bot's session.
        setup_application(app, dispatcher, bot=bot)
        # In the background, as polling does: Telegram gets its 200 at once.
        handler = SimpleRequestHandler(dispatcher, bot, secret_token=webhook.secret)
        handler.register(app, path=webhook.path)
    return app


async def healthz(request: web.Request) -> web.Response:
    probe = request.app[_HEALTH_PROBE]
    try:
        async with asyncio.timeout(HEALTH_TIMEOUT_SECONDS):
            backlog = await probe.outbox_backlog()
    except Exception as error:  # any failure is "unhealthy", never a 500 page
        log.warning("health check: the database did not answer (%s)", type(error).__name__)
        return web.json_response({"database": "error"}, status=503)
    return web.json_response(
        {
            "database": "ok",
            "outbox_pending": backlog.pending,
            "outbox_lag_seconds": round(backlog.lag_seconds, 3),
        }
    )


@asynccontextmanager
async def serving(app: web.Application, host: str, port: int) -> AsyncIterator[None]:
    """Listen on host:port for the duration of the block (the app's startup runs first)."""
    runner = web.AppRunner(
        app, access_log=None, handle_signals=False, shutdown_timeout=SHUTDOWN_TIMEOUT_SECONDS
    )
    await runner.setup()
    try:
        try:
            await web.TCPSite(runner, host, port).start()
        except OSError as error:
            raise ListenError(
                f"WEB_HOST, WEB_PORT: cannot listen on {host}:{port} ({error.strerror or error})"
            ) from error
        log.info("HTTP server on %s:%s (%s)", host, port, HEALTH_PATH)
        yield
    finally:
        await runner.cleanup()


async def serve_webhook(
    dispatcher: Dispatcher,
    bot: Bot,
    settings: Settings,
    health: HealthProbe,
    stop: asyncio.Event,
) -> None:
    """Serve the webhook until `stop` is set. The webhook is registered only once the server
    listens, and left in place at exit, so Telegram keeps updates for the next start."""
    webhook = Webhook.from_settings(settings)
    app = create_web_app(health, webhook=webhook, dispatcher=dispatcher, bot=bot)
    async with serving(app, settings.web_host, settings.web_port):
        await bot.set_webhook(
            webhook.url,
            secret_token=webhook.secret,
            allowed_updates=dispatcher.resolve_used_update_types(),
            drop_pending_updates=False,
        )
        log.info("webhook set: Telegram posts updates to WEBHOOK_URL")
        await stop.wait()
