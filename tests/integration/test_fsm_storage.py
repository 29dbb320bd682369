"""One contract suite over aiogram's MemoryStorage, SqlFsmStorage on SQLite and on PostgreSQL, and
RedisDialogStorage: they must agree."""

from collections.abc import AsyncIterator
from dataclasses import replace

import pytest
from aiogram.exceptions import DataNotDictLikeError
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.fsm.storage.base import BaseStorage, StorageKey
from aiogram.fsm.storage.memory import MemoryStorage
from redis.asyncio import Redis

from storage.engines import open_database, parse_database_url
from storage.fsm import SqlFsmStorage, storage_key_id
from storage.redis_fsm import RedisDialogStorage
from storage.sql import SqlDatabase
from tests.integration.conftest import DIALOG_STORES, empty_dialog_store_url, open_dialog_storage


class Restore(StatesGroup):
    passport = State()
    delivery = State()


KEY = StorageKey(bot_id=1, chat_id=-100500, user_id=42)


@pytest.fixture(params=["memory", *DIALOG_STORES])
def backend_url(request: pytest.FixtureRequest) -> str | None:
    return None if request.param == "memory" else empty_dialog_store_url(request.param, request)


@pytest.fixture
async def storage(backend_url: str | None) -> AsyncIterator[BaseStorage]:
    if backend_url is None:
        memory = MemoryStorage()
        yield memory
        await memory.close()
        return
    fsm = await open_dialog_storage(backend_url)
    yield fsm
    await fsm.close()


async def test_a_new_key_has_no_state_and_no_data(storage: BaseStorage) -> None:
    assert await storage.get_state(KEY) is None
    assert await storage.get_data(KEY) == {}
    assert await storage.get_value(KEY, "missing") is None
    assert await storage.get_value(KEY, "missing", "fallback") == "fallback"


async def test_state_as_state_object_or_string(storage: BaseStorage) -> None:
    await storage.set_state(KEY, Restore.passport)
    assert await storage.get_state(KEY) == "Restore:passport"
    await storage.set_state(KEY, "Restore:delivery")
    assert await storage.get_state(KEY) == Restore.delivery.state


async def test_clearing_the_state_keeps_the_data(storage: BaseStorage) -> None:
    await storage.set_state(KEY, Restore.passport)
    await storage.set_data(KEY, {"enp": "8451999122899990"})
    await storage.set_state(KEY, None)
    assert await storage.get_state(KEY) is None
    assert await storage.get_data(KEY) == {"enp": "8451999122899990"}


async def test_clearing_the_data_keeps_the_state(storage: BaseStorage) -> None:
    await storage.set_state(KEY, Restore.passport)
    await storage.set_data(KEY, {"a": 1})
    await storage.set_data(KEY, {})
    assert await storage.get_data(KEY) == {}
    assert await storage.get_state(KEY) == "Restore:passport"


async def test_set_data_replaces_and_update_data_merges(storage: BaseStorage) -> None:
    await storage.set_data(KEY, {"a": 1, "b": 2})
    await storage.set_data(KEY, {"c": 3})
    assert await storage.get_data(KEY) == {"c": 3}
    merged = await storage.update_data(KEY, {"d": [1, 2], "c": "три"})
    assert merged == {"c": "три", "d": [1, 2]}
    assert await storage.get_data(KEY) == merged
    assert await storage.get_value(KEY, "c") == "три"


async def test_update_data_on_a_new_key_creates_it(storage: BaseStorage) -> None:
    assert await storage.update_data(KEY, {"x": None}) == {"x": None}
    assert await storage.get_data(KEY) == {"x": None}


async def test_returned_data_is_a_copy(storage: BaseStorage) -> None:
    original = {"answers": {"reason": "lost"}, "n": 1}
    await storage.set_data(KEY, original)
    original["n"] = 2
    got = await storage.get_data(KEY)
    got["n"] = 3
    returned = await storage.update_data(KEY, {"m": 0})
    returned["n"] = 4
    assert await storage.get_data(KEY) == {"answers": {"reason": "lost"}, "n": 1, "m": 0}


async def test_json_values_round_trip(storage: BaseStorage) -> None:
    data = {
        "text": "Иванов Иван «Иванович» 🙂",
        "int": -100123456789,
        "float": 1.5,
        "bool": True,
        "none": None,
        "list": [1, "two", {"three": 3}],
        "nested": {"a": {"b": []}},
    }
    await storage.set_data(KEY, data)
    assert await storage.get_data(KEY) == data


async def test_non_dict_data_is_refused(storage: BaseStorage) -> None:
    with pytest.raises(DataNotDictLikeError):
        await storage.set_data(KEY, [("a", 1)])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "other",
    [
        replace(KEY, bot_id=2),
        replace(KEY, chat_id=42),
        replace(KEY, user_id=43),
        replace(KEY, thread_id=7),
        replace(KEY, thread_id=0),
        replace(KEY, business_connection_id="bc-1"),
        replace(KEY, business_connection_id=""),
        replace(KEY, destiny="desk"),
    ],
    ids=lambda key: storage_key_id(key),
)
async def test_every_key_field_separates_records(storage: BaseStorage, other: StorageKey) -> None:
    await storage.set_state(KEY, Restore.passport)
    await storage.set_data(KEY, {"who": "key"})
    assert await storage.get_state(other) is None
    assert await storage.get_data(other) == {}

    await storage.set_state(other, Restore.delivery)
    await storage.set_data(other, {"who": "other"})
    assert await storage.get_state(KEY) == "Restore:passport"
    assert await storage.get_data(KEY) == {"who": "key"}
    assert await storage.get_state(other) == "Restore:delivery"
    assert await storage.get_data(other) == {"who": "other"}


async def test_fsm_context_clear(storage: BaseStorage) -> None:
    context = FSMContext(storage=storage, key=KEY)
    await context.set_state(Restore.passport)
    await context.update_data(reason="lost")
    await context.update_data({"delivery": "post"}, postcode="101000")
    assert await context.get_data() == {"reason": "lost", "delivery": "post", "postcode": "101000"}
    await context.clear()
    assert await context.get_state() is None
    assert await context.get_data() == {}


# ---------------------------------------------------------------- each engine


async def test_state_and_data_survive_closing_and_reopening_the_database(
    database_url: str,
) -> None:
    url = parse_database_url(database_url)
    forum_key = replace(KEY, thread_id=12, destiny="desk")
    fsm = SqlFsmStorage(await open_database(url), close_database=True)
    await fsm.set_state(forum_key, Restore.delivery)
    await fsm.set_data(forum_key, {"reason": "stolen", "answers": [1, 2]})
    await fsm.close()

    fsm = SqlFsmStorage(await open_database(url), close_database=True)
    try:
        assert await fsm.get_state(forum_key) == "Restore:delivery"
        assert await fsm.get_data(forum_key) == {"reason": "stolen", "answers": [1, 2]}
        assert await fsm.get_state(KEY) is None
    finally:
        await fsm.close()


async def count_rows(db: SqlDatabase) -> int:
    async with db.connect() as session:
        return int(await session.fetch_value("SELECT count(*) FROM fsm_state"))


async def test_a_cleared_key_leaves_no_row_behind(database: SqlDatabase) -> None:
    fsm = SqlFsmStorage(database)
    await fsm.set_state(KEY, Restore.passport)
    await fsm.set_data(KEY, {"a": 1})
    assert await count_rows(database) == 1
    await FSMContext(storage=fsm, key=KEY).clear()
    assert await count_rows(database) == 0


async def test_state_and_data_written_at_once_read_back_as_if_written_apart(
    database_url: str,
) -> None:
    url = parse_database_url(database_url)
    fsm = SqlFsmStorage(await open_database(url), close_database=True)
    await fsm.set_state(KEY, Restore.passport)
    await fsm.set_data(KEY, {"reason": "lost"})
    await fsm.set_state_and_data(KEY, Restore.delivery, {"reason": "stolen", "n": [1]})
    other = replace(KEY, user_id=43)
    await fsm.set_state_and_data(other, None, {"kept": True})  # a new record, no state
    with pytest.raises(DataNotDictLikeError):
        await fsm.set_state_and_data(KEY, None, [("a", 1)])  # type: ignore[arg-type]
    await fsm.close()

    fsm = SqlFsmStorage(await open_database(url), close_database=True)  # nothing cached
    try:
        assert await fsm.get_state(KEY) == "Restore:delivery"
        assert await fsm.get_data(KEY) == {"reason": "stolen", "n": [1]}
        assert (await fsm.get_state(other), await fsm.get_data(other)) == (None, {"kept": True})
        await fsm.set_state_and_data(KEY, None, {})  # the same as no record
        await fsm.set_state_and_data(other, "Restore:passport", {})
        assert await fsm.get_state(KEY) is None and await fsm.get_data(KEY) == {}
        assert (await fsm.get_state(other), await fsm.get_data(other)) == ("Restore:passport", {})
    finally:
        await fsm.close()
    database = await open_database(url)
    try:
        assert await count_rows(database) == 1
    finally:
        await database.close()


async def test_close_leaves_a_shared_database_open(database: SqlDatabase) -> None:
    fsm = SqlFsmStorage(database)
    await fsm.close()
    assert await database.schema_version() > 0


@pytest.fixture(params=["postgresql", "redis"])
def shared_url(request: pytest.FixtureRequest) -> str:
    """A dialog store several bot processes may share."""
    return empty_dialog_store_url(request.param, request)


async def test_processes_sharing_a_store_see_each_others_dialogs(shared_url: str) -> None:
    """Nothing is cached across processes: SQLite's cache would serve a stale dialog here."""
    first = await open_dialog_storage(shared_url)
    second = await open_dialog_storage(shared_url)
    try:
        assert await second.get_state(KEY) is None
        await first.set_state(KEY, Restore.passport)
        await first.update_data(KEY, {"reason": "lost"})
        assert await second.get_state(KEY) == "Restore:passport"
        assert await second.get_data(KEY) == {"reason": "lost"}
        await second.set_state(KEY, None)
        assert await first.get_state(KEY) is None
    finally:
        await first.close()
        await second.close()


async def test_delete_for_user_forgets_every_dialog_of_that_person(
    database: SqlDatabase,
) -> None:
    fsm = SqlFsmStorage(database)
    await fsm.set_data(KEY, {"passport": "4508 123456"})
    await fsm.set_state(replace(KEY, thread_id=5), Restore.passport)
    await fsm.set_state(replace(KEY, user_id=7), Restore.passport)
    assert await fsm.delete_for_user(42) == 2
    assert await fsm.get_data(KEY) == {}
    assert await fsm.get_state(replace(KEY, user_id=7)) == "Restore:passport"


async def test_dialogs_in_redis_survive_a_new_client(redis_url: str) -> None:
    forum_key = replace(KEY, thread_id=12, destiny="desk")
    fsm = await open_dialog_storage(redis_url)
    await fsm.set_state(forum_key, Restore.delivery)
    await fsm.set_data(forum_key, {"reason": "stolen", "answers": [1, 2]})
    await fsm.close()

    fsm = await open_dialog_storage(redis_url)
    try:
        assert await fsm.get_state(forum_key) == "Restore:delivery"
        assert await fsm.get_data(forum_key) == {"reason": "stolen", "answers": [1, 2]}
        assert await fsm.get_state(replace(forum_key, thread_id=None)) is None
    finally:
        await fsm.close()


async def test_close_leaves_a_shared_redis_client_open(redis_url: str) -> None:
    client = Redis.from_url(redis_url)
    try:
        await RedisDialogStorage(client).close()
        assert await client.ping()
    finally:
        await client.aclose()
