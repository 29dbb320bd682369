"""Use cases of the policy restoration: submit, change status, background processing, queries."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from core.errors import ApplicationNotFound, DuplicateApplication, IllegalTransition
from core.models import (
    Application,
    ApplicationDraft,
    ApplicationStatus,
    Citizen,
    DeliveryMethod,
    InsuredPerson,
    Notification,
    NotificationKind,
    StatusChange,
    StoredFile,
)
from core.ports import Clock, RegisterLookup, UnitOfWork, UnitOfWorkFactory
from core.workflow import SYSTEM_ACTOR, apply_transition, citizen_actor

log = logging.getLogger(__name__)

_S = ApplicationStatus

# Outcome of an approved application per delivery method, chosen by the background step.
_OUTCOME: dict[DeliveryMethod, ApplicationStatus] = {
    DeliveryMethod.ELECTRONIC: _S.READY,
    DeliveryMethod.PICKUP: _S.READY_FOR_PICKUP,
    DeliveryMethod.POST: _S.SENT_BY_POST,
}

# Statuses after which the citizen's record is confirmed and the policy can be handed out again.
_COMPLETED = frozenset({_S.READY, _S.READY_FOR_PICKUP, _S.SENT_BY_POST})


class RejectionReason(StrEnum):
    """Codes of automatic rejections; stored as the reason, mapped to a text by the bot.

    Operators may store free text instead, so a reason is not always one of these.
    """

    NOT_IN_REGISTER = "not_in_register"  # no person with this ЕНП
    PASSPORT_MISMATCH = "passport_mismatch"  # the register holds another passport
    ENP_MISMATCH = "enp_mismatch"  # the citizen confirmed a different register record
    IDENTITY_NOT_CONFIRMED = "identity_not_confirmed"  # no confirmed record (or data deleted)


def rejection_code(reason: str | None) -> RejectionReason | None:
    """The code of a stored reason, or None when it is an operator's free text (or absent)."""
    if reason is None:
        return None
    try:
        return RejectionReason(reason)
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class ProcessingTimings:
    """How long each automatic step waits. The defaults are demo values: a few seconds each."""

    check_delay: timedelta = timedelta(seconds=5)
    step_delay: timedelta = timedelta(seconds=3)
    paper_print_delay: timedelta = timedelta(seconds=5)
    post_delay: timedelta = timedelta(seconds=5)
    pickup_delay: timedelta = timedelta(seconds=5)


@dataclass(frozen=True, slots=True)
class ApplicationView:
    """An application with its audit trail, oldest change first, for /status."""

    application: Application
    history: list[StatusChange]


class RestorationService:
    def __init__(
        self,
        *,
        uow_factory: UnitOfWorkFactory,
        register: RegisterLookup,
        clock: Clock,
        timings: ProcessingTimings,
    ) -> None:
        self._uow_factory = uow_factory
        self._register = register
        self._clock = clock
        self._timings = timings

    # --- commands -------------------------------------------------------------------------

    async def submit(self, draft: ApplicationDraft) -> Application:
        """Create the application once per idempotency key; a repeat returns the first one."""
        if not draft.idempotency_key:
            # Without a key a double tap would create two applications.
            raise ValueError("draft.idempotency_key must be set")
        try:
            async with self._uow_factory() as uow:
                existing = await uow.applications.get_by_idempotency_key(draft.idempotency_key)
                if existing is not None:
                    return self._same_author(existing, draft)
                now = self._clock.now()
                application = await uow.applications.add(draft, now=now)
                application.next_action_at = now + self._timings.check_delay
                await uow.applications.update(application)
                await uow.audit.record(
                    StatusChange(
                        application_id=application.id,
                        from_status=None,
                        to_status=_S.SUBMITTED,
                        at=now,
                        actor=citizen_actor(draft.user_id),
                    )
                )
                await uow.outbox.add(_status_notification(application))
                await uow.commit()
                return application
        except DuplicateApplication:
            # A concurrent submit with the same key committed first: hand back its application.
            async with self._uow_factory() as uow:
                existing = await uow.applications.get_by_idempotency_key(draft.idempotency_key)
            if existing is None:
                raise
            return self._same_author(existing, draft)

    async def change_status(
        self,
        application_id: int,
        target: ApplicationStatus,
        *,
        actor: str,
        reason: str | None = None,
        next_action_at: datetime | None = None,
    ) -> Application:
        """The one way to change a status: transition, audit row and notifications in one commit.

        next_action_at is when the background step acts next; None leaves it to people.
        Use scheduled_after() to hand the application back to the automatic processing.
        """
        async with self._uow_factory() as uow:
            application = await uow.applications.get(application_id)
            if application is None:
                raise ApplicationNotFound(application_id)
            await self._change(
                uow, application, target, actor=actor, reason=reason, next_action_at=next_action_at
            )
            await uow.commit()
            return application

    def scheduled_after(
        self, status: ApplicationStatus, delivery: DeliveryMethod
    ) -> datetime | None:
        """When the background step acts on an application that has just entered status."""
        now = self._clock.now()
        t = self._timings
        match status:
            case _S.SUBMITTED | _S.PROCESSING:
                return now + t.check_delay
            case _S.APPROVED if delivery is DeliveryMethod.ELECTRONIC:
                return now + t.step_delay
            case _S.APPROVED if delivery is DeliveryMethod.PICKUP:
                # No status marks "printed", so printing and the office's readiness add up.
                return now + t.paper_print_delay + t.pickup_delay
            case _S.APPROVED:
                return now + t.paper_print_delay + t.post_delay
            case _:
                return None

    async def process_due(self, limit: int = 50) -> int:
        """Advance every application whose next action has come; returns how many moved.

        Safe to run from two instances at once: each application is re-read and re-checked in
        its own unit of work. One failing application is logged and skipped, not retried at once.
        """
        async with self._uow_factory() as uow:
            due_ids = [a.id for a in await uow.applications.due(self._clock.now(), limit)]
        moved = 0
        for application_id in due_ids:
            try:
                if await self._advance(application_id):
                    moved += 1
            except IllegalTransition as exc:
                log.warning("application %s skipped: %s", application_id, exc)
            except Exception:
                # The loop must survive one bad application; log the id only (no personal data).
                log.exception("application %s: background step failed", application_id)
        return moved

    async def record_policy_file_id(self, application_id: int, file_id: str) -> None:
        """Remember the Telegram file_id of the delivered PDF so /policy can resend it."""
        async with self._uow_factory() as uow:
            application = await uow.applications.get(application_id)
            if application is None:
                raise ApplicationNotFound(application_id)
            application.policy_file_id = file_id
            await uow.applications.update(application)
            await uow.commit()

    async def replace_scan(
        self, application_id: int, scan: StoredFile, *, user_id: int
    ) -> StoredFile | None:
        """Attach a new passport scan (an operator asked for one); returns the old one so the
        caller can destroy it: only the scan the check needs is kept (152-FZ)."""
        async with self._uow_factory() as uow:
            application = await uow.applications.get(application_id)
            if application is None or application.user_id != user_id:
                raise ApplicationNotFound(application_id)
            old, application.scan = application.scan, scan
            application.updated_at = self._clock.now()
            await uow.applications.update(application)
            await uow.commit()
        return old

    async def save_citizen(self, citizen: Citizen) -> None:
        async with self._uow_factory() as uow:
            await uow.citizens.save(citizen)
            await uow.commit()

    # --- queries --------------------------------------------------------------------------

    async def get(self, application_id: int) -> Application:
        async with self._uow_factory() as uow:
            application = await uow.applications.get(application_id)
        if application is None:
            raise ApplicationNotFound(application_id)
        return application

    async def applications_of(self, user_id: int) -> list[ApplicationView]:
        """The citizen's applications, newest first, each with its history."""
        async with self._uow_factory() as uow:
            applications = sorted(
                await uow.applications.list_for_user(user_id),
                key=lambda a: (a.created_at, a.id),
                reverse=True,
            )
            return [ApplicationView(a, list(await uow.audit.history(a.id))) for a in applications]

    async def latest_policy(self, user_id: int) -> Application | None:
        """The newest application that confirmed the citizen's register record, if any.

        The policy is the person's record in the ЕРЗЛ, so any completed application (electronic
        or paper) entitles the citizen to the electronic extract again.
        """
        async with self._uow_factory() as uow:
            applications = await uow.applications.list_for_user(user_id)
        completed = [a for a in applications if a.status in _COMPLETED]
        return max(completed, key=lambda a: (a.updated_at, a.id), default=None)

    async def submitted(self, idempotency_key: str) -> Application | None:
        """The application the journey with this key became, if any (it then owns its scan)."""
        async with self._uow_factory() as uow:
            return await uow.applications.get_by_idempotency_key(idempotency_key)

    async def person_for(self, application: Application) -> InsuredPerson | None:
        return self._register.by_enp(application.enp)

    async def get_citizen(self, user_id: int) -> Citizen | None:
        async with self._uow_factory() as uow:
            return await uow.citizens.get(user_id)

    # --- internals ------------------------------------------------------------------------

    @staticmethod
    def _same_author(existing: Application, draft: ApplicationDraft) -> Application:
        # A key reused by another user must not leak someone else's application.
        if existing.user_id != draft.user_id:
            raise DuplicateApplication(draft.idempotency_key)
        return existing

    async def _change(
        self,
        uow: UnitOfWork,
        application: Application,
        target: ApplicationStatus,
        *,
        actor: str,
        reason: str | None,
        next_action_at: datetime | None,
    ) -> None:
        change = apply_transition(
            application, target, actor=actor, at=self._clock.now(), reason=reason
        )
        # A final status has nothing left to do automatically.
        application.next_action_at = None if target.is_final else next_action_at
        await uow.applications.update(application)
        await uow.audit.record(change)
        await uow.outbox.add(_status_notification(application, reason=reason))
        if target is _S.READY:
            await uow.outbox.add(
                Notification(
                    chat_id=application.chat_id,
                    kind=NotificationKind.POLICY_DOCUMENT,
                    payload={
                        "application_id": application.id,
                        "number": application.number,
                        "enp": application.enp,
                    },
                )
            )

    async def _advance(self, application_id: int) -> bool:
        """One automatic step of one application; False when another instance got there first."""
        async with self._uow_factory() as uow:
            application = await uow.applications.get(application_id)
            now = self._clock.now()
            if (
                application is None
                or application.next_action_at is None
                or application.next_action_at > now
            ):
                return False
            reason: str | None = None
            match application.status:
                case _S.SUBMITTED:
                    target = _S.PROCESSING
                case _S.PROCESSING:
                    rejection = await self._check_against_register(uow, application)
                    target = _S.APPROVED if rejection is None else _S.REJECTED
                    reason = None if rejection is None else rejection.value
                case _S.APPROVED:
                    target = _OUTCOME[application.delivery]
                case _:
                    # A final status should carry no next action; clear it so it stops coming due.
                    log.warning("application %s: final but scheduled", application_id)
                    application.next_action_at = None
                    await uow.applications.update(application)
                    await uow.commit()
                    return False
            await self._change(
                uow,
                application,
                target,
                actor=SYSTEM_ACTOR,
                reason=reason,
                next_action_at=self.scheduled_after(target, application.delivery),
            )
            await uow.commit()
            return True

    async def _check_against_register(
        self, uow: UnitOfWork, application: Application
    ) -> RejectionReason | None:
        """Why the register does not confirm the application, or None when it does."""
        person = self._register.by_enp(application.enp)
        if person is None:
            return RejectionReason.NOT_IN_REGISTER
        # Name and birth date are read from this same record, so the ЕНП must be the one the
        # citizen confirmed at login; the passport is the one thing typed independently.
        citizen = await uow.citizens.get(application.user_id)
        if citizen is None or citizen.enp is None:
            return RejectionReason.IDENTITY_NOT_CONFIRMED
        if citizen.enp != application.enp:
            return RejectionReason.ENP_MISMATCH
        if person.passport != application.passport:
            return RejectionReason.PASSPORT_MISMATCH
        return None


def _status_notification(application: Application, reason: str | None = None) -> Notification:
    return Notification(
        chat_id=application.chat_id,
        kind=NotificationKind.STATUS_CHANGED,
        payload={
            "application_id": application.id,
            "number": application.number,
            "status": application.status.value,
            "reason": reason,
        },
    )
