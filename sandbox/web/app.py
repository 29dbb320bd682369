"""The aiohttp app of the sandbox page.

Routes:
- ``/`` and ``/static/...``: the chat page (no build step, nothing fetched from the internet);
- ``/sandbox/app/config``: the demo people, the support group, the operators the page plays and
  the time zone its times show in;
- ``/sandbox/app/texts/{locale}``: the page's own texts (``sandbox.*`` keys of the locale files);
- ``/sandbox/app/sample-scan.jpg``: a fictitious passport picture to send with one click;
- ``/sandbox/app/mailbox``: what the bot emailed (the sandbox's own SMTP server), newest last,
  and ``/sandbox/app/mailbox/{seq}/{index}`` an attachment;
- ``/sandbox/api/...``: the emulator's control API, mounted here too (same origin as the page).
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web

from bot.i18n import LOCALES, load_catalog
from core.models import InsuredPerson
from sandbox.demo_scan import demo_passport_scan
from sandbox.emulator import Emulator
from sandbox.emulator.control import setup_control_routes
from sandbox.emulator.server import CLIENT_MAX_SIZE

if TYPE_CHECKING:
    from sandbox.mailbox import Mailbox

STATIC_DIR = Path(__file__).with_name("static")
TEXT_PREFIX = "sandbox."
# Edits to the page show on reload; nothing here is worth caching in a demo.
NO_CACHE = {"Cache-Control": "no-cache"}


@dataclass(frozen=True)
class DemoPerson:
    """A person of the demo register, played in the page as their own Telegram user."""

    user_id: int
    person: InsuredPerson

    def as_json(self) -> dict[str, Any]:
        p = self.person
        return {
            "user_id": self.user_id,
            "last_name": p.last_name,
            "first_name": p.first_name,
            "middle_name": p.middle_name or "",
            "sex": p.sex.value,
            "birth_date": p.birth_date.isoformat(),
            "passport_series": p.passport.series,
            "passport_number": p.passport.number,
            "phone": p.phone,
            "region": p.region,
        }


@dataclass(frozen=True)
class DemoOperator:
    """A support operator the page can play: a Telegram user administering the support forum."""

    user_id: int
    first_name: str

    def as_json(self) -> dict[str, Any]:
        return {"user_id": self.user_id, "first_name": self.first_name}


@dataclass(frozen=True)
class PageConfig:
    people: list[DemoPerson]
    support_chat_id: int
    operators: list[DemoOperator]
    default_locale: str
    # Message times show in the bot's TIMEZONE, as /status does, not in the browser's zone.
    timezone: str = "Europe/Moscow"

    def as_json(self) -> dict[str, Any]:
        return {
            "people": [p.as_json() for p in self.people],
            "support_chat_id": self.support_chat_id,
            "operators": [o.as_json() for o in self.operators],
            "default_locale": self.default_locale,
            "locales": list(LOCALES),
            "timezone": self.timezone,
        }


def page_texts(locale: str) -> dict[str, str]:
    """The ``sandbox.*`` texts of one locale, keyed by their full msgid."""
    return {
        str(m.id): str(m.string)
        for m in load_catalog(locale)
        if isinstance(m.id, str) and m.id.startswith(TEXT_PREFIX) and m.string
    }


def _json(body: Any) -> web.Response:
    return web.Response(
        text=json.dumps(body, ensure_ascii=False),
        content_type="application/json",
        headers=NO_CACHE,
    )


def build_page_app(
    emu: Emulator, config: PageConfig, mailbox: Mailbox | None = None
) -> web.Application:
    app = web.Application(client_max_size=CLIENT_MAX_SIZE)
    setup_control_routes(app, emu)
    texts = {locale: page_texts(locale) for locale in LOCALES}
    scans: dict[str, bytes] = {}

    async def index(request: web.Request) -> web.StreamResponse:
        return web.FileResponse(STATIC_DIR / "index.html", headers=NO_CACHE)

    async def config_route(request: web.Request) -> web.StreamResponse:
        return _json(config.as_json())

    async def texts_route(request: web.Request) -> web.StreamResponse:
        locale = request.match_info["locale"]
        if locale not in texts:
            raise web.HTTPNotFound(text=f"no locale {locale!r}")
        return _json(texts[locale])

    async def sample_scan(request: web.Request) -> web.StreamResponse:
        locale = request.query.get("lang", config.default_locale)
        if locale not in texts:
            locale = config.default_locale
        if locale not in scans:
            # Rendering takes a moment; keep the event loop (and the SSE streams) responsive.
            caption = texts[locale].get("sandbox.scan.stamp", "SAMPLE")
            scans[locale] = await asyncio.to_thread(demo_passport_scan, caption)
        return web.Response(body=scans[locale], content_type="image/jpeg", headers=NO_CACHE)

    async def mailbox_route(request: web.Request) -> web.StreamResponse:
        mails = [] if mailbox is None else [mail.as_json() for mail in mailbox.messages]
        return _json({"enabled": mailbox is not None, "messages": mails})

    async def attachment_route(request: web.Request) -> web.StreamResponse:
        seq, index = int(request.match_info["seq"]), int(request.match_info["index"])
        found = [m for m in (mailbox.messages if mailbox else []) if m.seq == seq]
        if not found or not 0 <= index < len(found[0].attachments):
            raise web.HTTPNotFound(text="no such attachment")
        part = found[0].attachments[index]
        return web.Response(
            body=part.data,
            content_type=part.content_type,
            headers={"Content-Disposition": f'attachment; filename="{part.filename}"'},
        )

    app.router.add_get("/", index)
    app.router.add_get("/sandbox/app/mailbox", mailbox_route)
    app.router.add_get("/sandbox/app/mailbox/{seq}/{index}", attachment_route)
    app.router.add_get("/sandbox/app/config", config_route)
    app.router.add_get("/sandbox/app/texts/{locale}", texts_route)
    app.router.add_get("/sandbox/app/sample-scan.jpg", sample_scan)
    app.router.add_static("/static/", STATIC_DIR, append_version=False)

    @web.middleware
    async def no_cache_static(request: web.Request, handler: Any) -> web.StreamResponse:
        response: web.StreamResponse = await handler(request)
        if request.path.startswith("/static/"):
            response.headers.update(NO_CACHE)
        return response

    app.middlewares.append(no_cache_static)
    return app
