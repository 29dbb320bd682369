"""The hot path keeps its SQLite statements few, and runs them on the event loop: a round trip to
aiosqlite's thread is left to background work. Counted by wrapping storage.database's one door
to sqlite3 (bench/counted_bot.py does the same for the running bot; bench/hops.py prints the
figures per step)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from aiogram.fsm.context import FSMContext
from aiogram.fsm.storage.base import StorageKey

import storage.database
from bench.counted_bot import count_statements
from bot.dialogs.answers import Answers, answers_from, save_answers
from bot.dialogs.flow import move
from bot.dialogs.restoration import Restoration
from core.models import Citizen
from storage.database import Database
from storage.fsm import SqlFsmStorage
from storage.unit_of_work import SqlUnitOfWorkFactory


@pytest.fixture
def hops() -> Iterator[list[str]]:
    """Each statement from now on, in order, with where it ran ("loop" or "thread"), and any
    other call on aiosqlite's thread."""
    seen: list[str] = []
    undo = count_statements(seen.append)
    yield seen
    undo()


async def test_a_statement_is_one_call_with_its_row_count(db: Database, hops: list[str]) -> None:
    async with db.connect() as session:
        await session.execute("CREATE TABLE t (n INTEGER)")
        hops.clear()
        inserted = await session.execute("INSERT INTO t (n) VALUES (1), (2), (3)")
        updated = await session.execute("UPDATE t SET n = n + 1 WHERE n > ?", (1,))
    assert (inserted, updated) == (3, 2)
    assert len(hops) == 2  # no separate hop to close each cursor


async def test_a_unit_of_work_begins_with_its_first_statement_and_not_again_after_commit(
    db: Database, hops: list[str]
) -> None:
    factory = SqlUnitOfWorkFactory(db)
    async with factory() as uow:
        assert await uow.citizens.get(7) is None
        await uow.citizens.save(Citizen(user_id=7, locale="ru"))
        await uow.commit()
    # BEGIN IMMEDIATE rides with the SELECT; nothing is begun after COMMIT only to roll back.
    assert hops == [
        "loop: SELECT user_id, locale, phone,",
        "loop: INSERT INTO citizens (user_id,",
        "loop: COMMIT",
    ]
    async with factory(read_only=True) as uow:
        assert await uow.citizens.get(7) == Citizen(user_id=7, locale="ru")


async def test_a_transaction_costs_no_statement_to_begin(db: Database, hops: list[str]) -> None:
    async with db.transaction() as session:
        await session.execute("CREATE TABLE t (n INTEGER)")
        await session.execute("INSERT INTO t (n) VALUES (1)")
    assert len(hops) == 3  # the two statements, then COMMIT
    async with db.connect() as session:
        assert await session.fetch_value("SELECT n FROM t") == 1


async def test_a_step_with_new_answers_is_one_statement(db: Database, hops: list[str]) -> None:
    fsm = SqlFsmStorage(db)
    state = FSMContext(fsm, StorageKey(bot_id=1, chat_id=5, user_id=5))
    await save_answers(state, Answers(locale="ru", run_id="run"))
    await state.set_state(Restoration.reason)
    hops.clear()
    answers = answers_from(await state.get_data())
    answers.reason_text = "lost on the bus"

    await move(state, Restoration.passport_number, answers)

    assert len(hops) == 1  # state and answers in one statement, read from the cache
    fresh = FSMContext(SqlFsmStorage(db), state.key)  # nothing cached
    assert await fresh.get_state() == Restoration.passport_number.state
    assert answers_from(await fresh.get_data()).reason_text == "lost on the bus"


async def test_consent_and_login_are_one_statement_and_the_commit(
    db: Database, hops: list[str]
) -> None:
    # The write lock is held from the first statement to COMMIT, and under load each round
    # trip waits for the event loop: no read before the write keeps that short.
    factory = SqlUnitOfWorkFactory(db)
    citizen = Citizen(user_id=7, locale="ru", phone="+79990000001", enp="8451999122899990")
    async with factory() as uow:
        await uow.citizens.update_or_create(citizen, ("phone", "enp"))
        await uow.commit()
    assert hops == ["loop: INSERT INTO citizens (user_id,", "loop: COMMIT"]
    async with factory(read_only=True) as uow:
        assert await uow.citizens.get(7) == citizen


@pytest.mark.parametrize("data", [{}, {"run_id": "run"}])
async def test_leaving_the_dialog_is_one_statement(
    db: Database, hops: list[str], data: dict[str, str]
) -> None:
    # At submit the dialog's state is cleared (its answers kept): known from the cache, the
    # record is updated, or dropped when nothing is left in it, in one statement.
    state = FSMContext(SqlFsmStorage(db), StorageKey(bot_id=1, chat_id=5, user_id=5))
    await state.set_data(data)
    await state.set_state(Restoration.summary)
    hops.clear()

    await state.set_state(None)

    assert len(hops) == 1
    fresh = FSMContext(SqlFsmStorage(db), state.key)
    assert (await fresh.get_state(), await fresh.get_data()) == (None, data)
    async with db.connect() as session:
        rows = await session.fetch_value("SELECT COUNT(*) FROM fsm_state")
    assert rows == (1 if data else 0)


async def test_background_work_runs_its_statements_in_aiosqlites_thread(
    db: Database, hops: list[str]
) -> None:
    async def background() -> None:
        storage.database.statements_off_loop()
        async with SqlUnitOfWorkFactory(db)() as uow:
            await uow.citizens.save(Citizen(user_id=7, locale="ru"))
            await uow.commit()

    await asyncio.create_task(background())
    assert hops == ["thread: INSERT INTO citizens (user_id,", "thread: COMMIT"]
    hops.clear()
    # Only that task (and those it starts): an update's statements stay on the loop.
    async with SqlUnitOfWorkFactory(db)(read_only=True) as uow:
        assert await uow.citizens.get(7) == Citizen(user_id=7, locale="ru")
    assert hops == ["loop: SELECT user_id, locale, phone,", "loop: ROLLBACK"]


async def test_wiping_the_log_after_an_erasure_never_runs_on_the_event_loop(
    db: Database, hops: list[str]
) -> None:
    # /forget_me asks for it while handling an update: the checkpoint copies and syncs files.
    await db.wipe()
    assert hops == ["thread: PRAGMA wal_checkpoint(TRUNCATE)"]
