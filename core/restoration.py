"""Use cases of the policy restoration: submit, change status, background processing, queries."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from core.delivery_methods import ProcessingTimings, policy_for
from core.desk import call_operators, desk_row
from core.errors import ApplicationNotFound, DuplicateApplication, IllegalTransition
from core.models import (
    Application,
    ApplicationDraft,
    ApplicationStatus,
    Citizen,
    DeliveryMethod,
    DestroyedData,
    Destruction,
    DestructionReason,
    InsuredPerson,
    Notification,
    NotificationKind,
    StatusChange,
    StoredFile,
)
from core.next_step import NextStep, next_step
from core.ports import Clock, FileVault, RegisterLookup, UnitOfWork, UnitOfWorkFactory
from core.workflow import SYSTEM_ACTOR, apply_transition, citizen_actor, operator_actor

log = logging.getLogger(__name__)

_S = ApplicationStatus

# Statuses after which the citizen's record is confirmed and the policy can be handed out again.
_COMPLETED = frozenset({_S.READY, _S.READY_FOR_PICKUP, _S.SENT_BY_POST, _S.COLLECTED})


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
        desk_enabled: bool = False,
        email_enabled: bool = False,
        service_level: timedelta = timedelta(hours=72),
        vault: FileVault | None = None,
    ) -> None:
        self._uow_factory = uow_factory
        self._register = register
        self._clock = clock
        self._timings = timings
        self._desk_enabled = desk_enabled  # automatic rejections call the operators
        self._email_enabled = email_enabled  # SMTP is configured: confirmed addresses get news
        self._service_level = service_level  # the longest an application should take
        # Where scans are deleted once the status is final; without one (tests), the retention
        # sweep deletes the files no record refers to.
        self._vault = vault
        # Called after a submit whose first step is due at once (no check delay), so the
        # background step runs now instead of at its next tick; set by the composition root.
        self.after_due_submit: Callable[[], None] | None = None

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
                application = await uow.applications.add(
                    draft, now=now, next_action_at=now + self._timings.check_delay
                )
                await uow.audit.record(
                    StatusChange(
                        application_id=application.id,
                        from_status=None,
                        to_status=_S.SUBMITTED,
                        at=now,
                        actor=citizen_actor(draft.user_id),
                    )
                )
                # The citizen's own reply announces the submission; operators' card follows.
                await self._follow_on_desk(uow, application.user_id)
                await uow.commit()
            if self.after_due_submit is not None and self._timings.check_delay <= timedelta(0):
                self.after_due_submit()
            return application
        except DuplicateApplication:
            # A concurrent submit with the same key committed first: hand back its application.
            async with self._uow_factory(read_only=True) as uow:
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
        owner: int | None = None,
    ) -> Application:
        """The one way to change a status: transition, audit row and notifications in one commit.

        next_action_at is when the background step acts next; None leaves it to people.
        Use scheduled_after() to hand the application back to the automatic processing.
        owner, when given, must be the application's citizen (an operator acts in their topic).
        """
        async with self._uow_factory() as uow:
            application = await self._owned(uow, application_id, owner)
            destroyed = await self._change(
                uow, application, target, actor=actor, reason=reason, next_action_at=next_action_at
            )
            await uow.commit()
        await self.destroy_files(destroyed)
        return application

    async def approve(self, application_id: int, *, owner: int, operator_id: int) -> Application:
        """An operator approves: a new application goes through "processing" to "approved" in
        one transaction (both audit rows), then back to the background step for the outcome."""
        actor, now = operator_actor(operator_id), self._clock.now()
        async with self._uow_factory() as uow:
            application = await self._owned(uow, application_id, owner)
            if application.status is _S.SUBMITTED:
                await self._change(uow, application, _S.PROCESSING, actor=actor, at=now)
            await self._change(
                uow,
                application,
                _S.APPROVED,
                actor=actor,
                next_action_at=self.scheduled_after(_S.APPROVED, application.delivery),
                at=now,
            )
            await uow.commit()
            return application

    async def reject(
        self, application_id: int, *, owner: int, operator_id: int, reason: str
    ) -> Application:
        return await self.change_status(
            application_id,
            _S.REJECTED,
            actor=operator_actor(operator_id),
            reason=reason,
            owner=owner,
        )

    async def hand_over(self, application_id: int, *, owner: int, operator_id: int) -> Application:
        """An operator marks the paper copy posted or ready at the office."""
        async with self._uow_factory() as uow:
            application = await self._owned(uow, application_id, owner)
            policy = policy_for(application.delivery)
            if not policy.handed_over_by_operator:
                raise IllegalTransition(application.status, policy.outcome)
            actor = operator_actor(operator_id)
            destroyed = await self._change(uow, application, policy.outcome, actor=actor)
            await uow.commit()
        await self.destroy_files(destroyed)
        return application

    async def mark_collected(
        self, application_id: int, *, owner: int, operator_id: int
    ) -> Application:
        """An operator hands the paper copy over at the office: its reminders stop."""
        return await self.change_status(
            application_id, _S.COLLECTED, actor=operator_actor(operator_id), owner=owner
        )

    async def record_consent(self, user_id: int, *, locale: str) -> None:
        """The citizen consented to the processing of their data, now. One statement: it
        creates the profile if it is missing and changes nothing else in one that exists."""
        citizen = Citizen(user_id=user_id, locale=locale, consent_at=self._clock.now())
        async with self._uow_factory() as uow:
            await uow.citizens.update_or_create(citizen, ("consent_at",))
            await uow.commit()

    async def confirm_identity(self, user_id: int, *, locale: str, phone: str, enp: str) -> None:
        """Login confirmed: remember whose register record this citizen is (the check later
        compares the application with it). Creates the profile if it is missing."""
        citizen = Citizen(user_id=user_id, locale=locale, phone=phone, enp=enp)
        async with self._uow_factory() as uow:
            await uow.citizens.update_or_create(citizen, ("phone", "enp"))
            await uow.commit()

    def scheduled_after(
        self, status: ApplicationStatus, delivery: DeliveryMethod
    ) -> datetime | None:
        """When the background step acts on an application that has just entered status."""
        delay = self._delay_after(status, delivery)
        return None if delay is None else self._clock.now() + delay

    def _delay_after(self, status: ApplicationStatus, delivery: DeliveryMethod) -> timedelta | None:
        match status:
            case _S.SUBMITTED | _S.PROCESSING:
                return self._timings.check_delay
            case _S.APPROVED:
                return policy_for(delivery).delay_after_approval(self._timings)
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
        caller can destroy it: only the scan the check needs is kept (152-FZ). An application
        finished meanwhile needs none: the new scan itself is returned, to destroy."""
        async with self._uow_factory() as uow:
            application = await uow.applications.get(application_id)
            if application is None or application.user_id != user_id:
                raise ApplicationNotFound(application_id)
            if application.status.is_final:
                return scan
            old, application.scan = application.scan, scan
            application.updated_at = self._clock.now()
            await uow.applications.update(application)
            await uow.commit()
        return old

    async def change_in(
        self,
        uow: UnitOfWork,
        application: Application,
        target: ApplicationStatus,
        *,
        actor: str,
        reason: str | None = None,
    ) -> StoredFile | None:
        """The workflow step inside the caller's unit of work (e.g. withdrawing applications
        while erasing a citizen's data); returns the scan to destroy once it commits."""
        return await self._change(uow, application, target, actor=actor, reason=reason)

    async def destroy_files(self, *scans: StoredFile | None) -> None:
        """Delete scans whose records were committed without them. A crash before this leaves
        only files no record refers to, which the retention sweep deletes."""
        if self._vault is None:
            return
        for scan in scans:
            if scan is not None:
                await self._vault.delete(scan.name)

    async def save_citizen(self, citizen: Citizen) -> None:
        async with self._uow_factory() as uow:
            await uow.citizens.save(citizen)
            await uow.commit()

    # --- queries --------------------------------------------------------------------------

    def next_step(self, application: Application) -> NextStep:
        """What happens next to the application, and by when."""
        return next_step(
            application,
            timings=self._timings,
            service_level=self._service_level,
            now=self._clock.now(),
        )

    async def get(self, application_id: int) -> Application:
        async with self._uow_factory(read_only=True) as uow:
            application = await uow.applications.get(application_id)
        if application is None:
            raise ApplicationNotFound(application_id)
        return application

    async def applications_of(self, user_id: int) -> list[ApplicationView]:
        """The citizen's applications, newest first, each with its history."""
        async with self._uow_factory(read_only=True) as uow:
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
        async with self._uow_factory(read_only=True) as uow:
            applications = await uow.applications.list_for_user(user_id)
        completed = [a for a in applications if a.status in _COMPLETED]
        return max(completed, key=lambda a: (a.updated_at, a.id), default=None)

    async def submitted(self, idempotency_key: str) -> Application | None:
        """The application the journey with this key became, if any (it then owns its scan)."""
        async with self._uow_factory(read_only=True) as uow:
            return await uow.applications.get_by_idempotency_key(idempotency_key)

    async def person_for(self, application: Application) -> InsuredPerson | None:
        return self._register.by_enp(application.enp)

    async def get_citizen(self, user_id: int) -> Citizen | None:
        async with self._uow_factory(read_only=True) as uow:
            return await uow.citizens.get(user_id)

    # --- internals ------------------------------------------------------------------------

    @staticmethod
    def _same_author(existing: Application, draft: ApplicationDraft) -> Application:
        # A key reused by another user must not leak someone else's application.
        if existing.user_id != draft.user_id:
            raise DuplicateApplication(draft.idempotency_key)
        return existing

    @staticmethod
    async def _owned(uow: UnitOfWork, application_id: int, owner: int | None) -> Application:
        application = await uow.applications.get(application_id)
        if application is None or (owner is not None and application.user_id != owner):
            raise ApplicationNotFound(application_id)
        return application

    async def _follow_on_desk(self, uow: UnitOfWork, user_id: int) -> None:
        """The operators' topic title and card follow the citizen's applications."""
        if self._desk_enabled and await uow.conversations.get(user_id) is not None:
            await uow.outbox.add(
                desk_row(user_id, NotificationKind.DESK_CARD, now=self._clock.now())
            )

    async def _change(
        self,
        uow: UnitOfWork,
        application: Application,
        target: ApplicationStatus,
        *,
        actor: str,
        reason: str | None = None,
        next_action_at: datetime | None = None,
        at: datetime | None = None,
        announce: bool = True,
    ) -> StoredFile | None:
        """Returns the scan the change destroyed: its file goes once the transaction commits.

        `announce=False` records the change without telling anyone: for a status passed
        through in the same transaction as the next one, which is announced instead."""
        now = at or self._clock.now()
        change = apply_transition(application, target, actor=actor, at=now, reason=reason)
        # A final status has nothing left to do automatically.
        application.next_action_at = None if target.is_final else next_action_at
        destroyed = None
        if target.is_final and application.scan is not None:
            # The check is over: the scan is kept no longer (152-FZ), and that is recorded.
            destroyed, application.scan = application.scan, None
            application.scan_destroyed_at = now
            await uow.destructions.record(
                Destruction(
                    what=DestroyedData.SCAN,
                    reason=DestructionReason.CONSENT_WITHDRAWN
                    if target is _S.WITHDRAWN
                    else DestructionReason.FINAL_STATUS,
                    at=now,
                    application_id=application.id,
                )
            )
        await uow.applications.update(application)
        await uow.audit.record(change)
        if not announce:
            return destroyed
        # Ids and codes only: the sender reads the rest from the records when it sends.
        if target is _S.READY:
            # The policy itself tells the status (its caption is the push): one message, not
            # two, each of which waits for the chat's and Telegram's rate limits.
            await uow.outbox.add(self._citizen_row(application, NotificationKind.POLICY_DOCUMENT))
        else:
            await uow.outbox.add(
                self._citizen_row(application, NotificationKind.STATUS_CHANGED, status=target.value)
            )
        if self._email_enabled:
            citizen = await uow.citizens.get(application.user_id)
            if citizen is not None and citizen.confirmed_email:
                # The same news by email (the PDF attached when it is READY); its own lane.
                await uow.outbox.add(
                    self._citizen_row(
                        application, NotificationKind.EMAIL_STATUS, status=target.value
                    )
                )
        if self._desk_enabled and actor == SYSTEM_ACTOR and rejection_code(reason) is not None:
            # An automatic rejection by the register check: operators should look at it.
            await call_operators(
                uow, application.user_id, name="", reason="desk.reason.rejected", now=now
            )
        await self._follow_on_desk(uow, application.user_id)
        return destroyed

    def _citizen_row(
        self, application: Application, kind: NotificationKind, **payload: object
    ) -> Notification:
        return Notification(
            chat_id=application.chat_id,
            kind=kind,
            payload={"application_id": application.id, **payload},
            created_at=self._clock.now(),
        )

    async def _advance(self, application_id: int) -> bool:
        """The automatic steps of one application that are due; False when another instance got
        there first.

        A step whose delay is zero follows the previous one at once, in the same transaction
        (with the delays at 0, submitted -> processing -> approved -> ready is one commit): the
        citizen is told the status it ends at, once, instead of a push for each status passed
        through in the same instant, each waiting a second for the chat's rate limit.
        """
        async with self._uow_factory() as uow:
            application = await uow.applications.get(application_id)
            now = self._clock.now()
            if (
                application is None
                or application.next_action_at is None
                or application.next_action_at > now
            ):
                return False
            step = await self._next_target(uow, application)
            if step is None:
                # A final status should carry no next action; clear it so it stops coming due.
                log.warning("application %s: final but scheduled", application_id)
                application.next_action_at = None
                await uow.applications.update(application)
                await uow.commit()
                return False
            destroyed: StoredFile | None = None
            while step is not None:
                target, reason = step
                delay = self._delay_after(target, application.delivery)
                # Only a final status destroys the scan, and nothing follows a final status.
                follows = delay is not None and delay <= timedelta(0)
                destroyed = await self._change(
                    uow,
                    application,
                    target,
                    actor=SYSTEM_ACTOR,
                    reason=reason,
                    next_action_at=None if delay is None else now + delay,
                    at=now,
                    announce=not follows,
                )
                step = await self._next_target(uow, application) if follows else None
            await uow.commit()
        await self.destroy_files(destroyed)
        return True

    async def _next_target(
        self, uow: UnitOfWork, application: Application
    ) -> tuple[ApplicationStatus, str | None] | None:
        """The status the automatic step moves the application to, with the reason of a
        rejection; None for a status no automatic step leaves."""
        match application.status:
            case _S.SUBMITTED:
                return _S.PROCESSING, None
            case _S.PROCESSING:
                rejection = await self._check_against_register(uow, application)
                if rejection is None:
                    return _S.APPROVED, None
                return _S.REJECTED, rejection.value
            case _S.APPROVED:
                return policy_for(application.delivery).outcome, None
            case _:
                return None

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
