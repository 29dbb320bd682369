"""What the domain needs from the outside world, as Protocols. storage/ implements them."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date, datetime
from types import TracebackType
from typing import Protocol, Self

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
    PendingEmail,
    PickupOffice,
    SentReminder,
    StatusChange,
    StoredFile,
    VaultEntry,
)
from core.support import Conversation, Conversations


class Clock(Protocol):
    def now(self) -> datetime:
        """Aware UTC datetime."""
        ...


class RegisterLookup(Protocol):
    """The register of insured persons. Lookups are indexed, never a scan."""

    def by_phone(self, phone: str) -> InsuredPerson | None: ...

    def by_enp(self, enp: str) -> InsuredPerson | None: ...


class PickupOffices(Protocol):
    """Offices handing out paper policies (a demo list ships; a deployer replaces it)."""

    def get(self, office_id: str) -> PickupOffice | None: ...

    def for_region(self, region: str) -> list[PickupOffice]:
        """Offices of a region, its name compared ignoring case, yo/ye and spacing."""
        ...


class FileVault(Protocol):
    """Stored files (passport scans) under DATA_DIR with generated names."""

    async def put(self, data: bytes, suffix: str) -> StoredFile: ...

    async def get(self, name: str) -> bytes: ...

    async def delete(self, name: str) -> None:
        """Remove a stored file, or a temporary file listed by inventory(); a missing one is
        not an error (destruction may be repeated after a crash)."""
        ...

    async def inventory(self) -> Sequence[VaultEntry]:
        """Every file in the vault, temporary files of interrupted writes included."""
        ...


class DialogDrafts(Protocol):
    """The citizens' dialogs in progress (answers and a scan not yet submitted), as the
    retention rules see them. Implemented over the bot's dialog storage."""

    async def idle(self, since_before: datetime) -> Sequence[DialogRecord]:
        """Dialogs last written before then."""
        ...

    async def discard(self, record: DialogRecord) -> bool:
        """Delete the dialog unless it was written after the record was read; True if deleted."""
        ...

    async def scan_names(self) -> set[str]:
        """Names of the stored scans any dialog refers to."""
        ...

    async def erase_user(self, user_id: int) -> Sequence[DialogRecord]:
        """Delete every dialog of the person; returns what was deleted."""
        ...


class FreedSpace(Protocol):
    """What deleted records leave behind on disk."""

    async def wipe(self) -> None:
        """Overwrite it, so erased personal data cannot be read back from the files."""
        ...


class ApplicationRepository(Protocol):
    async def add(
        self, draft: ApplicationDraft, *, now: datetime, next_action_at: datetime | None = None
    ) -> Application:
        """Insert with status SUBMITTED, assign id and number; `next_action_at` is when the
        background step first acts on it (None: left to people).

        Raises core.errors.DuplicateApplication when the idempotency key is taken.
        """
        ...

    async def get(self, application_id: int) -> Application | None: ...

    async def get_by_number(self, number: str) -> Application | None: ...

    async def get_by_idempotency_key(self, key: str) -> Application | None: ...

    async def list_for_user(self, user_id: int) -> Sequence[Application]:
        """Oldest first (by id)."""
        ...

    async def update(self, application: Application) -> None: ...

    async def due(self, now: datetime, limit: int) -> Sequence[Application]:
        """Applications whose next_action_at has come, oldest first (next_action_at, then id)."""
        ...

    async def finished_with_scan(self, limit: int) -> Sequence[Application]:
        """Applications in a final status that still hold a scan (written before the scan was
        destroyed with the final status), by id."""
        ...

    async def expired(self, updated_before: datetime, limit: int) -> Sequence[Application]:
        """Applications in a final status, last changed before then, not yet anonymised; by id."""
        ...

    async def scan_names(self) -> set[str]:
        """Names of the stored scans applications refer to."""
        ...

    async def anonymise(
        self, application_id: int, *, at: datetime, keep_reasons: Collection[str]
    ) -> None:
        """Remove the person: owner and chat (0), ЕНП, passport, address, postcode, the reason
        text, the scan reference, the policy's file id, and a rejection reason that is not one of
        keep_reasons (an operator's words may name the person). Status and dates stay."""
        ...


class AuditTrail(Protocol):
    async def record(self, change: StatusChange) -> None: ...

    async def history(self, application_id: int) -> Sequence[StatusChange]:
        """In the order recorded."""
        ...

    async def anonymise(self, application_id: int, *, keep_reasons: Collection[str]) -> None:
        """The application's rows keep statuses and dates; "citizen:<id>" becomes "citizen",
        and a reason not in keep_reasons becomes "redacted"."""
        ...


class DestructionLog(Protocol):
    """152-FZ: a destruction of personal data is recorded."""

    async def record(self, destruction: Destruction) -> None: ...

    async def history(self) -> Sequence[Destruction]:
        """In the order recorded."""
        ...


class CitizenRepository(Protocol):
    async def get(self, user_id: int) -> Citizen | None: ...

    async def save(self, citizen: Citizen) -> None: ...

    async def update_or_create(self, citizen: Citizen, fields: Collection[str]) -> None:
        """Set `fields` (attribute names) of the profile to those of `citizen`, or create the
        profile as `citizen` if there is none: one statement, no read first."""
        ...

    async def delete(self, user_id: int) -> bool:
        """True when there was a profile to delete."""
        ...


class Outbox(Protocol):
    """Notifications written in the same transaction as the change that caused them."""

    async def add(self, notification: Notification) -> None:
        """Queue a row (sets its id); the unit of work wakes the sender after commit."""
        ...

    async def due(
        self,
        now: datetime,
        limit: int,
        kinds: Collection[NotificationKind] | None = None,
        *,
        claim_until: datetime | None = None,
    ) -> Sequence[Notification]:
        """Neither sent nor failed, not_before None or come, not claimed; ordered by id; of
        `kinds` only when given (each transport drains its own kinds).

        With claim_until the rows are the caller's until then (once committed): no other due()
        returns them meanwhile, so several senders never send a row twice. Claims are taken one
        transaction at a time, so postponed() read after due() in the same transaction sees
        every other sender's claims. Each is finished
        (mark_sent, postpone, mark_failed) or given back (release); a row neither comes due
        again at claim_until.
        """
        ...

    async def release(self, notification: Notification) -> None:
        """Give back a claimed row that was not sent: due again at its own not_before."""
        ...

    async def release_claims(self) -> int:
        """Give back every claimed row: for the one active sender at its start, when whoever
        held them (a crashed process, a worker that lost its lease) no longer sends."""
        ...

    async def postponed(self, now: datetime) -> Sequence[Notification]:
        """Neither sent nor failed, waiting for a retry after now or claimed by a sender;
        ordered by id."""
        ...

    async def mark_sent(
        self, notification_id: int, *, at: datetime, message_id: int | None
    ) -> None:
        """Count the attempt and record the Telegram message the row became."""
        ...

    async def postpone(self, notification_id: int, not_before: datetime, error: str) -> None:
        """Count an attempt and retry after not_before."""
        ...

    async def mark_failed(self, notification_id: int, error: str, *, at: datetime) -> None: ...

    async def clear_payloads(self, done_before: datetime) -> int:
        """Empty the payloads of rows sent or given up before then; returns how many."""
        ...

    async def delete_for_chat(self, chat_id: int) -> int:
        """Delete every row of a chat (both audiences), whatever its state; returns how many."""
        ...


class DialogSnapshots(Protocol):
    """The citizens' dialogs as reminders see them. Implemented by the bot's dialog storage
    (the database, or Redis with REDIS_URL), so it is read outside any unit of work."""

    async def dialogs(
        self, *, idle_since: datetime | None = None, user_id: int | None = None
    ) -> Sequence[DialogSnapshot]:
        """Dialog states of private chats that last moved at or before idle_since (any time
        when None), of one citizen when user_id is given; the longest idle first."""
        ...


class ReminderStore(Protocol):
    """What reminders and the digest are computed from, and what records them as sent."""

    async def applications_in(
        self, status: ApplicationStatus, *, user_id: int | None = None
    ) -> Sequence[Application]:
        """Applications in a status, oldest first."""
        ...

    async def open_applications(self, created_before: datetime) -> Sequence[Application]:
        """Applications not in a final status, created before then, oldest first."""
        ...

    async def waiting_conversations(self) -> Sequence[Conversation]:
        """Conversations waiting for an operator, longest waiting first."""
        ...

    async def sent(self, user_id: int, topic: str, subject: str) -> SentReminder | None: ...

    async def record_sent(self, reminder: SentReminder) -> None:
        """Insert or replace by (user_id, topic, subject)."""
        ...

    async def erase(self, user_id: int) -> int:
        """Forget every reminder sent to a citizen (they withdrew consent); returns how many."""
        ...

    async def last_digest_day(self) -> date | None: ...

    async def record_digest(self, day: date, at: datetime) -> None: ...

    async def record_tick(self, at: datetime) -> None:
        """When the reminder job last looked (monitoring; tests wait for it)."""
        ...


class EmailConfirmations(Protocol):
    async def get(self, user_id: int) -> PendingEmail | None: ...

    async def save(self, pending: PendingEmail) -> None:
        """Insert or replace by user_id."""
        ...

    async def delete(self, user_id: int) -> None: ...


class UnitOfWork(Protocol):
    """The one door to storage: `async with uow: ...; await uow.commit()`; rolled back otherwise."""

    applications: ApplicationRepository
    audit: AuditTrail
    citizens: CitizenRepository
    outbox: Outbox
    conversations: Conversations
    reminders: ReminderStore
    emails: EmailConfirmations
    destructions: DestructionLog

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    async def commit(self) -> None: ...

    async def rollback(self) -> None: ...


class UnitOfWorkFactory(Protocol):
    def __call__(self, *, read_only: bool = False) -> UnitOfWork:
        """read_only: for lookups; it never waits for a writer and cannot commit."""
        ...
