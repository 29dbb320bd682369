"""Flood control: a person's updates over the limit are dropped before any work, with one
warning per flood, and nobody else is slowed down."""

from __future__ import annotations

import asyncio
from typing import Any, cast

from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.methods import SendMessage, TelegramMethod
from aiogram.types import Chat, Update, User

from bot.delivery import Delivery
from bot.i18n import create_texts
from bot.middlewares import FloodControl
from bot.ratelimit import LocalFloodCounter


class RecordingDelivery:
    def __init__(self) -> None:
        self.sent: list[SendMessage] = []

    async def send(self, method: TelegramMethod[Any], *, chat_id: int) -> Any:
        assert isinstance(method, SendMessage)
        self.sent.append(method)


def flood_control(limit: int, period: float) -> tuple[FloodControl, RecordingDelivery]:
    delivery = RecordingDelivery()
    control = FloodControl(
        counter=LocalFloodCounter(limit=limit, period=period),
        texts=create_texts(),
        delivery=cast(Delivery, delivery),
    )
    return control, delivery


async def feed(control: FloodControl, user_id: int, times: int, lang: str = "en") -> list[Any]:
    handled: list[Any] = []

    async def handler(event: Any, data: dict[str, Any]) -> str:
        handled.append(event)
        return "handled"

    user = User(id=user_id, is_bot=False, first_name="Ivan", language_code=lang)
    chat = Chat(id=user_id, type="private")
    results = []
    for n in range(times):
        data: dict[str, Any] = {"event_from_user": user, "event_chat": chat}
        results.append(await control(handler, Update(update_id=n), data))
    return results


async def test_updates_over_the_limit_are_dropped_with_one_warning() -> None:
    control, delivery = flood_control(limit=5, period=10)
    results = await feed(control, 1, 30)
    assert results[:5] == ["handled"] * 5
    assert results[5:] == [UNHANDLED] * 25
    texts = create_texts()
    assert [m.text for m in delivery.sent] == [texts.t("flood.warning", locale="en")]
    assert delivery.sent[0].chat_id == 1


async def test_others_are_not_limited_by_someone_elses_flood() -> None:
    control, _ = flood_control(limit=5, period=10)
    await feed(control, 1, 30)
    assert await feed(control, 2, 5) == ["handled"] * 5


async def test_after_a_calm_spell_updates_pass_and_a_new_flood_is_warned_again() -> None:
    control, delivery = flood_control(limit=2, period=0.2)
    await feed(control, 1, 6, lang="ru")
    await asyncio.sleep(0.45)  # the bucket drains, and the last drop is a period ago
    results = await feed(control, 1, 6, lang="ru")
    assert results[:2] == ["handled"] * 2 and UNHANDLED in results
    assert len(delivery.sent) == 2
    assert delivery.sent[0].text == create_texts().t("flood.warning", locale="ru")


async def test_updates_without_a_person_are_never_limited() -> None:
    control, _ = flood_control(limit=1, period=10)

    async def handler(event: Any, data: dict[str, Any]) -> str:
        return "handled"

    for n in range(5):
        assert await control(handler, Update(update_id=n), {}) == "handled"


async def test_a_bucket_left_alone_for_a_period_is_dropped_and_starts_afresh() -> None:
    counter = LocalFloodCounter(limit=2, period=0.05)
    assert [await counter.admit(1) for _ in range(3)] == [True, True, False]
    await asyncio.sleep(0.1)
    assert await counter.admit(2)  # any later update clears the idle ones
    assert list(counter._buckets) == [2]
    assert [await counter.admit(1) for _ in range(3)] == [True, True, False]
