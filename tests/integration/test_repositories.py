"""Repository contract, run over the in-memory fakes, SQLite and PostgreSQL so all keep one
behaviour (the uow_factory fixture is in conftest.py)."""

import asyncio
from datetime import UTC, datetime, timedelta, timezone

import pytest

from core.errors import ApplicationNotFound, DuplicateApplication
from core.models import (
    Application,
    ApplicationDraft,
    ApplicationStatus,
    Citizen,
    DeliveryMethod,
    LossReason,
    Notification,
    NotificationKind,
    Passport,
    StatusChange,
    StoredFile,
)
from core.ports import UnitOfWork, UnitOfWorkFactory

NOW = datetime(2026, 11, 27, 9, 30, 15, 123456, tzinfo=UTC)


def make_draft(key: str = "run-1", *, user_id: int = 42, **changes: object) -> ApplicationDraft:
    draft = ApplicationDraft(
        user_id=user_id,
        chat_id=user_id,
        enp="8451999122899990",
        loss_reason=LossReason.OTHER,
        loss_reason_text="забыл в такси",
        passport=Passport("4508", "123456"),
        scan=StoredFile(name="a" * 32 + ".jpg", sha256="b" * 64, size=12345),
        delivery=DeliveryMethod.POST,
        locale="ru",
        postcode="101000",
        address="г. Москва, ул. Примерная, д. 1, кв. 2",
        office_id=None,
        fee_paid_kopecks=15000,
        idempotency_key=key,
    )
    for name, value in changes.items():
        setattr(draft, name, value)
    return draft


async def add(
    factory: UnitOfWorkFactory, draft: ApplicationDraft, now: datetime = NOW
) -> Application:
    async with factory() as uow:
        application = await uow.applications.add(draft, now=now)
        await uow.commit()
    return application


async def test_added_application_reads_back_with_every_field(
    uow_factory: UnitOfWorkFactory,
) -> None:
    added = await add(uow_factory, make_draft())
    assert added.status is ApplicationStatus.SUBMITTED
    assert added.number == f"2611-{added.id:06d}"
    async with uow_factory() as uow:
        by_id = await uow.applications.get(added.id)
        by_number = await uow.applications.get_by_number(added.number)
        by_key = await uow.applications.get_by_idempotency_key("run-1")
    assert by_id == by_number == by_key == added
    assert by_id is not None
    assert by_id.created_at == NOW and by_id.created_at.tzinfo is not None
    assert by_id.loss_reason_text == "забыл в такси"
    assert by_id.fee_paid_kopecks == 15000
    assert by_id.scan == StoredFile(name="a" * 32 + ".jpg", sha256="b" * 64, size=12345)


async def test_an_application_is_added_with_its_first_next_action(
    uow_factory: UnitOfWorkFactory,
) -> None:
    due = NOW + timedelta(minutes=5)
    async with uow_factory() as uow:
        added = await uow.applications.add(make_draft(), now=NOW, next_action_at=due)
        await uow.commit()
    assert added.next_action_at == due
    async with uow_factory() as uow:
        assert await uow.applications.get(added.id) == added
        assert [a.id for a in await uow.applications.due(due, limit=10)] == [added.id]
        assert list(await uow.applications.due(due - timedelta(seconds=1), limit=10)) == []


async def test_update_round_trips_every_mutable_field(uow_factory: UnitOfWorkFactory) -> None:
    added = await add(uow_factory, make_draft(delivery=DeliveryMethod.PICKUP, office_id="msk-1"))
    later = NOW + timedelta(minutes=5)
    added.status = ApplicationStatus.REJECTED
    added.rejection_reason = "данные не совпали"
    added.updated_at = later
    added.next_action_at = later + timedelta(seconds=3)
    added.policy_file_id = "BQACAgIAAxkBAAI"
    added.operator_id = 777
    added.scan = None  # destroyed under the retention rule
    added.address = None
    added.postcode = None
    async with uow_factory() as uow:
        await uow.applications.update(added)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.applications.get(added.id) == added


async def test_other_time_zones_are_stored_as_utc(uow_factory: UnitOfWorkFactory) -> None:
    moscow = timezone(timedelta(hours=3))
    added = await add(uow_factory, make_draft(), now=NOW.astimezone(moscow))
    async with uow_factory() as uow:
        stored = await uow.applications.get(added.id)
    assert stored is not None and stored.created_at == NOW


async def test_update_of_a_missing_application_raises(uow_factory: UnitOfWorkFactory) -> None:
    added = await add(uow_factory, make_draft())
    added.id = 999
    async with uow_factory() as uow:
        with pytest.raises(ApplicationNotFound):
            await uow.applications.update(added)


async def test_idempotency_key_is_unique(uow_factory: UnitOfWorkFactory) -> None:
    first = await add(uow_factory, make_draft("same"))
    async with uow_factory() as uow:
        with pytest.raises(DuplicateApplication) as info:
            await uow.applications.add(make_draft("same"), now=NOW)
        assert info.value.idempotency_key == "same"
        assert await uow.applications.get_by_idempotency_key("same") == first
    async with uow_factory() as uow:
        assert await uow.applications.list_for_user(42) == [first]


async def test_missing_lookups_give_none(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        assert await uow.applications.get(1) is None
        assert await uow.applications.get_by_number("2611-000001") is None
        assert await uow.applications.get_by_idempotency_key("nope") is None
        assert await uow.citizens.get(1) is None
        assert await uow.audit.history(1) == []


async def test_list_for_user_is_oldest_first_and_only_theirs(
    uow_factory: UnitOfWorkFactory,
) -> None:
    a = await add(uow_factory, make_draft("k1"))
    await add(uow_factory, make_draft("k2", user_id=43))
    c = await add(uow_factory, make_draft("k3"), now=NOW - timedelta(days=40))
    async with uow_factory() as uow:
        mine = await uow.applications.list_for_user(42)
    assert [x.id for x in mine] == [a.id, c.id]
    assert c.number.startswith("2610-")


async def test_due_gives_come_next_actions_by_time_then_id_with_a_limit(
    uow_factory: UnitOfWorkFactory,
) -> None:
    apps = [await add(uow_factory, make_draft(f"k{i}")) for i in range(5)]
    plan = [NOW + timedelta(seconds=2), NOW - timedelta(seconds=1), None, NOW, NOW]
    async with uow_factory() as uow:
        for app, at in zip(apps, plan, strict=True):
            app.next_action_at = at
            await uow.applications.update(app)
        await uow.commit()
    async with uow_factory() as uow:
        due = await uow.applications.due(NOW, limit=10)
        assert [a.id for a in due] == [apps[1].id, apps[3].id, apps[4].id]
        assert [a.id for a in await uow.applications.due(NOW, limit=2)] == [apps[1].id, apps[3].id]
        later = await uow.applications.due(NOW + timedelta(seconds=2), limit=10)
        assert [a.id for a in later] == [apps[1].id, apps[3].id, apps[4].id, apps[0].id]


async def test_audit_history_is_in_recorded_order(uow_factory: UnitOfWorkFactory) -> None:
    app = await add(uow_factory, make_draft())
    other = await add(uow_factory, make_draft("other"))
    changes = [
        StatusChange(app.id, None, ApplicationStatus.SUBMITTED, NOW, "citizen:42"),
        StatusChange(other.id, None, ApplicationStatus.SUBMITTED, NOW, "citizen:42"),
        # an earlier timestamp recorded later still comes later: the trail is as written
        StatusChange(
            app.id,
            ApplicationStatus.SUBMITTED,
            ApplicationStatus.PROCESSING,
            NOW - timedelta(1),
            "system",
        ),
        StatusChange(
            app.id,
            ApplicationStatus.PROCESSING,
            ApplicationStatus.REJECTED,
            NOW + timedelta(seconds=1),
            "operator:7",
            reason="нет в регистре",
        ),
    ]
    async with uow_factory() as uow:
        for change in changes:
            await uow.audit.record(change)
        await uow.commit()
    async with uow_factory() as uow:
        assert list(await uow.audit.history(app.id)) == [changes[0], changes[2], changes[3]]
        assert list(await uow.audit.history(other.id)) == [changes[1]]


async def test_citizen_save_inserts_then_updates(uow_factory: UnitOfWorkFactory) -> None:
    citizen = Citizen(user_id=42, locale="ru")
    async with uow_factory() as uow:
        await uow.citizens.save(citizen)
        await uow.commit()
    full = Citizen(
        user_id=42,
        locale="en",
        phone="+79990000001",
        enp="8451999122899990",
        email="ivan@example.com",
        consent_at=NOW,
        blocked_bot=True,
    )
    async with uow_factory() as uow:
        assert await uow.citizens.get(42) == citizen
        await uow.citizens.save(full)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.citizens.get(42) == full


async def test_citizen_update_or_create_sets_only_the_named_fields(
    uow_factory: UnitOfWorkFactory,
) -> None:
    async with uow_factory() as uow:
        await uow.citizens.update_or_create(
            Citizen(user_id=7, locale="en", consent_at=NOW), ("consent_at",)
        )
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.citizens.get(7) == Citizen(user_id=7, locale="en", consent_at=NOW)
        stored = Citizen(
            user_id=8, locale="en", email="a@example.com", reminders_off=True, blocked_bot=True
        )
        await uow.citizens.save(stored)
        await uow.commit()
    login = Citizen(user_id=8, locale="ru", phone="+79990000001", enp="8451999122899990")
    async with uow_factory() as uow:
        await uow.citizens.update_or_create(login, ("phone", "enp"))
        await uow.commit()
    async with uow_factory() as uow:
        # The locale, email and flags of the stored profile are left as they were.
        assert await uow.citizens.get(8) == Citizen(
            user_id=8,
            locale="en",
            phone="+79990000001",
            enp="8451999122899990",
            email="a@example.com",
            reminders_off=True,
            blocked_bot=True,
        )
        with pytest.raises(ValueError, match="user_id"):
            await uow.citizens.update_or_create(login, ("user_id",))


async def outbox_ids(uow: UnitOfWork, now: datetime) -> list[int | None]:
    return [n.id for n in await uow.outbox.due(now, limit=100)]


async def test_outbox_due_postpone_sent_and_failed(uow_factory: UnitOfWorkFactory) -> None:
    notes = [
        Notification(
            chat_id=42,
            kind=NotificationKind.STATUS_CHANGED,
            payload={"number": "2611-000001", "n": 1},
        ),
        Notification(chat_id=43, kind=NotificationKind.POLICY_DOCUMENT, payload={"text": "полис"}),
        Notification(
            chat_id=44, kind=NotificationKind.STATUS_CHANGED, not_before=NOW + timedelta(minutes=1)
        ),
    ]
    async with uow_factory() as uow:
        for note in notes:
            await uow.outbox.add(note)
        await uow.commit()
    ids = [n.id for n in notes]
    assert all(isinstance(i, int) for i in ids) and len(set(ids)) == 3

    async with uow_factory() as uow:
        due = await uow.outbox.due(NOW, limit=100)
        assert [n.id for n in due] == ids[:2]
        assert due[0] == notes[0]
        assert due[1].payload == {"text": "полис"}
        assert await outbox_ids(uow, NOW + timedelta(minutes=1)) == ids
        assert [n.id for n in await uow.outbox.due(NOW, limit=1)] == ids[:1]

        await uow.outbox.postpone(ids[0], NOW + timedelta(seconds=30), "TelegramServerError")
        await uow.outbox.mark_sent(ids[1], at=NOW, message_id=501)
        await uow.commit()

    async with uow_factory() as uow:
        assert await outbox_ids(uow, NOW) == []
        retried = await uow.outbox.due(NOW + timedelta(seconds=30), limit=100)
        assert [(n.id, n.attempts, n.not_before) for n in retried] == [
            (ids[0], 1, NOW + timedelta(seconds=30))
        ]
        await uow.outbox.mark_failed(
            ids[0], "Forbidden: bot was blocked by the user", at=NOW + timedelta(seconds=30)
        )
        await uow.commit()

    async with uow_factory() as uow:
        assert await outbox_ids(uow, NOW + timedelta(days=1)) == [ids[2]]


async def test_outbox_payloads_of_finished_rows_are_cleared_after_retention(
    uow_factory: UnitOfWorkFactory,
) -> None:
    rows = [
        Notification(chat_id=42, kind=NotificationKind.STATUS_CHANGED, payload={"a": 1}),
        Notification(chat_id=43, kind=NotificationKind.POLICY_DOCUMENT, payload={"a": 2}),
        Notification(chat_id=44, kind=NotificationKind.DESK_NOTE, payload={"note": "x"}),
        Notification(chat_id=45, kind=NotificationKind.DESK_CARD, payload={"a": 3}),
    ]
    async with uow_factory() as uow:
        for row in rows:
            await uow.outbox.add(row)
        assert rows[0].id is not None and rows[1].id is not None and rows[2].id is not None
        await uow.outbox.mark_sent(rows[0].id, at=NOW, message_id=7)
        await uow.outbox.mark_failed(rows[1].id, "gone", at=NOW)
        await uow.outbox.mark_sent(rows[2].id, at=NOW + timedelta(days=2), message_id=None)
        await uow.commit()

    async with uow_factory() as uow:
        assert await uow.outbox.clear_payloads(NOW + timedelta(days=1)) == 2
        assert await uow.outbox.clear_payloads(NOW + timedelta(days=1)) == 0
        await uow.commit()

    async with uow_factory() as uow:
        # Only the pending row is still due, payload intact; finished rows are never due again.
        [pending] = await uow.outbox.due(NOW + timedelta(days=3), limit=10)
    assert (pending.id, pending.payload) == (rows[3].id, {"a": 3})


async def test_nothing_is_kept_without_commit(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        app = await uow.applications.add(make_draft(), now=NOW)
        await uow.outbox.add(Notification(chat_id=42, kind=NotificationKind.STATUS_CHANGED))
        await uow.citizens.save(Citizen(user_id=42, locale="ru"))
    async with uow_factory() as uow:
        assert await uow.applications.get(app.id) is None
        assert await uow.outbox.due(NOW, limit=10) == []
        assert await uow.citizens.get(42) is None


async def test_explicit_rollback_drops_what_came_before_it(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        await uow.citizens.save(Citizen(user_id=1, locale="ru"))
        await uow.rollback()
        await uow.citizens.save(Citizen(user_id=2, locale="ru"))
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.citizens.get(1) is None
        assert await uow.citizens.get(2) is not None


async def test_an_exception_rolls_back_and_propagates(uow_factory: UnitOfWorkFactory) -> None:
    with pytest.raises(LookupError):
        async with uow_factory() as uow:
            await uow.citizens.save(Citizen(user_id=1, locale="ru"))
            raise LookupError
    async with uow_factory() as uow:
        assert await uow.citizens.get(1) is None


async def test_a_unit_of_work_is_entered_once(uow_factory: UnitOfWorkFactory) -> None:
    uow = uow_factory()
    async with uow:
        pass
    with pytest.raises(RuntimeError):
        async with uow:
            pass


async def test_outbox_postponed_rows_are_those_waiting_for_a_retry(
    uow_factory: UnitOfWorkFactory,
) -> None:
    notes = [Notification(chat_id=chat, kind=NotificationKind.STATUS_CHANGED) for chat in (1, 2, 3)]
    async with uow_factory() as uow:
        for note in notes:
            await uow.outbox.add(note)
        await uow.commit()
    ids = [n.id for n in notes]
    async with uow_factory() as uow:
        await uow.outbox.postpone(ids[2], NOW + timedelta(seconds=30), "TelegramServerError")
        await uow.outbox.postpone(ids[0], NOW + timedelta(seconds=10), "TelegramServerError")
        await uow.commit()
    async with uow_factory() as uow:
        waiting = await uow.outbox.postponed(NOW)
        assert [(n.id, n.chat_id, n.attempts) for n in waiting] == [(ids[0], 1, 1), (ids[2], 3, 1)]
        assert [n.id for n in await uow.outbox.postponed(NOW + timedelta(seconds=10))] == ids[2:]
        assert await outbox_ids(uow, NOW) == ids[1:2]


async def test_claimed_rows_are_due_for_no_one_else_until_released_or_lapsed(
    uow_factory: UnitOfWorkFactory,
) -> None:
    notes = [Notification(chat_id=42 + i, kind=NotificationKind.STATUS_CHANGED) for i in range(3)]
    async with uow_factory() as uow:
        for note in notes:
            await uow.outbox.add(note)
        await uow.commit()
    until = NOW + timedelta(minutes=5)
    async with uow_factory() as uow:
        claimed = await uow.outbox.due(NOW, limit=2, claim_until=until)
        await uow.commit()
    assert [n.id for n in claimed] == [notes[0].id, notes[1].id]
    assert [n.not_before for n in claimed] == [None, None]  # their own, not the claim's

    async with uow_factory() as uow:
        assert await outbox_ids(uow, NOW) == [notes[2].id]
        await uow.outbox.release(claimed[1])
        await uow.commit()
    async with uow_factory() as uow:
        assert await outbox_ids(uow, NOW) == [notes[1].id, notes[2].id]
        # A claim that lapses (its sender died) makes the row due again.
        assert await outbox_ids(uow, until) == [n.id for n in notes]


async def test_a_finished_row_is_not_brought_back_by_release(
    uow_factory: UnitOfWorkFactory,
) -> None:
    async with uow_factory() as uow:
        await uow.outbox.add(Notification(chat_id=42, kind=NotificationKind.STATUS_CHANGED))
        await uow.commit()
    async with uow_factory() as uow:
        [row] = await uow.outbox.due(NOW, limit=5, claim_until=NOW + timedelta(minutes=5))
        assert row.id is not None
        await uow.outbox.mark_sent(row.id, at=NOW, message_id=9)
        await uow.outbox.release(row)
        await uow.commit()
    async with uow_factory() as uow:
        assert await outbox_ids(uow, NOW + timedelta(days=1)) == []


async def test_a_read_only_unit_of_work_reads_the_last_commit_and_cannot_commit(
    uow_factory: UnitOfWorkFactory,
) -> None:
    added = await add(uow_factory, make_draft())
    async with uow_factory(read_only=True) as uow:
        assert await uow.applications.get(added.id) == added
        assert await uow.applications.list_for_user(42) == [added]
        with pytest.raises(RuntimeError, match="read-only"):
            await uow.commit()


async def test_a_read_only_unit_of_work_does_not_wait_for_an_open_write(
    uow_factory: UnitOfWorkFactory,
) -> None:
    await add(uow_factory, make_draft())
    async with uow_factory() as writer:
        await writer.citizens.save(Citizen(user_id=42, locale="ru"))
        async with asyncio.timeout(2):  # the writer holds the write lock meanwhile
            async with uow_factory(read_only=True) as reader:
                assert await reader.citizens.get(42) is None  # not committed yet
                assert len(await reader.applications.list_for_user(42)) == 1
        await writer.commit()
    async with uow_factory(read_only=True) as reader:
        assert await reader.citizens.get(42) == Citizen(user_id=42, locale="ru")


async def test_claimed_rows_count_as_waiting_and_are_all_given_back_at_once(
    uow_factory: UnitOfWorkFactory,
) -> None:
    notes = [Notification(chat_id=7, kind=NotificationKind.STATUS_CHANGED) for _ in range(3)]
    async with uow_factory() as uow:
        for note in notes:
            await uow.outbox.add(note)
        await uow.commit()
    async with uow_factory() as uow:
        claimed = await uow.outbox.due(NOW, limit=2, claim_until=NOW + timedelta(minutes=5))
        await uow.commit()
    async with uow_factory() as uow:
        # Another sender sees them held, so it keeps the chat's later row back.
        assert [n.id for n in await uow.outbox.postponed(NOW)] == [n.id for n in claimed]
        # The sender that held them is gone: the one active sender takes them back at start.
        assert await uow.outbox.release_claims() == 2
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.outbox.postponed(NOW) == []
        assert await outbox_ids(uow, NOW) == [n.id for n in notes]
        assert await uow.outbox.release_claims() == 0


async def test_no_kinds_means_no_rows(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        await uow.outbox.add(Notification(chat_id=7, kind=NotificationKind.STATUS_CHANGED))
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.outbox.due(NOW, limit=5, kinds=(), claim_until=NOW) == []
