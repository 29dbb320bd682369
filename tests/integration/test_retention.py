"""The scans records still claim, on real SQLite: an application's, and a dialog's draft."""

from __future__ import annotations

from pathlib import Path

from aiogram.fsm.storage.base import StorageKey

from storage.database import Database
from storage.fsm import SqliteFsmStorage
from storage.retention import claimed_scans
from storage.unit_of_work import SqliteUnitOfWorkFactory
from tests.integration.test_repositories import NOW, make_draft


async def test_claimed_scans_are_applications_and_drafts(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "bot.sqlite3")
    try:
        async with SqliteUnitOfWorkFactory(db)() as uow:
            await uow.applications.add(make_draft(), now=NOW)
            await uow.commit()
        fsm = SqliteFsmStorage(db)
        draft = StorageKey(bot_id=1, chat_id=7, user_id=7)
        await fsm.set_data(draft, {"scan_name": "b" * 32 + ".pdf", "enp": "1"})
        await fsm.set_data(StorageKey(bot_id=1, chat_id=8, user_id=8), {"locale": "ru"})
        claimed = await claimed_scans(db)
        assert claimed == {make_draft().scan.name, "b" * 32 + ".pdf"}
    finally:
        await db.close()
