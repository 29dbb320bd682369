"""What the domain needs from the outside world, as Protocols. storage/ implements them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from types import TracebackType
from typing import Protocol, Self

from core.models import (
    Application,
    ApplicationDraft,
    Citizen,
    InsuredPerson,
    Notification,
    PickupOffice,
    StatusChange,
    StoredFile,
)
from core.support import Conversations


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

    async def delete(self, name: str) -> None: ...


class ApplicationRepository(Protocol):
    async def add(self, draft: ApplicationDraft, *, now: datetime) -> Application:
        """Insert with status SUBMITTED, assign id and number.

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


class AuditTrail(Protocol):
    async def record(self, change: StatusChange) -> None: ...

    async def history(self, application_id: int) -> Sequence[StatusChange]:
        """In the order recorded."""
        ...


class CitizenRepository(Protocol):
    async def get(self, user_id: int) -> Citizen | None: ...

    async def save(self, citizen: Citizen) -> None: ...


class Outbox(Protocol):
    """Notifications written in the same transaction as the change that caused them."""

    async def add(self, notification: Notification) -> None:
        """Queue a row (sets its id); the unit of work wakes the sender after commit."""
        ...

    async def due(
        self, now: datetime, limit: int, *, claim_until: datetime | None = None
    ) -> Sequence[Notification]:
        """Neither sent nor failed, not_before None or come; ordered by id.

        With claim_until the rows are the caller's until then (once committed): no other due()
        returns them meanwhile, so several senders never send a row twice. Each is finished
        (mark_sent, postpone, mark_failed) or given back (release); a row neither comes due
        again at claim_until. The rows returned keep their own not_before.
        """
        ...

    async def release(self, notification: Notification) -> None:
        """Give back a claimed row that was not sent: due again at its own not_before."""
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


class UnitOfWork(Protocol):
    """The one door to storage: `async with uow: ...; await uow.commit()`; rolled back otherwise."""

    applications: ApplicationRepository
    audit: AuditTrail
    citizens: CitizenRepository
    outbox: Outbox
    conversations: Conversations

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
