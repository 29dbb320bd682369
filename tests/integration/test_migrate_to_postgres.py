"""python -m storage.migrate_to_postgres: a SQLite database's records, dialogs included, read
back the same from PostgreSQL."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiogram.fsm.storage.base import StorageKey

from core.models import Citizen, Notification, NotificationKind, StatusChange
from core.support import Conversation, ConversationStatus, RelayDirection, RelayedMessage
from storage.database import Database
from storage.engines import open_database, parse_database_url, sqlite_url
from storage.fsm import SqlFsmStorage
from storage.migrate_to_postgres import CopyRefused, copy_database, main
from storage.sql import SqlDatabase
from storage.unit_of_work import SqlUnitOfWorkFactory
from tests.integration.test_repositories import make_draft

NOW = datetime(2026, 11, 27, 9, 30, 15, 123456, tzinfo=UTC)
KEY = StorageKey(bot_id=1, chat_id=42, user_id=42)
DESK_KEY = StorageKey(bot_id=1, chat_id=-100500, user_id=900, thread_id=55)


async def fill(db: SqlDatabase) -> None:
    """One of everything the bot keeps."""
    async with SqlUnitOfWorkFactory(db)() as uow:
        application = await uow.applications.add(make_draft(), now=NOW)
        application.next_action_at = NOW + timedelta(seconds=3)
        await uow.applications.update(application)
        await uow.audit.record(
            StatusChange(application.id, None, application.status, NOW, "citizen:42")
        )
        await uow.citizens.save(
            Citizen(42, "ru", phone="+79990000001", consent_at=NOW, blocked_bot=True)
        )
        for i in range(3):
            kind = NotificationKind.STATUS_CHANGED
            await uow.outbox.add(Notification(42, kind, {"n": i, "t": "полис"}, created_at=NOW))
        await uow.outbox.mark_sent(1, at=NOW, message_id=77)
        await uow.conversations.save(
            Conversation(42, ConversationStatus.WITH_OPERATOR, NOW, 55, 56, 900, "Иван", "Анна")
        )
        await uow.conversations.link(RelayedMessage(42, 10, 500, RelayDirection.TO_OPERATORS))
        await uow.commit()
    fsm = SqlFsmStorage(db)
    await fsm.set_state(KEY, "Restore:summary")
    await fsm.set_data(KEY, {"answers": {"reason": "lost"}, "n": 1})
    await fsm.set_state(DESK_KEY, "Desk:reject_reason")


async def snapshot(db: SqlDatabase) -> dict[str, object]:
    async with SqlUnitOfWorkFactory(db)(read_only=True) as uow:
        [application] = await uow.applications.list_for_user(42)
        return {
            "application": application,
            "history": await uow.audit.history(application.id),
            "citizen": await uow.citizens.get(42),
            "outbox": await uow.outbox.due(NOW + timedelta(days=1), limit=10),
            "conversation": await uow.conversations.by_thread(55),
            "relayed": await uow.conversations.by_topic_message(500),
            "fsm": [
                await SqlFsmStorage(db).get_state(KEY),
                await SqlFsmStorage(db).get_data(KEY),
                await SqlFsmStorage(db).get_state(DESK_KEY),
                await SqlFsmStorage(db).get_state(replace(DESK_KEY, thread_id=None)),
            ],
        }


async def test_every_table_reads_back_the_same_from_postgresql(
    db: Database, db_path: Path, postgres_url: str
) -> None:
    await fill(db)
    async with db.transaction() as session:  # the newest outbox row was deleted: its id is gone
        await session.execute("DELETE FROM outbox WHERE id = 3")
    before = await snapshot(db)
    await db.close()

    copied = await copy_database(
        parse_database_url(sqlite_url(db_path)), parse_database_url(postgres_url)
    )

    assert copied["applications"] == 1 and copied["outbox"] == 2 and copied["fsm_state"] == 2
    target = await open_database(parse_database_url(postgres_url))
    try:
        assert await snapshot(target) == before
        async with SqlUnitOfWorkFactory(target)() as uow:  # ids go on, never reused
            added = await uow.applications.add(make_draft("after"), now=NOW)
            note = Notification(42, NotificationKind.STATUS_CHANGED)
            await uow.outbox.add(note)
            await uow.commit()
        assert (added.id, note.id) == (2, 4)
    finally:
        await target.close()


async def test_a_target_holding_records_is_refused(
    db: Database, db_path: Path, postgres_url: str
) -> None:
    await fill(db)
    await db.close()
    target = await open_database(parse_database_url(postgres_url))
    async with SqlUnitOfWorkFactory(target)() as uow:
        await uow.citizens.save(Citizen(1, "en"))
        await uow.commit()
    await target.close()
    with pytest.raises(CopyRefused, match="already holds"):
        await copy_database(
            parse_database_url(sqlite_url(db_path)), parse_database_url(postgres_url)
        )


def test_the_command_says_what_is_wrong_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = sqlite_url(tmp_path / "nothing.sqlite3")
    assert main(["--from", missing, "--to", "postgresql://bot@127.0.0.1:1/oms"]) == 2
    assert capsys.readouterr().err.strip().count("\n") == 0
    assert main(["--from", "mysql://x", "--to", "postgresql://bot@127.0.0.1:1/oms"]) == 2
    assert "expected sqlite:///" in capsys.readouterr().err
    assert not (tmp_path / "nothing.sqlite3").exists()


async def test_the_command_copies_and_counts(
    db: Database, db_path: Path, postgres_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    await fill(db)
    await db.close()
    # The command runs its own event loop: here, in a thread of its own.
    code = await asyncio.to_thread(main, ["--from", sqlite_url(db_path), "--to", postgres_url])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "applications: 1 rows" in out and "fsm_state: 2 rows" in out
