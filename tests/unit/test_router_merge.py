"""bot.handlers.merge: one router out of several, the same handler winning as when included."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from aiogram import Bot, Dispatcher, F, Router
from aiogram.filters import Command
from aiogram.types import Chat, Message, Update, User

from bot.handlers import get_routers
from bot.handlers.merge import merged


def _update(text: str) -> Update:
    return Update(
        update_id=1,
        message=Message(
            message_id=1,
            date=datetime.now(UTC),
            chat=Chat(id=5, type="private"),
            from_user=User(id=5, is_bot=False, first_name="A"),
            text=text,
        ),
    )


def _routers() -> tuple[Router, Router, Router]:
    commands, steps, fallback = Router(name="commands"), Router(name="steps"), Router(name="rest")

    @commands.message(Command("cancel"))
    async def cancel(message: Message) -> str:
        return "cancel"

    @steps.message(F.text.startswith("4"))
    async def passport(message: Message) -> str:
        return "passport"

    @steps.message(F.text)
    async def any_text(message: Message) -> str:
        return "any text"

    @fallback.message()
    async def hint(message: Message) -> str:
        return "hint"

    return commands, steps, fallback


async def _route(router: Router, text: str) -> Any:
    dp = Dispatcher()
    dp.include_router(router)
    return await dp.feed_update(Bot("123:abc"), _update(text))


@pytest.mark.parametrize(
    ("text", "expected"),
    [("/cancel", "cancel"), ("4508 123456", "passport"), ("hello", "any text")],
)
async def test_the_first_matching_handler_in_the_given_order_wins(text: str, expected: str) -> None:
    included = Router(name="included")
    included.include_routers(*_routers())
    assert await _route(included, text) == expected
    assert await _route(merged("merged", *_routers()), text) == expected


async def test_handlers_keep_the_order_of_routers_and_within_each() -> None:
    router = merged("merged", *_routers())
    names = [h.callback.__name__ for h in router.message.handlers]
    assert names == ["cancel", "passport", "any_text", "hint"]


def test_a_router_whose_filters_or_middlewares_would_be_lost_is_refused() -> None:
    filtered = Router(name="filtered")
    filtered.message.filter(F.chat.type == "private")
    with pytest.raises(ValueError, match="filtered"):
        merged("merged", filtered)

    with_middleware = Router(name="with_middleware")
    with_middleware.callback_query.outer_middleware(lambda handler, event, data: None)
    with pytest.raises(ValueError, match="with_middleware"):
        merged("merged", with_middleware)

    parent = Router(name="parent")
    parent.include_router(Router(name="child"))
    with pytest.raises(ValueError, match="parent"):
        merged("merged", parent)


def test_the_bot_routes_through_three_routers_and_can_be_assembled_twice() -> None:
    # Module routers are copied, not attached: a second dispatcher (tests, the web and worker
    # roles) can assemble them again.
    first, second = get_routers(-100), get_routers(-100)
    assert [r.name for r in first] == ["service", "operator", "citizen"]
    assert all(not r.sub_routers for r in first + second)
