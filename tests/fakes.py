"""In-memory implementations of every port in core/ports.py, for fast use-case tests.

They follow the port docstrings so the same contract tests pass against them and against
storage/. A unit of work holds the one write lock from enter to exit, like a SQLite
`BEGIN IMMEDIATE` transaction: units of work run one at a time and see only committed data.
"""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import hashlib
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from types import TracebackType
from typing import Self

from core.errors import ApplicationNotFound, DuplicateApplication
from core.models import (
    Application,
    ApplicationDraft,
    ApplicationStatus,
    Citizen,
    Destruction,
    DialogRecord,
    DialogSnapshot,
    InsuredPerson,
    Notification,
    NotificationKind,
    Passport,
    PendingEmail,
    SentReminder,
    StatusChange,
    StoredFile,
    VaultEntry,
)
from core.ports import (
    ApplicationRepository,
    AuditTrail,
    CitizenRepository,
    DestructionLog,
    EmailConfirmations,
    Outbox,
    ReminderStore,
)
from core.support import Conversation, Conversations, ConversationStatus, RelayedMessage

# Long enough for a slow test, short enough that a forgotten lock fails instead of hanging.
LOCK_TIMEOUT_SECONDS = 5.0


class FakeClock:
    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 11, 27, 9, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> datetime:
        self._now += delta
        return self._now

    def set(self, at: datetime) -> None:
        self._now = at


class FakeRegister:
    def __init__(self, persons: Iterable[InsuredPerson] = ()) -> None:
        self._by_enp: dict[str, InsuredPerson] = {}
        self._by_phone: dict[str, InsuredPerson] = {}
        for person in persons:
            self.add(person)

    def add(self, person: InsuredPerson) -> None:
        self._by_enp[person.enp] = person
        self._by_phone[person.phone] = person

    def by_phone(self, phone: str) -> InsuredPerson | None:
        return self._by_phone.get(phone)

    def by_enp(self, enp: str) -> InsuredPerson | None:
        return self._by_enp.get(enp)


OLD_FILE_TIME = datetime(2026, 1, 1, tzinfo=UTC)
REDACTED = "redacted"


class FakeFileVault:
    """Files in memory; each one's time is the clock's when given (else long ago)."""

    def __init__(self, clock: FakeClock | None = None) -> None:
        self.files: dict[str, bytes] = {}
        self.modified: dict[str, datetime] = {}
        self.temporary: dict[str, datetime] = {}  # part-written files of interrupted writes
        self._clock = clock
        self._counter = 0

    def _now(self) -> datetime:
        return self._clock.now() if self._clock is not None else OLD_FILE_TIME

    def add_temporary(self, name: str = ".incoming-abc.tmp") -> str:
        self.temporary[name] = self._now()
        return name

    async def inventory(self) -> Sequence[VaultEntry]:
        return [VaultEntry(name, self.modified.get(name, OLD_FILE_TIME)) for name in self.files] + [
            VaultEntry(name, at, temporary=True) for name, at in self.temporary.items()
        ]

    async def put(self, data: bytes, suffix: str) -> StoredFile:
        self._counter += 1
        if suffix and not suffix.startswith("."):
            suffix = f".{suffix}"
        name = f"file-{self._counter:06d}{suffix}"
        self.files[name] = bytes(data)
        self.modified[name] = self._now()
        return StoredFile(name=name, sha256=hashlib.sha256(data).hexdigest(), size=len(data))

    async def get(self, name: str) -> bytes:
        try:
            return self.files[name]
        except KeyError:
            raise FileNotFoundError(name) from None

    async def delete(self, name: str) -> None:
        # Deleting twice is harmless: destruction may be retried after a crash.
        self.files.pop(name, None)
        self.modified.pop(name, None)
        self.temporary.pop(name, None)


class FakeDialogDrafts:
    """Dialogs as the retention rules see them: user, scan and last write, set by the test."""

    def __init__(self) -> None:
        self.records: dict[str, DialogRecord] = {}

    def put(self, user_id: int, at: datetime, scan_name: str | None = None) -> DialogRecord:
        record = DialogRecord(f"dialog-{user_id}", user_id, at, scan_name)
        self.records[record.key] = record
        return record

    async def idle(self, since_before: datetime) -> Sequence[DialogRecord]:
        return [r for r in self.records.values() if r.updated_at < since_before]

    async def discard(self, record: DialogRecord) -> bool:
        current = self.records.get(record.key)
        if current is None or current.updated_at != record.updated_at:
            return False
        del self.records[record.key]
        return True

    async def scan_names(self) -> set[str]:
        return {r.scan_name for r in self.records.values() if r.scan_name}

    async def erase_user(self, user_id: int) -> Sequence[DialogRecord]:
        mine = [r for r in self.records.values() if r.user_id == user_id]
        for record in mine:
            del self.records[record.key]
        return mine


class FakeFreedSpace:
    def __init__(self) -> None:
        self.wipes = 0

    async def wipe(self) -> None:
        self.wipes += 1


class OutboxState(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


@dataclass(slots=True)
class OutboxRow:
    notification: Notification
    state: OutboxState = OutboxState.PENDING
    error: str | None = None
    done_at: datetime | None = None
    message_id: int | None = None
    claimed_until: datetime | None = None  # by a sender (Outbox.due)


@dataclass(slots=True)
class _Fault:
    error: Exception
    calls_left: int


@dataclass(slots=True)
class _Tables:
    applications: dict[int, Application] = field(default_factory=dict)
    audit: list[StatusChange] = field(default_factory=list)
    citizens: dict[int, Citizen] = field(default_factory=dict)
    outbox: dict[int, OutboxRow] = field(default_factory=dict)
    conversations: dict[int, Conversation] = field(default_factory=dict)
    relayed: dict[tuple[int, int], RelayedMessage] = field(default_factory=dict)
    reminders_sent: dict[tuple[int, str, str], SentReminder] = field(default_factory=dict)
    digests: dict[date, datetime] = field(default_factory=dict)
    reminder_tick: datetime | None = None
    emails: dict[int, PendingEmail] = field(default_factory=dict)
    destructions: list[Destruction] = field(default_factory=list)


class FakeDialogSnapshots:
    """The dialog storage as reminders read it (core.ports.DialogSnapshots): one dialog per
    private chat, written by the bot, not by core."""

    def __init__(self) -> None:
        self._dialogs: dict[int, DialogSnapshot] = {}

    def set_dialog(self, snapshot: DialogSnapshot) -> None:
        self._dialogs[snapshot.user_id] = copy.deepcopy(snapshot)

    def clear_dialog(self, user_id: int) -> None:
        self._dialogs.pop(user_id, None)

    async def dialogs(
        self, *, idle_since: datetime | None = None, user_id: int | None = None
    ) -> Sequence[DialogSnapshot]:
        found = [
            d
            for d in self._dialogs.values()
            if (idle_since is None or d.updated_at <= idle_since)
            and (user_id is None or d.user_id == user_id)
        ]
        return [copy.deepcopy(d) for d in sorted(found, key=lambda d: d.updated_at)]


class FakeUnitOfWorkFactory:
    """The database: committed tables, the write lock, and injectable failures."""

    def __init__(self) -> None:
        self.committed = _Tables()
        self._faults: dict[str, _Fault] = {}
        self.commits = 0
        self._lock = asyncio.Lock()
        self._holder: asyncio.Task[object] | None = None
        self.after_outbox_commit: Callable[[], None] | None = None
        self.queued_commits = 0  # commits that queued outbox rows (and woke the sender)

    def __call__(self, *, read_only: bool = False) -> FakeUnitOfWork:
        return FakeUnitOfWork(self, read_only=read_only)

    def fail(self, operation: str, error: Exception, *, after: int = 0) -> None:
        """Make operation raise error once `after` calls have succeeded, until heal().

        operation is "<repository>.<method>", e.g. "outbox.add" or "applications.update".
        """
        self._faults[operation] = _Fault(error, after)

    def heal(self) -> None:
        self._faults.clear()

    def _check_fault(self, operation: str) -> None:
        fault = self._faults.get(operation)
        if fault is None:
            return
        if fault.calls_left > 0:
            fault.calls_left -= 1
            return
        raise fault.error

    # Read-only views of committed data, for assertions.
    def applications(self) -> list[Application]:
        return [copy.deepcopy(a) for _, a in sorted(self.committed.applications.items())]

    def audit(self, application_id: int | None = None) -> list[StatusChange]:
        return [
            c
            for c in self.committed.audit
            if application_id is None or c.application_id == application_id
        ]

    def notifications(self) -> list[Notification]:
        return [copy.deepcopy(r.notification) for _, r in sorted(self.committed.outbox.items())]

    def outbox_rows(self) -> list[OutboxRow]:
        return [copy.deepcopy(r) for _, r in sorted(self.committed.outbox.items())]

    def citizens(self) -> list[Citizen]:
        return [copy.deepcopy(c) for _, c in sorted(self.committed.citizens.items())]

    def destructions(self) -> list[Destruction]:
        return list(self.committed.destructions)

    async def _acquire(self) -> None:
        task = asyncio.current_task()
        if task is not None and self._holder is task:
            raise RuntimeError("nested unit of work in one task: it would wait for itself")
        try:
            async with asyncio.timeout(LOCK_TIMEOUT_SECONDS):
                await self._lock.acquire()
        except TimeoutError:
            raise RuntimeError("database is locked") from None
        self._holder = task

    def _release(self) -> None:
        self._holder = None
        self._lock.release()


class FakeUnitOfWork:
    def __init__(self, db: FakeUnitOfWorkFactory, *, read_only: bool = False) -> None:
        self._db = db
        self._tables: _Tables | None = None
        self._used = False
        self._read_only = read_only  # reads the last commit without the write lock
        self.queued = False
        # Typed as the ports: the Protocol's attributes are mutable, hence invariant.
        self.applications: ApplicationRepository = FakeApplicationRepository(self)
        self.audit: AuditTrail = FakeAuditTrail(self)
        self.citizens: CitizenRepository = FakeCitizenRepository(self)
        self.outbox: Outbox = FakeOutbox(self)
        self.conversations: Conversations = FakeConversations(self)
        self.reminders: ReminderStore = FakeReminderStore(self)
        self.emails: EmailConfirmations = FakeEmailConfirmations(self)
        self.destructions: DestructionLog = FakeDestructionLog(self)

    async def __aenter__(self) -> Self:
        if self._used:
            raise RuntimeError("a unit of work is entered once; make a new one")
        self._used = True
        if not self._read_only:
            await self._db._acquire()
        self._tables = copy.deepcopy(self._db.committed)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # Whatever was not committed is dropped, exception or not.
        self._tables = None
        if not self._read_only:
            self._db._release()

    async def commit(self) -> None:
        tables = self.tables()
        if self._read_only:
            raise RuntimeError("a read-only unit of work cannot commit")
        self._db._check_fault("uow.commit")
        self._db.committed = copy.deepcopy(tables)
        self._db.commits += 1
        queued, self.queued = self.queued, False
        if queued:
            self._db.queued_commits += 1
            if self._db.after_outbox_commit is not None:
                self._db.after_outbox_commit()

    async def rollback(self) -> None:
        self.tables()
        self._tables = copy.deepcopy(self._db.committed)
        self.queued = False

    def tables(self) -> _Tables:
        if self._tables is None:
            raise RuntimeError("unit of work used outside `async with`")
        return self._tables

    def check(self, operation: str) -> _Tables:
        self._db._check_fault(operation)
        return self.tables()


class FakeApplicationRepository:
    def __init__(self, uow: FakeUnitOfWork) -> None:
        self._uow = uow

    async def add(
        self, draft: ApplicationDraft, *, now: datetime, next_action_at: datetime | None = None
    ) -> Application:
        tables = self._uow.check("applications.add")
        if any(a.idempotency_key == draft.idempotency_key for a in tables.applications.values()):
            raise DuplicateApplication(draft.idempotency_key)
        # Like a SQLite rowid: max + 1, so a rolled-back insert leaves no gap.
        new_id = max(tables.applications, default=0) + 1
        application = Application(
            id=new_id,
            number=f"{now:%y%m}-{new_id:06d}",
            user_id=draft.user_id,
            chat_id=draft.chat_id,
            enp=draft.enp,
            loss_reason=draft.loss_reason,
            loss_reason_text=draft.loss_reason_text,
            passport=draft.passport,
            scan=draft.scan,
            delivery=draft.delivery,
            postcode=draft.postcode,
            address=draft.address,
            office_id=draft.office_id,
            locale=draft.locale,
            status=ApplicationStatus.SUBMITTED,
            created_at=now,
            updated_at=now,
            idempotency_key=draft.idempotency_key,
            fee_paid_kopecks=draft.fee_paid_kopecks,
            next_action_at=next_action_at,
        )
        tables.applications[new_id] = copy.deepcopy(application)
        return application

    async def get(self, application_id: int) -> Application | None:
        found = self._uow.check("applications.get").applications.get(application_id)
        return copy.deepcopy(found)

    async def get_by_number(self, number: str) -> Application | None:
        tables = self._uow.check("applications.get_by_number")
        found = next((a for a in tables.applications.values() if a.number == number), None)
        return copy.deepcopy(found)

    async def get_by_idempotency_key(self, key: str) -> Application | None:
        tables = self._uow.check("applications.get_by_idempotency_key")
        found = next((a for a in tables.applications.values() if a.idempotency_key == key), None)
        return copy.deepcopy(found)

    async def list_for_user(self, user_id: int) -> Sequence[Application]:
        tables = self._uow.check("applications.list_for_user")
        return [
            copy.deepcopy(a) for _, a in sorted(tables.applications.items()) if a.user_id == user_id
        ]

    async def update(self, application: Application) -> None:
        tables = self._uow.check("applications.update")
        stored = tables.applications.get(application.id)
        if stored is None:
            raise ApplicationNotFound(application.id)
        # Identity fields never change, whatever the caller did to its copy.
        tables.applications[application.id] = replace(
            copy.deepcopy(application),
            number=stored.number,
            user_id=stored.user_id,
            created_at=stored.created_at,
            idempotency_key=stored.idempotency_key,
        )

    async def due(self, now: datetime, limit: int) -> Sequence[Application]:
        tables = self._uow.check("applications.due")
        due = [
            a
            for a in tables.applications.values()
            if a.next_action_at is not None and a.next_action_at <= now
        ]
        due.sort(key=lambda a: (a.next_action_at, a.id))
        return [copy.deepcopy(a) for a in due[:limit]]

    async def finished_with_scan(self, limit: int) -> Sequence[Application]:
        tables = self._uow.check("applications.finished_with_scan")
        found = [a for _, a in sorted(tables.applications.items()) if a.status.is_final and a.scan]
        return copy.deepcopy(found[:limit])

    async def expired(self, updated_before: datetime, limit: int) -> Sequence[Application]:
        tables = self._uow.check("applications.expired")
        found = [
            a
            for _, a in sorted(tables.applications.items())
            if a.status.is_final and a.anonymised_at is None and a.updated_at < updated_before
        ]
        return copy.deepcopy(found[:limit])

    async def scan_names(self) -> set[str]:
        tables = self._uow.check("applications.scan_names")
        return {a.scan.name for a in tables.applications.values() if a.scan is not None}

    async def anonymise(
        self, application_id: int, *, at: datetime, keep_reasons: Collection[str]
    ) -> None:
        tables = self._uow.check("applications.anonymise")
        stored = tables.applications.get(application_id)
        if stored is None:
            raise ApplicationNotFound(application_id)
        reason = stored.rejection_reason
        tables.applications[application_id] = replace(
            stored,
            user_id=0,
            chat_id=0,
            enp="",
            passport=Passport("", ""),
            loss_reason_text=None,
            postcode=None,
            address=None,
            scan=None,
            policy_file_id=None,
            rejection_reason=reason if reason is None or reason in keep_reasons else REDACTED,
            anonymised_at=at,
        )


class FakeAuditTrail:
    def __init__(self, uow: FakeUnitOfWork) -> None:
        self._uow = uow

    async def record(self, change: StatusChange) -> None:
        self._uow.check("audit.record").audit.append(change)

    async def history(self, application_id: int) -> Sequence[StatusChange]:
        tables = self._uow.check("audit.history")
        return [c for c in tables.audit if c.application_id == application_id]

    async def anonymise(self, application_id: int, *, keep_reasons: Collection[str]) -> None:
        tables = self._uow.check("audit.anonymise")
        tables.audit = [
            c
            if c.application_id != application_id
            else replace(
                c,
                actor="citizen" if c.actor.startswith("citizen:") else c.actor,
                reason=c.reason if c.reason is None or c.reason in keep_reasons else REDACTED,
            )
            for c in tables.audit
        ]


class FakeDestructionLog:
    def __init__(self, uow: FakeUnitOfWork) -> None:
        self._uow = uow

    async def record(self, destruction: Destruction) -> None:
        self._uow.check("destructions.record").destructions.append(destruction)

    async def history(self) -> Sequence[Destruction]:
        return list(self._uow.check("destructions.history").destructions)


class FakeCitizenRepository:
    def __init__(self, uow: FakeUnitOfWork) -> None:
        self._uow = uow

    async def get(self, user_id: int) -> Citizen | None:
        return copy.deepcopy(self._uow.check("citizens.get").citizens.get(user_id))

    async def save(self, citizen: Citizen) -> None:
        self._uow.check("citizens.save").citizens[citizen.user_id] = copy.deepcopy(citizen)

    async def update_or_create(self, citizen: Citizen, fields: Collection[str]) -> None:
        citizens = self._uow.check("citizens.update_or_create").citizens
        known = {f.name for f in dataclasses.fields(Citizen)} - {"user_id"}
        if not fields or set(fields) - known:
            raise ValueError(f"not citizen fields: {sorted(set(fields) - known)}")
        stored = citizens.get(citizen.user_id)
        if stored is None:
            citizens[citizen.user_id] = copy.deepcopy(citizen)
            return
        for name in fields:
            setattr(stored, name, copy.deepcopy(getattr(citizen, name)))

    async def delete(self, user_id: int) -> bool:
        return self._uow.check("citizens.delete").citizens.pop(user_id, None) is not None


class FakeOutbox:
    def __init__(self, uow: FakeUnitOfWork) -> None:
        self._uow = uow

    async def add(self, notification: Notification) -> None:
        tables = self._uow.check("outbox.add")
        notification.id = max(tables.outbox, default=0) + 1
        tables.outbox[notification.id] = OutboxRow(copy.deepcopy(notification))
        self._uow.queued = True

    async def due(
        self,
        now: datetime,
        limit: int,
        kinds: Collection[NotificationKind] | None = None,
        *,
        claim_until: datetime | None = None,
    ) -> Sequence[Notification]:
        tables = self._uow.check("outbox.due")
        rows = [
            r
            for _, r in sorted(tables.outbox.items())
            if r.state is OutboxState.PENDING
            and (r.notification.not_before is None or r.notification.not_before <= now)
            and (r.claimed_until is None or r.claimed_until <= now)
            and (kinds is None or r.notification.kind in kinds)
        ][:limit]
        if claim_until is not None:
            for row in rows:
                row.claimed_until = claim_until
        return [copy.deepcopy(r.notification) for r in rows]

    async def release(self, notification: Notification) -> None:
        assert notification.id is not None
        row = self._uow.check("outbox.release").outbox.get(notification.id)
        if row is not None:
            row.claimed_until = None

    async def release_claims(self) -> int:
        rows = self._uow.check("outbox.release_claims").outbox.values()
        claimed = [r for r in rows if r.state is OutboxState.PENDING and r.claimed_until]
        for row in claimed:
            row.claimed_until = None
        return len(claimed)

    async def postponed(self, now: datetime) -> Sequence[Notification]:
        tables = self._uow.check("outbox.postponed")
        return [
            copy.deepcopy(r.notification)
            for _, r in sorted(tables.outbox.items())
            if r.state is OutboxState.PENDING
            and (
                (r.notification.not_before is not None and r.notification.not_before > now)
                or (r.claimed_until is not None and r.claimed_until > now)
            )
        ]

    # Every outcome counts as an attempt, as in storage/.
    async def mark_sent(
        self, notification_id: int, *, at: datetime, message_id: int | None
    ) -> None:
        row = self._uow.check("outbox.mark_sent").outbox.get(notification_id)
        if row is not None:
            row.claimed_until = None
            row.state = OutboxState.SENT
            row.done_at = at
            row.message_id = message_id
            row.notification.attempts += 1

    async def postpone(self, notification_id: int, not_before: datetime, error: str) -> None:
        row = self._uow.check("outbox.postpone").outbox.get(notification_id)
        if row is not None:
            row.claimed_until = None
            row.notification.attempts += 1
            row.notification.not_before = not_before
            row.error = error[:1_000]

    async def mark_failed(self, notification_id: int, error: str, *, at: datetime) -> None:
        row = self._uow.check("outbox.mark_failed").outbox.get(notification_id)
        if row is not None:
            row.claimed_until = None
            row.state = OutboxState.FAILED
            row.done_at = at
            row.error = error[:1_000]  # storage/ keeps the same bounded length
            row.notification.attempts += 1

    async def clear_payloads(self, done_before: datetime) -> int:
        tables = self._uow.check("outbox.clear_payloads")
        cleared = 0
        for row in tables.outbox.values():
            done = row.done_at is not None and row.done_at <= done_before
            if done and row.notification.payload:
                row.notification.payload = {}
                cleared += 1
        return cleared

    async def delete_for_chat(self, chat_id: int) -> int:
        tables = self._uow.check("outbox.delete_for_chat")
        doomed = [i for i, r in tables.outbox.items() if r.notification.chat_id == chat_id]
        for row_id in doomed:
            del tables.outbox[row_id]
        return len(doomed)


class FakeConversations:
    def __init__(self, uow: FakeUnitOfWork) -> None:
        self._uow = uow

    async def get(self, user_id: int) -> Conversation | None:
        found = self._uow.check("conversations.get").conversations.get(user_id)
        return copy.deepcopy(found)

    async def by_thread(self, thread_id: int) -> Conversation | None:
        tables = self._uow.check("conversations.by_thread")
        found = [c for c in tables.conversations.values() if c.thread_id == thread_id]
        return copy.deepcopy(found[0]) if found else None

    async def save(self, conversation: Conversation) -> None:
        tables = self._uow.check("conversations.save")
        stored = tables.conversations.get(conversation.user_id)
        saved = copy.deepcopy(conversation)
        if stored is not None:
            saved.opened_at = stored.opened_at  # as the SQLite upsert keeps the first opening
        tables.conversations[conversation.user_id] = saved

    async def link(self, relayed: RelayedMessage) -> None:
        tables = self._uow.check("conversations.link")
        tables.relayed[(relayed.user_id, relayed.citizen_message_id)] = relayed

    async def by_citizen_message(self, user_id: int, message_id: int) -> RelayedMessage | None:
        return self._uow.check("conversations.by_citizen_message").relayed.get(
            (user_id, message_id)
        )

    async def by_topic_message(self, message_id: int) -> RelayedMessage | None:
        tables = self._uow.check("conversations.by_topic_message")
        found = [r for r in tables.relayed.values() if r.topic_message_id == message_id]
        return found[0] if found else None

    async def erase(self, user_id: int) -> Conversation | None:
        tables = self._uow.check("conversations.erase")
        conversation = tables.conversations.pop(user_id, None)
        tables.relayed = {k: r for k, r in tables.relayed.items() if r.user_id != user_id}
        return copy.deepcopy(conversation)


class FakeReminderStore:
    def __init__(self, uow: FakeUnitOfWork) -> None:
        self._uow = uow

    async def applications_in(
        self, status: ApplicationStatus, *, user_id: int | None = None
    ) -> Sequence[Application]:
        tables = self._uow.check("reminders.applications_in")
        return [
            copy.deepcopy(a)
            for _, a in sorted(tables.applications.items())
            if a.status is status and (user_id is None or a.user_id == user_id)
        ]

    async def open_applications(self, created_before: datetime) -> Sequence[Application]:
        tables = self._uow.check("reminders.open_applications")
        return [
            copy.deepcopy(a)
            for _, a in sorted(tables.applications.items())
            if not a.status.is_final and a.created_at < created_before
        ]

    async def waiting_conversations(self) -> Sequence[Conversation]:
        tables = self._uow.check("reminders.waiting_conversations")
        found = [c for c in tables.conversations.values() if c.status is ConversationStatus.WAITING]
        return [copy.deepcopy(c) for c in sorted(found, key=lambda c: (c.opened_at, c.user_id))]

    async def sent(self, user_id: int, topic: str, subject: str) -> SentReminder | None:
        tables = self._uow.check("reminders.sent")
        return copy.deepcopy(tables.reminders_sent.get((user_id, topic, subject)))

    async def record_sent(self, reminder: SentReminder) -> None:
        tables = self._uow.check("reminders.record_sent")
        key = (reminder.user_id, reminder.topic, reminder.subject)
        tables.reminders_sent[key] = copy.deepcopy(reminder)

    async def erase(self, user_id: int) -> int:
        tables = self._uow.check("reminders.erase")
        keys = [k for k in tables.reminders_sent if k[0] == user_id]
        for key in keys:
            del tables.reminders_sent[key]
        return len(keys)

    async def last_digest_day(self) -> date | None:
        return max(self._uow.check("reminders.last_digest_day").digests, default=None)

    async def record_digest(self, day: date, at: datetime) -> None:
        self._uow.check("reminders.record_digest").digests[day] = at

    async def record_tick(self, at: datetime) -> None:
        self._uow.check("reminders.record_tick").reminder_tick = at


class FakeEmailConfirmations:
    def __init__(self, uow: FakeUnitOfWork) -> None:
        self._uow = uow

    async def get(self, user_id: int) -> PendingEmail | None:
        return copy.deepcopy(self._uow.check("emails.get").emails.get(user_id))

    async def save(self, pending: PendingEmail) -> None:
        self._uow.check("emails.save").emails[pending.user_id] = copy.deepcopy(pending)

    async def delete(self, user_id: int) -> None:
        self._uow.check("emails.delete").emails.pop(user_id, None)
