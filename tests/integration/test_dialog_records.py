"""What retention and reminders read from a dialog storage besides aiogram's calls
(storage.fsm.DialogRecords): one contract for SqlFsmStorage on SQLite and PostgreSQL and for
RedisDialogStorage, each write stamped by the injected clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import pytest
from aiogram.fsm.context import FSMContext
from aiogram.fsm.storage.base import StorageKey

from bot.dialogs.drafts import StoredDialogs
from core.models import DialogSnapshot
from storage.fsm import SqlFsmStorage, storage_key_id
from storage.redis_fsm import RedisDialogStorage
from tests.fakes import FakeClock
from tests.integration.conftest import DIALOG_STORES, empty_dialog_store_url, open_dialog_storage

# Microseconds on purpose: each store must give the stamp back exactly.
START = datetime(2026, 11, 27, 9, 30, 15, 123456, tzinfo=UTC)
HOUR = timedelta(hours=1)


def private(user_id: int) -> StorageKey:
    return StorageKey(bot_id=1, chat_id=user_id, user_id=user_id)


@dataclass
class Dialogs:
    fsm: SqlFsmStorage | RedisDialogStorage
    clock: FakeClock


@pytest.fixture(params=DIALOG_STORES)
def store_url(request: pytest.FixtureRequest) -> str:
    return empty_dialog_store_url(request.param, request)


@pytest.fixture
async def store(store_url: str) -> AsyncIterator[Dialogs]:
    clock = FakeClock(START)
    fsm = await open_dialog_storage(store_url, clock=clock)
    yield Dialogs(fsm, clock)
    await fsm.close()


async def test_idle_records_are_those_written_before_then_with_their_stamp(store: Dialogs) -> None:
    await store.fsm.set_data(private(1), {"scan_name": "a.jpg"})
    store.clock.advance(HOUR)
    await store.fsm.set_state(private(2), "Restoration:reason")
    await store.fsm.set_state(private(1), "Restoration:delivery")  # moves 1 on too
    store.clock.advance(HOUR)
    await store.fsm.set_state(private(3), "Restoration:reason")

    assert await store.fsm.idle_records(START + HOUR) == []
    idle = await store.fsm.idle_records(START + HOUR + timedelta(microseconds=1))
    assert sorted((r.user_id, r.chat_id, r.data, r.updated_at) for r in idle) == [
        (1, 1, {"scan_name": "a.jpg"}, START + HOUR),
        (2, 2, {}, START + HOUR),
    ]
    assert {r.key for r in idle} == {storage_key_id(private(1)), storage_key_id(private(2))}


async def test_a_record_written_after_it_was_read_is_not_deleted(store: Dialogs) -> None:
    await store.fsm.set_data(private(1), {"locale": "ru"})
    await store.fsm.set_data(private(2), {"locale": "en"})
    store.clock.advance(8 * 24 * HOUR)
    first, second = sorted(await store.fsm.idle_records(store.clock.now()), key=lambda r: r.user_id)
    await store.fsm.update_data(private(1), {"enp": "0040106028104484"})  # came back meanwhile

    assert not await store.fsm.delete_if_unchanged(first.key, first.updated_at)
    assert await store.fsm.get_data(private(1)) == {"locale": "ru", "enp": "0040106028104484"}
    assert await store.fsm.delete_if_unchanged(second.key, second.updated_at)
    assert not await store.fsm.delete_if_unchanged(second.key, second.updated_at)
    assert await store.fsm.get_data(private(2)) == {}
    assert [r.user_id for r in await store.fsm.idle_records(store.clock.now() + HOUR)] == [1]


async def test_data_values_are_the_distinct_texts_of_one_field(store: Dialogs) -> None:
    await store.fsm.set_data(private(1), {"scan_name": "a.jpg"})
    await store.fsm.set_data(private(2), {"scan_name": "a.jpg", "other": "b.jpg"})
    await store.fsm.set_data(replace(private(3), chat_id=-100), {"scan_name": "c.jpg"})
    await store.fsm.set_data(private(4), {"scan_name": ""})
    await store.fsm.set_data(private(5), {"scan_name": 7})
    await store.fsm.set_data(private(6), {"scan_name": {"nested": "d.jpg"}})
    assert await store.fsm.data_values("scan_name") == {"a.jpg", "c.jpg"}
    assert await store.fsm.data_values("missing") == set()


async def test_a_persons_every_record_is_found_and_forgotten(store: Dialogs) -> None:
    mine = [
        private(42),
        replace(private(42), chat_id=-100, thread_id=5),
        replace(private(42), bot_id=2),
    ]
    for key in mine:
        await store.fsm.set_data(key, {"passport": "4508 123456"})
    await store.fsm.set_state(private(7), "Restoration:reason")

    found = await store.fsm.records_of_user(42)
    assert sorted(r.key for r in found) == sorted(storage_key_id(k) for k in mine)
    assert {r.updated_at for r in found} == {START}
    dialogs = StoredDialogs(store.fsm)
    assert len(await dialogs.erase_user(42)) == 3
    for key in mine:
        assert await store.fsm.get_data(key) == {}
    assert await store.fsm.records_of_user(42) == []
    assert await store.fsm.delete_for_user(42) == 0
    assert [r.user_id for r in await store.fsm.idle_records(START + HOUR)] == [7]
    assert await store.fsm.get_state(private(7)) == "Restoration:reason"


async def test_reminders_see_private_dialogs_with_a_state_longest_idle_first(
    store: Dialogs,
) -> None:
    await store.fsm.set_state(private(2), "Restoration:delivery")
    await store.fsm.set_data(private(2), {"run": "r2"})
    store.clock.advance(HOUR)
    await store.fsm.set_state(private(1), "Restoration:reason")
    # Not a citizen's own dialog with the bot, or no state: never reminded.
    await store.fsm.set_state(replace(private(3), chat_id=-100), "Desk:reject_reason")
    await store.fsm.set_state(replace(private(4), thread_id=9), "Restoration:reason")
    await store.fsm.set_state(replace(private(5), business_connection_id="bc"), "X:y")
    await store.fsm.set_data(private(6), {"locale": "ru"})
    store.clock.advance(HOUR)
    await store.fsm.set_state(private(7), "Restoration:reason")

    assert await store.fsm.dialogs() == [
        DialogSnapshot(2, "Restoration:delivery", {"run": "r2"}, START),
        DialogSnapshot(1, "Restoration:reason", {}, START + HOUR),
        DialogSnapshot(7, "Restoration:reason", {}, START + 2 * HOUR),
    ]
    assert [d.user_id for d in await store.fsm.dialogs(idle_since=START + HOUR)] == [2, 1]
    assert [d.user_id for d in await store.fsm.dialogs(idle_since=START)] == [2]
    assert [d.user_id for d in await store.fsm.dialogs(user_id=7)] == [7]
    assert await store.fsm.dialogs(user_id=7, idle_since=START + HOUR) == []
    assert await store.fsm.dialogs(user_id=3) == []

    # Clearing the state (the dialog finished) keeps the data but ends the reminders.
    await store.fsm.set_state(private(2), None)
    assert [d.user_id for d in await store.fsm.dialogs()] == [1, 7]


async def test_a_cleared_record_leaves_nothing_behind(store: Dialogs) -> None:
    await store.fsm.set_state(private(1), "Restoration:reason")
    await store.fsm.set_data(private(1), {"scan_name": "a.jpg"})
    await FSMContext(storage=store.fsm, key=private(1)).clear()
    assert await store.fsm.idle_records(START + HOUR) == []
    assert await store.fsm.records_of_user(1) == []
    assert await store.fsm.dialogs() == []
    assert await store.fsm.data_values("scan_name") == set()
    if isinstance(store.fsm, RedisDialogStorage):
        assert await store.fsm.redis.dbsize() == 0  # no index entry, no empty set
