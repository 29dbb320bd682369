"""The page server's own routes, in-process (no browser needed)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import date

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.i18n import load_catalog
from bot.settings import Settings
from sandbox.emulator import Emulator
from sandbox.launcher import (
    FIRST_PERSON_USER_ID,
    OPERATOR_NAME_KEYS,
    OPERATOR_USER_ID,
    SECOND_OPERATOR_USER_ID,
    demo_people,
    populate,
)
from sandbox.web.app import STATIC_DIR, DemoOperator, PageConfig, build_page_app

KEY = re.compile(r"['\"`](sandbox\.[a-z_.]*[a-z_])['\"`]")


@pytest.fixture
async def client() -> AsyncIterator[TestClient]:
    people = demo_people(Settings(_env_file=None))  # type: ignore[call-arg]
    config = PageConfig(
        people=people,
        support_chat_id=-1001000000001,
        operators=[
            DemoOperator(OPERATOR_USER_ID, "Anna"),
            DemoOperator(SECOND_OPERATOR_USER_ID, "Dmitry"),
        ],
        default_locale="ru",
        timezone="Asia/Vladivostok",
    )
    emu = Emulator()
    await emu.start()
    populate(emu, config, "Support")
    async with TestClient(TestServer(build_page_app(emu, config))) as test_client:
        yield test_client
    await emu.stop()


async def test_config_lists_every_demo_person_as_their_own_user(client: TestClient) -> None:
    config = await (await client.get("/sandbox/app/config")).json()
    people = config["people"]
    assert people[0]["user_id"] == FIRST_PERSON_USER_ID
    assert len({p["user_id"] for p in people}) == len(people) > 20
    first = people[0]
    # What a citizen knows by heart, and the phone the contact button will share.
    assert date.fromisoformat(first["birth_date"])
    assert len(first["passport_series"]) == 4 and len(first["passport_number"]) == 6
    assert first["phone"].startswith("+7")
    assert "enp" not in first and "snils" not in first
    assert config["operators"] == [
        {"user_id": OPERATOR_USER_ID, "first_name": "Anna"},
        {"user_id": SECOND_OPERATOR_USER_ID, "first_name": "Dmitry"},
    ]
    assert config["locales"] == ["ru", "en"]
    # The page shows times in the bot's TIMEZONE, not the browser's.
    assert config["timezone"] == "Asia/Vladivostok"


@pytest.mark.parametrize("locale", ["ru", "en"])
async def test_texts_are_the_sandbox_keys_of_the_locale_files(
    client: TestClient, locale: str
) -> None:
    texts = await (await client.get(f"/sandbox/app/texts/{locale}")).json()
    expected = {
        str(m.id): str(m.string)
        for m in load_catalog(locale)
        if str(m.id).startswith("sandbox.") and m.string
    }
    assert texts == expected
    assert "sandbox.chat.start" in texts
    assert (await client.get("/sandbox/app/texts/xx")).status == 404


def test_every_text_the_page_uses_exists() -> None:
    """Keys named in the page's HTML and JavaScript are all in both locale files."""
    used: set[str] = set()
    for path in [*STATIC_DIR.rglob("*.js"), *STATIC_DIR.rglob("*.html")]:
        used.update(KEY.findall(path.read_text(encoding="utf-8")))
    assert len(used) > 50
    for locale in ("ru", "en"):
        known = {str(m.id) for m in load_catalog(locale) if m.string}
        assert sorted(used - known) == []


async def test_sample_scan_is_a_jpeg(client: TestClient) -> None:
    response = await client.get("/sandbox/app/sample-scan.jpg?lang=en")
    assert response.status == 200
    assert response.content_type == "image/jpeg"
    assert (await response.read()).startswith(b"\xff\xd8")


async def test_page_and_control_api_share_one_origin(client: TestClient) -> None:
    page = await client.get("/")
    assert page.status == 200
    assert "/static/js/main.js" in await page.text()
    assert (await client.get("/static/js/main.js")).status == 200
    state = await (await client.get("/sandbox/api/state")).json()
    group = next(c for c in state["chats"] if c["chat"]["id"] == -1001000000001)
    assert group["chat"]["is_forum"] is True
    operators = {m["user"]["id"]: m for m in group["members"] if m["user"]["id"] != 0}
    assert {m["status"] for m in operators.values()} == {"administrator"}
    assert [m["user"]["first_name"] for m in operators.values()] == ["Anna", "Dmitry"]


def test_demo_operators_have_first_names_in_both_languages() -> None:
    """The citizen reads "operator Anna joined", never "operator Operator"."""
    names = {}
    for locale in ("ru", "en"):
        texts = {str(m.id): str(m.string) for m in load_catalog(locale)}
        names[locale] = [texts[k] for k in OPERATOR_NAME_KEYS.values()]
    assert names == {"ru": ["Анна", "Дмитрий"], "en": ["Anna", "Dmitry"]}
