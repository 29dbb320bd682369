"""How long personal data is kept, and its destruction (152-FZ).

- A passport scan goes when its application reaches a final status (core/restoration.py).
- The sweep (run periodically by the bot) deletes dialogs left untouched for a while with their
  answers and any scan never submitted, files no record refers to (a crash between storing a file
  and saving the dialog, or between a commit and the file's deletion), temporary files of
  interrupted writes, and removes the person from applications finished longer ago than the
  retention period, keeping their number, statuses and dates.
- A citizen who withdraws consent (/forget_me) has everything about them deleted at once; an
  application still in progress is withdrawn, and its anonymised record stays for the audit.

Every destruction is recorded in the destruction log, which never names the person.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from core.models import (
    Application,
    ApplicationStatus,
    DestroyedData,
    Destruction,
    DestructionReason,
    Notification,
    NotificationKind,
    StoredFile,
)
from core.ports import Clock, DialogDrafts, FileVault, FreedSpace, UnitOfWork, UnitOfWorkFactory
from core.restoration import RejectionReason, RestorationService
from core.workflow import citizen_actor

log = logging.getLogger(__name__)

# Reasons that are codes, not anyone's words: they stay in an anonymised record.
KEPT_REASONS = frozenset({*RejectionReason, DestructionReason.CONSENT_WITHDRAWN.value})
ERASED_CHAT = 0  # the chat of rows about a citizen who is no longer named anywhere


@dataclass(frozen=True, slots=True)
class RetentionPeriods:
    draft: timedelta  # a dialog untouched this long is deleted
    application: timedelta  # a finished application keeps the person this long
    file_grace: timedelta  # a younger stray file may be an upload still being saved


@dataclass(slots=True)
class SweepReport:
    """What one sweep destroyed, by kind."""

    scans: int = 0  # scans of finished applications (left by a crash or older code)
    dialogs: int = 0
    dialog_scans: int = 0
    orphans: int = 0
    temporary: int = 0
    anonymised: int = 0

    @property
    def total(self) -> int:
        return (
            self.scans
            + self.dialogs
            + self.dialog_scans
            + self.orphans
            + self.temporary
            + self.anonymised
        )


@dataclass(slots=True)
class Erasure:
    """What erasing a citizen's data did, to tell them."""

    withdrawn: list[str] = field(default_factory=list)  # numbers of applications withdrawn
    kept: list[str] = field(default_factory=list)  # numbers kept as anonymised records
    scans: int = 0  # passport scan files destroyed
    found: bool = False  # there was anything about the person at all


class DataRetention:
    def __init__(
        self,
        *,
        uow_factory: UnitOfWorkFactory,
        restoration: RestorationService,
        vault: FileVault,
        dialogs: DialogDrafts,
        clock: Clock,
        periods: RetentionPeriods,
        freed_space: FreedSpace | None = None,
        batch: int = 200,
    ) -> None:
        self._uow_factory = uow_factory
        self._restoration = restoration
        self._vault = vault
        self._dialogs = dialogs
        self._clock = clock
        self._periods = periods
        self._freed_space = freed_space
        self._batch = batch

    # --- the periodic sweep -------------------------------------------------------------

    async def sweep(self) -> SweepReport:
        """One pass of every rule; safe to repeat and to interrupt (each step commits alone)."""
        report = SweepReport()
        report.scans = await self._finished_scans()
        report.dialogs, report.dialog_scans = await self._idle_dialogs()
        report.anonymised = await self._expired_applications()
        report.orphans, report.temporary = await self._stray_files()
        if report.total:
            log.info(
                "retention: %d scans, %d dialogs (%d scans), %d stray and %d temporary files"
                " destroyed; %d applications anonymised",
                report.scans,
                report.dialogs,
                report.dialog_scans,
                report.orphans,
                report.temporary,
                report.anonymised,
            )
            if self._freed_space is not None:
                await self._freed_space.wipe()
        return report

    async def _finished_scans(self) -> int:
        """Finished applications still holding a scan lose it (the final status normally takes
        it in the same transaction; this catches records written before that rule)."""
        now = self._clock.now()
        async with self._uow_factory() as uow:
            applications = await uow.applications.finished_with_scan(self._batch)
            scans = [await self._drop_scan(uow, a, now) for a in applications]
            await uow.commit()
        await self._delete_files(scans)
        return len(scans)

    @staticmethod
    async def _drop_scan(uow: UnitOfWork, application: Application, now: datetime) -> StoredFile:
        assert application.scan is not None
        scan, application.scan = application.scan, None
        application.scan_destroyed_at = application.scan_destroyed_at or now
        await uow.applications.update(application)
        await uow.destructions.record(
            Destruction(DestroyedData.SCAN, DestructionReason.FINAL_STATUS, now, application.id)
        )
        return scan

    async def _idle_dialogs(self) -> tuple[int, int]:
        now = self._clock.now()
        idle = await self._dialogs.idle(now - self._periods.draft)
        if not idle:
            return 0, 0
        async with self._uow_factory() as uow:
            submitted = await uow.applications.scan_names()
        dialogs, scans = 0, set()
        for record in idle:
            if not await self._dialogs.discard(record):
                continue  # written meanwhile: the citizen is back
            dialogs += 1
            if record.scan_name and record.scan_name not in submitted:
                scans.add(record.scan_name)
        await self._delete_names(scans)
        await self._record(
            Destruction(DestroyedData.DIALOG, DestructionReason.ABANDONED, now, count=dialogs)
        )
        return dialogs, len(scans)

    async def _expired_applications(self) -> int:
        now = self._clock.now()
        async with self._uow_factory() as uow:
            expired = await uow.applications.expired(now - self._periods.application, self._batch)
            for application in expired:
                await self._anonymise(uow, application, DestructionReason.RETENTION_PERIOD, now)
            await uow.commit()
        await self._delete_files([a.scan for a in expired])
        return len(expired)

    async def _stray_files(self) -> tuple[int, int]:
        now = self._clock.now()
        # The listing first, the references after: a file stored in between is too young to
        # be touched anyway.
        entries = await self._vault.inventory()
        old = [e for e in entries if e.modified_at < now - self._periods.file_grace]
        if not old:
            return 0, 0
        async with self._uow_factory() as uow:
            referenced = await uow.applications.scan_names()
        referenced |= await self._dialogs.scan_names()
        orphans = [e.name for e in old if not e.temporary and e.name not in referenced]
        temporary = [e.name for e in old if e.temporary]
        await self._delete_names(orphans + temporary)
        await self._record(
            Destruction(
                DestroyedData.ORPHAN_FILE, DestructionReason.UNREFERENCED, now, count=len(orphans)
            ),
            Destruction(
                DestroyedData.TEMPORARY_FILE,
                DestructionReason.UNREFERENCED,
                now,
                count=len(temporary),
            ),
        )
        return len(orphans), len(temporary)

    # --- a citizen withdraws consent ------------------------------------------------------

    async def erase_citizen(self, user_id: int) -> Erasure:
        """Delete everything about the person: profile, dialogs, scans, conversation and relay
        links, notifications; withdraw an unfinished application; keep each application only
        as an anonymised record (number, statuses, dates). Repeating it is harmless."""
        erasure = Erasure()
        now = self._clock.now()
        dialogs = await self._dialogs.erase_user(user_id)
        scans: set[str] = {r.scan_name for r in dialogs if r.scan_name}
        async with self._uow_factory() as uow:
            withdrawn_ids = []
            for application in await uow.applications.list_for_user(user_id):
                if application.scan is not None:
                    scans.add(application.scan.name)
                if not application.status.is_final:
                    await self._restoration.change_in(
                        uow,
                        application,
                        ApplicationStatus.WITHDRAWN,
                        actor=citizen_actor(user_id),
                        reason=DestructionReason.CONSENT_WITHDRAWN.value,
                    )
                    erasure.withdrawn.append(application.number)
                    withdrawn_ids.append(application.id)
                await self._anonymise(uow, application, DestructionReason.CONSENT_WITHDRAWN, now)
                erasure.kept.append(application.number)
            conversation = await uow.conversations.erase(user_id)
            # Pending and delivered rows alike: the chat id itself names the person.
            await uow.outbox.delete_for_chat(user_id)
            # What reminders and email confirmation keep of the person goes too.
            reminded = await uow.reminders.erase(user_id)
            pending_email = await uow.emails.get(user_id)
            await uow.emails.delete(user_id)
            profile = await uow.citizens.delete(user_id)
            erasure.found = bool(
                profile or dialogs or conversation or erasure.kept or reminded or pending_email
            )
            if conversation is not None or withdrawn_ids:
                # Operators learn of it; their copy of the conversation goes with the topic.
                await uow.outbox.add(
                    Notification(
                        chat_id=ERASED_CHAT,
                        kind=NotificationKind.DESK_ERASED,
                        payload={
                            "thread_id": conversation.thread_id if conversation else None,
                            "card_message_id": conversation.card_message_id
                            if conversation
                            else None,
                            "withdrawn": withdrawn_ids,
                        },
                        created_at=now,
                    )
                )
            if erasure.found:
                await uow.destructions.record(
                    Destruction(DestroyedData.CITIZEN, DestructionReason.CONSENT_WITHDRAWN, now)
                )
            if dialogs:
                await uow.destructions.record(
                    Destruction(
                        DestroyedData.DIALOG,
                        DestructionReason.CONSENT_WITHDRAWN,
                        now,
                        count=len(dialogs),
                    )
                )
            await uow.commit()
        await self._delete_names(scans)
        erasure.scans = len(scans)
        if self._freed_space is not None:
            await self._freed_space.wipe()
        return erasure

    # --- internals ------------------------------------------------------------------------

    async def _anonymise(
        self,
        uow: UnitOfWork,
        application: Application,
        reason: DestructionReason,
        now: datetime,
    ) -> None:
        if application.anonymised_at is not None:
            return
        await uow.applications.anonymise(application.id, at=now, keep_reasons=KEPT_REASONS)
        await uow.audit.anonymise(application.id, keep_reasons=KEPT_REASONS)
        await uow.destructions.record(
            Destruction(DestroyedData.APPLICATION_PERSON, reason, now, application.id)
        )

    async def _record(self, *destructions: Destruction) -> None:
        done = [d for d in destructions if d.count > 0]
        if not done:
            return
        async with self._uow_factory() as uow:
            for destruction in done:
                await uow.destructions.record(destruction)
            await uow.commit()

    async def _delete_files(self, scans: list[StoredFile | None]) -> None:
        await self._delete_names({s.name for s in scans if s is not None})

    async def _delete_names(self, names: set[str] | list[str]) -> None:
        for name in names:
            await self._vault.delete(name)
