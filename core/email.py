"""A citizen's email address for status changes: set in /profile, confirmed by a code sent to it
and typed back in the chat. Only a confirmed address gets emails (RestorationService queues
them with each status change)."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import timedelta
from enum import StrEnum

from core.models import Notification, NotificationKind, PendingEmail
from core.ports import Clock, UnitOfWorkFactory

CODE_TTL = timedelta(minutes=30)
MAX_ATTEMPTS = 5


def new_code() -> str:
    return f"{secrets.randbelow(10**6):06d}"


class Confirmation(StrEnum):
    CONFIRMED = "confirmed"
    WRONG_CODE = "wrong_code"
    EXPIRED = "expired"  # too old, or too many wrong codes: ask for a new one
    NOTHING_PENDING = "nothing_pending"


class EmailAddresses:
    def __init__(
        self,
        *,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        code_ttl: timedelta = CODE_TTL,
        max_attempts: int = MAX_ATTEMPTS,
        codes: Callable[[], str] = new_code,
    ) -> None:
        self._uow_factory = uow_factory
        self._clock = clock
        self._code_ttl = code_ttl
        self._max_attempts = max_attempts
        self._codes = codes

    async def request(self, user_id: int, email: str) -> bool:
        """Email a code to the address (an outbox row); False for someone who never
        consented. The confirmed address, if any, keeps getting emails meanwhile."""
        now = self._clock.now()
        async with self._uow_factory() as uow:
            citizen = await uow.citizens.get(user_id)
            if citizen is None or citizen.consent_at is None:
                return False
            pending = PendingEmail(user_id=user_id, email=email, code=self._codes(), sent_at=now)
            await uow.emails.save(pending)
            # No address and no code in the payload: the sender reads the pending row.
            await uow.outbox.add(
                Notification(chat_id=user_id, kind=NotificationKind.EMAIL_CODE, created_at=now)
            )
            await uow.commit()
        return True

    async def confirm(self, user_id: int, code: str) -> tuple[Confirmation, str | None]:
        """The code typed back; returns the outcome and the address it concerns."""
        now = self._clock.now()
        async with self._uow_factory() as uow:
            pending = await uow.emails.get(user_id)
            if pending is None:
                return Confirmation.NOTHING_PENDING, None
            if now - pending.sent_at > self._code_ttl or pending.attempts >= self._max_attempts:
                await uow.emails.delete(user_id)
                await uow.commit()
                return Confirmation.EXPIRED, pending.email
            if not secrets.compare_digest(code.strip(), pending.code):
                pending.attempts += 1
                await uow.emails.save(pending)
                await uow.commit()
                return Confirmation.WRONG_CODE, pending.email
            citizen = await uow.citizens.get(user_id)
            if citizen is None:
                await uow.emails.delete(user_id)
                await uow.commit()
                return Confirmation.NOTHING_PENDING, None
            citizen.email, citizen.email_confirmed_at = pending.email, now
            await uow.citizens.save(citizen)
            await uow.emails.delete(user_id)
            await uow.commit()
        return Confirmation.CONFIRMED, pending.email

    async def pending(self, user_id: int) -> PendingEmail | None:
        async with self._uow_factory() as uow:
            return await uow.emails.get(user_id)

    async def remove(self, user_id: int) -> None:
        """No more emails: the address and any pending confirmation are forgotten."""
        async with self._uow_factory() as uow:
            await uow.emails.delete(user_id)
            citizen = await uow.citizens.get(user_id)
            if citizen is not None:
                citizen.email, citizen.email_confirmed_at = None, None
                await uow.citizens.save(citizen)
            await uow.commit()
