"""bot/web.py: /healthz's answers and the webhook's secret check, over HTTP in-process."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from aiogram import Bot, Dispatcher
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot import web as bot_web
from bot.web import Webhook, create_web_app


@dataclass(frozen=True)
class Backlog:
    pending: int
    lag_seconds: float


class Probe:
    def __init__(self, backlog: Backlog | None = None, error: Exception | None = None) -> None:
        self.backlog = backlog or Backlog(0, 0.0)
        self.error = error
        self.hang = False

    async def outbox_backlog(self) -> Backlog:
        if self.hang:
            await asyncio.sleep(60)
        if self.error is not None:
            raise self.error
        return self.backlog


HTTP = TestClient[web.Request, web.Application]
MESSAGE = {
    "update_id": 1,
    "message": {
        "message_id": 1,
        "date": 1_800_000_000,
        "chat": {"id": 7001, "type": "private", "first_name": "Ivan"},
        "text": "hello",
    },
}


@pytest.fixture
def probe() -> Probe:
    return Probe(Backlog(pending=3, lag_seconds=12.34567))


@pytest.fixture
async def http(probe: Probe) -> AsyncIterator[HTTP]:
    async with TestClient(TestServer(create_web_app(probe))) as client:
        yield client


async def test_healthz_reports_the_outbox_backlog(
    http: HTTP,
) -> None:
    answer = await http.get("/healthz")
    assert answer.status == 200
    assert await answer.json() == {
        "database": "ok",
        "outbox_pending": 3,
        "outbox_lag_seconds": 12.346,
    }


async def test_healthz_is_503_when_the_database_fails(http: HTTP, probe: Probe) -> None:
    probe.error = sqlite3.OperationalError("disk I/O error")
    answer = await http.get("/healthz")
    assert answer.status == 503
    assert await answer.json() == {"database": "error"}


async def test_healthz_is_503_when_the_database_does_not_answer_in_time(
    http: HTTP,
    probe: Probe,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(bot_web, "HEALTH_TIMEOUT_SECONDS", 0.05)
    probe.hang = True
    answer = await http.get("/healthz")
    assert answer.status == 503


async def test_the_webhook_route_wants_the_secret(probe: Probe) -> None:
    bot = Bot("123456:AAA-unit")
    webhook = Webhook(url="https://bot.example.org/tg/hook", path="/tg/hook", secret="right")
    app = create_web_app(probe, webhook=webhook, dispatcher=Dispatcher(), bot=bot)
    async with TestClient(TestServer(app)) as http:
        for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "wrong"}):
            answer = await http.post("/tg/hook", json=MESSAGE, headers=headers)
            assert answer.status == 401
        # With the secret the update is taken (this dispatcher has no handler for it).
        answer = await http.post(
            "/tg/hook", json=MESSAGE, headers={"X-Telegram-Bot-Api-Secret-Token": "right"}
        )
        assert answer.status == 200
        assert (await http.get("/healthz")).status == 200
    await bot.session.close()


def test_a_webhook_without_a_dispatcher_is_a_programming_error(probe: Probe) -> None:
    webhook = Webhook(url="https://bot.example.org/", path="/", secret="s")
    with pytest.raises(ValueError, match="dispatcher"):
        create_web_app(probe, webhook=webhook)
