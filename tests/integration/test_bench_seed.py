"""The benchmark's database seeding (bench/seed.py) writes rows the bot reads back as its own,
and its register (bench/register.py) passes the bot's loader: if storage changes shape, this
fails here rather than in a 20-minute `make bench`."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from aiogram.fsm.storage.base import StorageKey

from bench.register import person, write_register
from bench.seed import BOT_ID, seed
from core.models import ApplicationStatus, NotificationKind
from storage.database import Database
from storage.fsm import SqlFsmStorage
from storage.register import load_register
from storage.unit_of_work import SqlUnitOfWorkFactory


def test_bench_register_loads(tmp_path: Path) -> None:
    register = load_register(write_register(tmp_path / "register.csv", 50))
    assert len(register.people()) == 50
    found = register.by_phone(person(7).phone)
    assert found is not None and found.enp == person(7).enp
    assert str(found.passport).replace(" ", "") == person(7).passport.replace(" ", "")


async def test_seeded_applications_read_back(tmp_path: Path) -> None:
    register = write_register(tmp_path / "register.csv", 20)
    db_path = tmp_path / "bot.sqlite3"
    seeded = await seed(
        db_path, register, 20, applications=30, pending_waves=("submitted", "processing")
    )
    assert seeded.pending_notifications == 60
    db = await Database.open(db_path)
    try:
        factory = SqlUnitOfWorkFactory(db)
        user_id = seeded.user_ids[17]
        async with factory() as uow:
            [application] = await uow.applications.list_for_user(user_id)
            assert application.status is ApplicationStatus.READY
            assert application.number == seeded.numbers[user_id]
            assert application.enp == person(user_id % 20).enp
            assert len(await uow.audit.history(application.id)) == 4
            citizen = await uow.citizens.get(user_id)
            assert citizen is not None and citizen.enp == application.enp
            due = await uow.outbox.due(datetime.now(UTC), 1000)
        assert len(due) == 60
        assert {n.kind for n in due} == {NotificationKind.STATUS_CHANGED}
        assert [n.payload["status"] for n in due[:30]] == ["submitted"] * 30
        fsm = SqlFsmStorage(db)
        data = await fsm.get_data(StorageKey(bot_id=BOT_ID, chat_id=user_id, user_id=user_id))
        assert data["run_id"] == application.idempotency_key
    finally:
        await db.close()
