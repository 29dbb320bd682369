"""What retention needs from storage, one contract for SQLite and the in-memory fakes."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from core.errors import ApplicationNotFound
from core.models import (
    Application,
    ApplicationStatus,
    Citizen,
    DestroyedData,
    Destruction,
    DestructionReason,
    Notification,
    NotificationKind,
    Passport,
    StatusChange,
)
from core.ports import UnitOfWorkFactory
from core.support import Conversation, ConversationStatus, RelayDirection, RelayedMessage
from tests.integration.test_repositories import (
    NOW,
    add,
    make_draft,
)

S = ApplicationStatus
CODES = frozenset({"passport_mismatch"})


async def finish(
    factory: UnitOfWorkFactory, application_id: int, status: S, **changes: Any
) -> Application:
    async with factory() as uow:
        application = await uow.applications.get(application_id)
        assert application is not None
        application = replace(application, status=status, **changes)
        await uow.applications.update(application)
        await uow.commit()
    return application


async def test_the_scan_destruction_time_round_trips(uow_factory: UnitOfWorkFactory) -> None:
    added = await add(uow_factory, make_draft())
    done = await finish(uow_factory, added.id, S.REJECTED, scan=None, scan_destroyed_at=NOW)
    async with uow_factory() as uow:
        assert await uow.applications.get(added.id) == done


async def test_finished_applications_holding_scans_and_expired_ones_are_found(
    uow_factory: UnitOfWorkFactory,
) -> None:
    open_one = await add(uow_factory, make_draft("a"))
    with_scan = await add(uow_factory, make_draft("b"))
    await finish(uow_factory, with_scan.id, S.READY)
    without_scan = await add(uow_factory, make_draft("c"))
    await finish(uow_factory, without_scan.id, S.REJECTED, scan=None, updated_at=NOW)
    recent = await add(uow_factory, make_draft("d"))
    await finish(uow_factory, recent.id, S.REJECTED, scan=None, updated_at=NOW + timedelta(2))
    async with uow_factory() as uow:
        found = await uow.applications.finished_with_scan(10)
        assert [a.id for a in found] == [with_scan.id]
        expired = await uow.applications.expired(NOW + timedelta(1), 10)
        assert [a.id for a in expired] == [with_scan.id, without_scan.id]
        assert [a.id for a in await uow.applications.expired(NOW + timedelta(1), 1)] == [
            with_scan.id
        ]
        assert open_one.scan is not None
        assert await uow.applications.scan_names() == {open_one.scan.name}


async def test_anonymising_removes_the_person_and_keeps_status_and_dates(
    uow_factory: UnitOfWorkFactory,
) -> None:
    added = await add(uow_factory, make_draft())
    coded = await add(uow_factory, make_draft("coded"))
    await finish(uow_factory, added.id, S.REJECTED, rejection_reason="Иванов, паспорт старый")
    await finish(uow_factory, coded.id, S.REJECTED, rejection_reason="passport_mismatch")
    later = NOW + timedelta(days=1)
    async with uow_factory() as uow:
        for application_id in (added.id, coded.id):
            await uow.applications.anonymise(application_id, at=later, keep_reasons=CODES)
        with pytest.raises(ApplicationNotFound):
            await uow.applications.anonymise(999, at=later, keep_reasons=CODES)
        await uow.commit()
    async with uow_factory() as uow:
        kept = await uow.applications.get(added.id)
        other = await uow.applications.get(coded.id)
        assert await uow.applications.list_for_user(42) == []
    assert kept is not None and other is not None
    assert kept == replace(
        added,
        user_id=0,
        chat_id=0,
        enp="",
        passport=Passport("", ""),
        loss_reason_text=None,
        postcode=None,
        address=None,
        scan=None,
        policy_file_id=None,
        status=S.REJECTED,
        rejection_reason="redacted",
        anonymised_at=later,
    )
    assert other.rejection_reason == "passport_mismatch"


async def test_anonymising_the_audit_drops_the_citizen_and_free_text(
    uow_factory: UnitOfWorkFactory,
) -> None:
    app = await add(uow_factory, make_draft())
    other = await add(uow_factory, make_draft("other"))
    changes = [
        StatusChange(app.id, None, S.SUBMITTED, NOW, "citizen:42"),
        StatusChange(app.id, S.SUBMITTED, S.REJECTED, NOW, "operator:7", "Иванов И."),
        StatusChange(other.id, None, S.SUBMITTED, NOW, "citizen:42"),
        StatusChange(other.id, S.SUBMITTED, S.REJECTED, NOW, "system", "passport_mismatch"),
    ]
    async with uow_factory() as uow:
        for change in changes:
            await uow.audit.record(change)
        await uow.audit.anonymise(app.id, keep_reasons=CODES)
        await uow.audit.anonymise(other.id, keep_reasons=CODES)
        await uow.commit()
    async with uow_factory() as uow:
        assert list(await uow.audit.history(app.id)) == [
            replace(changes[0], actor="citizen"),
            replace(changes[1], reason="redacted"),
        ]
        assert list(await uow.audit.history(other.id)) == [
            replace(changes[2], actor="citizen"),
            changes[3],
        ]


async def test_destructions_are_recorded_in_order(uow_factory: UnitOfWorkFactory) -> None:
    app = await add(uow_factory, make_draft())
    rows = [
        Destruction(DestroyedData.SCAN, DestructionReason.FINAL_STATUS, NOW, app.id),
        Destruction(DestroyedData.ORPHAN_FILE, DestructionReason.UNREFERENCED, NOW, count=3),
    ]
    async with uow_factory() as uow:
        for row in rows:
            await uow.destructions.record(row)
        await uow.commit()
    async with uow_factory() as uow:
        assert list(await uow.destructions.history()) == rows


async def test_a_citizen_their_outbox_rows_and_conversation_are_deleted(
    uow_factory: UnitOfWorkFactory,
) -> None:
    async with uow_factory() as uow:
        await uow.citizens.save(Citizen(42, "ru", phone="+79990000001"))
        await uow.citizens.save(Citizen(43, "ru"))
        for chat_id, kind in (
            (42, NotificationKind.STATUS_CHANGED),
            (42, NotificationKind.DESK_CARD),
        ):
            await uow.outbox.add(Notification(chat_id, kind, {"application_id": 1}, created_at=NOW))
        await uow.outbox.add(Notification(43, NotificationKind.STATUS_CHANGED, created_at=NOW))
        await uow.conversations.save(
            Conversation(42, ConversationStatus.WAITING, NOW, thread_id=5, outsider_told=True)
        )
        await uow.conversations.save(Conversation(43, ConversationStatus.WAITING, NOW))
        await uow.conversations.link(RelayedMessage(42, 1, 2, RelayDirection.TO_OPERATORS))
        await uow.conversations.link(RelayedMessage(43, 1, 3, RelayDirection.TO_OPERATORS))
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.citizens.delete(42)
        assert not await uow.citizens.delete(42)
        assert await uow.outbox.delete_for_chat(42) == 2
        erased = await uow.conversations.erase(42)
        assert erased is not None and erased.thread_id == 5 and erased.outsider_told
        assert await uow.conversations.erase(42) is None
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.citizens.get(42) is None and await uow.citizens.get(43) is not None
        assert [n.chat_id for n in await uow.outbox.due(NOW, 10)] == [43]
        assert await uow.conversations.get(42) is None
        assert await uow.conversations.by_topic_message(2) is None
        assert await uow.conversations.by_topic_message(3) is not None
