"""In-memory implementations of every port in core/ports.py, for fast use-case tests.

They follow the port docstrings so the same contract tests pass against them and against
storage/. A unit of work holds the one write lock from enter to exit, like a SQLite
`BEGIN IMMEDIATE` transaction: units of work run one at a time and see only committed data.
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from types import TracebackType
from typing import Self

from core.errors import ApplicationNotFound, DuplicateApplication
from core.models import (
    Application,
    ApplicationDraft,
    ApplicationStatus,
    Citizen,
    InsuredPerson,
    Notification,
    StatusChange,
    StoredFile,
)
from core.ports import ApplicationRepository, AuditTrail, CitizenRepository, Outbox
from core.support import Conversation, Conversations, RelayedMessage

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


class FakeFileVault:
    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self._counter = 0

    async def put(self, data: bytes, suffix: str) -> StoredFile:
        self._counter += 1
        if suffix and not suffix.startswith("."):
            suffix = f".{suffix}"
        name = f"file-{self._counter:06d}{suffix}"
        self.files[name] = bytes(data)
        return StoredFile(name=name, sha256=hashlib.sha256(data).hexdigest(), size=len(data))

    async def get(self, name: str) -> bytes:
        try:
            return self.files[name]
        except KeyError:
            raise FileNotFoundError(name) from None

    async def delete(self, name: str) -> None:
        # Deleting twice is harmless: destruction may be retried after a crash.
        self.files.pop(name, None)


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

    async def add(self, draft: ApplicationDraft, *, now: datetime) -> Application:
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


class FakeAuditTrail:
    def __init__(self, uow: FakeUnitOfWork) -> None:
        self._uow = uow

    async def record(self, change: StatusChange) -> None:
        self._uow.check("audit.record").audit.append(change)

    async def history(self, application_id: int) -> Sequence[StatusChange]:
        tables = self._uow.check("audit.history")
        return [c for c in tables.audit if c.application_id == application_id]


class FakeCitizenRepository:
    def __init__(self, uow: FakeUnitOfWork) -> None:
        self._uow = uow

    async def get(self, user_id: int) -> Citizen | None:
        return copy.deepcopy(self._uow.check("citizens.get").citizens.get(user_id))

    async def save(self, citizen: Citizen) -> None:
        self._uow.check("citizens.save").citizens[citizen.user_id] = copy.deepcopy(citizen)


class FakeOutbox:
    def __init__(self, uow: FakeUnitOfWork) -> None:
        self._uow = uow

    async def add(self, notification: Notification) -> None:
        tables = self._uow.check("outbox.add")
        notification.id = max(tables.outbox, default=0) + 1
        tables.outbox[notification.id] = OutboxRow(copy.deepcopy(notification))
        self._uow.queued = True

    async def due(
        self, now: datetime, limit: int, *, claim_until: datetime | None = None
    ) -> Sequence[Notification]:
        tables = self._uow.check("outbox.due")
        rows = [
            r
            for _, r in sorted(tables.outbox.items())
            if r.state is OutboxState.PENDING
            and (r.notification.not_before is None or r.notification.not_before <= now)
        ][:limit]
        due = [copy.deepcopy(r.notification) for r in rows]
        if claim_until is not None:
            for row in rows:
                row.notification.not_before = claim_until
        return due

    async def release(self, notification: Notification) -> None:
        assert notification.id is not None
        row = self._uow.check("outbox.release").outbox.get(notification.id)
        if row is not None and row.state is OutboxState.PENDING:
            row.notification.not_before = notification.not_before

    # Every outcome counts as an attempt, as in storage/.
    async def mark_sent(
        self, notification_id: int, *, at: datetime, message_id: int | None
    ) -> None:
        row = self._uow.check("outbox.mark_sent").outbox.get(notification_id)
        if row is not None:
            row.state = OutboxState.SENT
            row.done_at = at
            row.message_id = message_id
            row.notification.attempts += 1

    async def postpone(self, notification_id: int, not_before: datetime, error: str) -> None:
        row = self._uow.check("outbox.postpone").outbox.get(notification_id)
        if row is not None:
            row.notification.attempts += 1
            row.notification.not_before = not_before
            row.error = error[:1_000]

    async def mark_failed(self, notification_id: int, error: str, *, at: datetime) -> None:
        row = self._uow.check("outbox.mark_failed").outbox.get(notification_id)
        if row is not None:
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
