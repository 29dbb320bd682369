"""Retention of personal data: scans gone with the final status, the sweep, and erasure."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.models import (
    Application,
    ApplicationStatus,
    Citizen,
    DeliveryMethod,
    DestroyedData,
    Destruction,
    DestructionReason,
    NotificationKind,
    Passport,
    PendingEmail,
    SentReminder,
    StoredFile,
)
from core.restoration import RejectionReason, RestorationService
from core.retention import DataRetention, RetentionPeriods
from core.support import Conversation, ConversationStatus, RelayDirection, RelayedMessage
from tests.fakes import (
    FakeClock,
    FakeDialogDrafts,
    FakeFileVault,
    FakeFreedSpace,
    FakeRegister,
    FakeUnitOfWorkFactory,
)
from tests.unit.test_restoration import ENP, PERSON, TIMINGS, USER, make_draft

S = ApplicationStatus
D = DeliveryMethod
PERIODS = RetentionPeriods(
    draft=timedelta(days=7), application=timedelta(days=3 * 365), file_grace=timedelta(hours=1)
)
OTHER = 200


class Env:
    def __init__(self) -> None:
        self.clock = FakeClock()
        self.db = FakeUnitOfWorkFactory()
        self.vault = FakeFileVault(self.clock)
        self.dialogs = FakeDialogDrafts()
        self.freed = FakeFreedSpace()
        self.service = RestorationService(
            uow_factory=self.db,
            register=FakeRegister([PERSON]),
            clock=self.clock,
            timings=TIMINGS,
            vault=self.vault,
        )
        self.retention = DataRetention(
            uow_factory=self.db,
            restoration=self.service,
            vault=self.vault,
            dialogs=self.dialogs,
            clock=self.clock,
            periods=PERIODS,
            freed_space=self.freed,
        )

    async def submitted(self, delivery: D = D.POST, *, user_id: int = USER) -> Application:
        scan = await self.vault.put(b"passport photo", ".jpg")
        draft = make_draft(delivery, key=f"run-{scan.name}", user_id=user_id)
        draft.scan = scan
        await self.service.save_citizen(Citizen(user_id=user_id, locale="ru", enp=ENP))
        return await self.service.submit(draft)

    async def finish(self, application: Application) -> Application:
        for _ in range(5):
            pending = [a.next_action_at for a in self.db.applications() if a.next_action_at]
            if not pending:
                break
            self.clock.set(min(pending))
            await self.service.process_due()
        return await self.service.get(application.id)

    def destroyed(self) -> list[tuple[DestroyedData, DestructionReason, int | None, int]]:
        return [(d.what, d.reason, d.application_id, d.count) for d in self.db.destructions()]


@pytest.fixture
def env() -> Env:
    return Env()


# --- the scan goes with the final status --------------------------------------------------------


@pytest.mark.parametrize("delivery", list(D))
async def test_the_scan_is_destroyed_when_the_application_is_finished(
    env: Env, delivery: D
) -> None:
    application = await env.submitted(delivery)
    assert application.scan is not None and application.scan.name in env.vault.files

    finished = await env.finish(application)

    assert finished.status.is_final
    assert finished.scan is None
    assert finished.scan_destroyed_at == finished.updated_at
    assert env.vault.files == {}
    assert env.destroyed() == [
        (DestroyedData.SCAN, DestructionReason.FINAL_STATUS, application.id, 1)
    ]


async def test_the_scan_is_destroyed_when_an_operator_rejects(env: Env) -> None:
    application = await env.submitted()
    await env.service.reject(application.id, owner=USER, operator_id=5, reason="blurred photo")
    rejected = await env.service.get(application.id)
    assert rejected.scan is None and rejected.scan_destroyed_at is not None
    assert env.vault.files == {}


async def test_a_scan_sent_after_the_application_finished_is_not_kept(env: Env) -> None:
    application = await env.submitted()
    await env.service.reject(application.id, owner=USER, operator_id=5, reason="blurred")
    late = StoredFile("late.jpg", "c" * 64, 5)
    to_destroy = await env.service.replace_scan(application.id, late, user_id=USER)
    assert to_destroy == late
    assert (await env.service.get(application.id)).scan is None


# --- the sweep ----------------------------------------------------------------------------------


async def test_an_abandoned_dialog_goes_with_its_unsubmitted_scan(env: Env) -> None:
    draft_scan = await env.vault.put(b"draft", ".jpg")
    application = await env.submitted(user_id=OTHER)
    assert application.scan is not None
    env.dialogs.put(USER, env.clock.now(), draft_scan.name)
    env.dialogs.put(OTHER, env.clock.now(), application.scan.name)  # submitted: not the dialog's
    env.clock.advance(PERIODS.draft - timedelta(minutes=1))
    env.dialogs.put(300, env.clock.now())  # recent: stays

    report = await env.retention.sweep()
    assert (report.dialogs, report.dialog_scans) == (0, 0)
    env.clock.advance(timedelta(minutes=2))
    report = await env.retention.sweep()

    assert (report.dialogs, report.dialog_scans) == (2, 1)
    assert [r.user_id for r in env.dialogs.records.values()] == [300]
    assert set(env.vault.files) == {application.scan.name}
    assert (DestroyedData.DIALOG, DestructionReason.ABANDONED, None, 2) in env.destroyed()
    assert env.freed.wipes == 1


async def test_a_dialog_written_since_it_was_found_idle_is_kept(env: Env) -> None:
    record = env.dialogs.put(USER, env.clock.now())
    env.dialogs.put(USER, env.clock.now() + timedelta(days=30))  # the citizen came back
    assert not await env.dialogs.discard(record)


async def test_stray_and_temporary_files_go_once_older_than_the_grace(env: Env) -> None:
    application = await env.submitted()
    orphan = await env.vault.put(b"saved, then the bot crashed", ".jpg")
    temporary = env.vault.add_temporary(".incoming-old.tmp")
    env.clock.advance(PERIODS.file_grace + timedelta(seconds=1))
    young_orphan = await env.vault.put(b"being saved right now", ".jpg")
    young_temporary = env.vault.add_temporary(".incoming-new.tmp")
    in_dialog = await env.vault.put(b"a dialog's scan", ".jpg")
    env.vault.modified[in_dialog.name] = env.vault.modified[orphan.name]
    env.dialogs.put(300, env.clock.now(), in_dialog.name)

    report = await env.retention.sweep()

    assert (report.orphans, report.temporary) == (1, 1)
    assert application.scan is not None
    assert set(env.vault.files) == {application.scan.name, young_orphan.name, in_dialog.name}
    assert set(env.vault.temporary) == {young_temporary}
    assert temporary not in env.vault.temporary
    assert (DestroyedData.ORPHAN_FILE, DestructionReason.UNREFERENCED, None, 1) in env.destroyed()
    assert (
        DestroyedData.TEMPORARY_FILE,
        DestructionReason.UNREFERENCED,
        None,
        1,
    ) in env.destroyed()


async def test_a_finished_application_still_holding_a_scan_loses_it(env: Env) -> None:
    # Written by older code: final, with its scan.
    application = await env.submitted()
    async with env.db() as uow:
        stored = await uow.applications.get(application.id)
        assert stored is not None
        stored.status = S.REJECTED
        await uow.applications.update(stored)
        await uow.commit()

    report = await env.retention.sweep()

    assert report.scans == 1
    assert (await env.service.get(application.id)).scan is None
    assert env.vault.files == {}


async def test_applications_lose_the_person_after_the_retention_period(env: Env) -> None:
    done = await env.finish(await env.submitted(D.POST))
    rejected = await env.submitted(user_id=OTHER)
    await env.service.reject(rejected.id, owner=OTHER, operator_id=5, reason="Ivanov, old passport")
    in_progress = await env.submitted(user_id=300)

    env.clock.advance(PERIODS.application - timedelta(days=1))
    assert (await env.retention.sweep()).anonymised == 0
    env.clock.advance(timedelta(days=2))
    assert (await env.retention.sweep()).anonymised == 2

    for application_id in (done.id, rejected.id):
        kept = await env.service.get(application_id)
        assert (kept.user_id, kept.chat_id, kept.enp) == (0, 0, "")
        assert kept.passport == Passport("", "")
        assert kept.address is None and kept.postcode is None and kept.scan is None
        assert kept.anonymised_at == env.clock.now()
        assert kept.status.is_final and kept.number
        assert all(not c.actor.startswith("citizen:") for c in env.db.audit(application_id))
    assert (await env.service.get(rejected.id)).rejection_reason == "redacted"
    assert [c.reason for c in env.db.audit(rejected.id)][-1] == "redacted"
    assert [c.to_status for c in env.db.audit(done.id)] == [
        S.SUBMITTED,
        S.PROCESSING,
        S.APPROVED,
        S.SENT_BY_POST,
    ]
    untouched = await env.service.get(in_progress.id)
    assert untouched.anonymised_at is None and untouched.enp == ENP
    anonymised = [d for d in env.db.destructions() if d.what is DestroyedData.APPLICATION_PERSON]
    assert {d.application_id for d in anonymised} == {done.id, rejected.id}
    assert {d.reason for d in anonymised} == {DestructionReason.RETENTION_PERIOD}


async def test_a_rejection_code_survives_anonymisation(env: Env) -> None:
    application = await env.submitted()
    await env.service.save_citizen(Citizen(user_id=USER, locale="ru", enp=None))
    rejected = await env.finish(application)
    assert rejected.rejection_reason == RejectionReason.IDENTITY_NOT_CONFIRMED
    env.clock.advance(PERIODS.application + timedelta(days=1))
    await env.retention.sweep()
    assert (
        await env.service.get(application.id)
    ).rejection_reason == RejectionReason.IDENTITY_NOT_CONFIRMED


# --- erasure ------------------------------------------------------------------------------------


async def test_erasure_withdraws_the_unfinished_and_keeps_only_anonymised_records(
    env: Env,
) -> None:
    finished = await env.finish(await env.submitted(D.ELECTRONIC))
    in_progress = await env.submitted(D.POST)
    draft_scan = await env.vault.put(b"next journey's photo", ".jpg")
    env.dialogs.put(USER, env.clock.now(), draft_scan.name)
    env.dialogs.put(OTHER, env.clock.now())
    async with env.db() as uow:
        await uow.conversations.save(
            Conversation(
                USER,
                ConversationStatus.WITH_OPERATOR,
                env.clock.now(),
                thread_id=77,
                card_message_id=78,
            )
        )
        await uow.conversations.link(RelayedMessage(USER, 5, 6, RelayDirection.TO_OPERATORS))
        await uow.commit()

    erasure = await env.retention.erase_citizen(USER)

    assert erasure.found
    assert erasure.withdrawn == [in_progress.number]
    assert erasure.kept == [finished.number, in_progress.number]
    assert erasure.scans == 2
    assert env.vault.files == {}
    assert [r.user_id for r in env.dialogs.records.values()] == [OTHER]
    assert await env.service.get_citizen(USER) is None
    assert await env.service.applications_of(USER) == []
    withdrawn = await env.service.get(in_progress.id)
    assert withdrawn.status is S.WITHDRAWN and withdrawn.scan is None
    assert withdrawn.rejection_reason is None
    for application_id in (finished.id, in_progress.id):
        kept = await env.service.get(application_id)
        assert (kept.user_id, kept.enp, kept.address) == (0, "", None)
        assert all(c.actor in ("citizen", "system") for c in env.db.audit(application_id))
    assert env.db.audit(in_progress.id)[-1].reason == "consent_withdrawn"
    async with env.db() as uow:
        assert await uow.conversations.get(USER) is None
        assert await uow.conversations.by_citizen_message(USER, 5) is None
    rows = env.db.notifications()
    assert all(n.chat_id != USER for n in rows)
    (note,) = [n for n in rows if n.kind is NotificationKind.DESK_ERASED]
    assert note.chat_id == 0
    assert note.payload == {"thread_id": 77, "card_message_id": 78, "withdrawn": [in_progress.id]}
    destroyed = env.destroyed()
    assert (DestroyedData.CITIZEN, DestructionReason.CONSENT_WITHDRAWN, None, 1) in destroyed
    assert (DestroyedData.DIALOG, DestructionReason.CONSENT_WITHDRAWN, None, 1) in destroyed
    assert (
        DestroyedData.SCAN,
        DestructionReason.CONSENT_WITHDRAWN,
        in_progress.id,
        1,
    ) in destroyed
    assert env.freed.wipes == 1

    again = await env.retention.erase_citizen(USER)
    assert not again.found and again.kept == [] and again.withdrawn == []


async def test_erasing_someone_unknown_records_nothing(env: Env) -> None:
    erasure = await env.retention.erase_citizen(999)
    assert not erasure.found
    assert env.db.destructions() == []
    assert env.db.notifications() == []


def test_destruction_rows_never_name_a_person() -> None:
    fields = set(Destruction.__dataclass_fields__)
    assert fields == {"what", "reason", "at", "application_id", "count"}


async def test_erasure_forgets_the_reminders_sent_and_an_address_being_confirmed(
    env: Env,
) -> None:
    await env.submitted(D.POST)
    now = env.clock.now()
    async with env.db() as uow:
        await uow.reminders.record_sent(SentReminder(USER, "dialog", "run-1", 1, now))
        await uow.reminders.record_sent(SentReminder(OTHER, "dialog", "run-2", 1, now))
        await uow.emails.save(PendingEmail(USER, "ivan@example.ru", "123456", now))
        await uow.emails.save(PendingEmail(OTHER, "other@example.ru", "654321", now))
        await uow.commit()

    assert (await env.retention.erase_citizen(USER)).found

    async with env.db() as uow:
        assert await uow.reminders.sent(USER, "dialog", "run-1") is None
        assert await uow.emails.get(USER) is None
        assert await uow.reminders.sent(OTHER, "dialog", "run-2") is not None
        assert await uow.emails.get(OTHER) is not None
