"""The application workflow: which status may follow which, and the one way to change it."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType

from core.delivery_methods import METHOD_OF_OUTCOME
from core.errors import IllegalTransition
from core.models import Application, ApplicationStatus, DeliveryMethod, StatusChange

_S = ApplicationStatus

TRANSITIONS: Mapping[ApplicationStatus, frozenset[ApplicationStatus]] = MappingProxyType(
    {
        # Any unfinished application is withdrawn when its citizen withdraws consent: without
        # their data it can be neither checked nor handed out.
        _S.SUBMITTED: frozenset({_S.PROCESSING, _S.REJECTED, _S.WITHDRAWN}),
        _S.PROCESSING: frozenset({_S.APPROVED, _S.REJECTED, _S.WITHDRAWN}),
        _S.APPROVED: frozenset({_S.READY, _S.READY_FOR_PICKUP, _S.SENT_BY_POST, _S.WITHDRAWN}),
        _S.REJECTED: frozenset(),
        _S.READY: frozenset(),
        # The one move after the processing: the citizen collects the paper copy.
        _S.READY_FOR_PICKUP: frozenset({_S.COLLECTED}),
        _S.SENT_BY_POST: frozenset(),
        _S.COLLECTED: frozenset(),
        _S.WITHDRAWN: frozenset(),
    }
)

# Each outcome of an approved application exists for one delivery method only: an electronic
# application is never "sent by post", a posted one never "ready" in the chat.
# A collected copy is a paper copy handed out at an office.
DELIVERY_OUTCOMES: Mapping[ApplicationStatus, DeliveryMethod] = MappingProxyType(
    {**METHOD_OF_OUTCOME, _S.COLLECTED: DeliveryMethod.PICKUP}
)

SYSTEM_ACTOR = "system"


def citizen_actor(user_id: int) -> str:
    return f"citizen:{user_id}"


def operator_actor(operator_id: int) -> str:
    return f"operator:{operator_id}"


def can_transition(
    current: ApplicationStatus, target: ApplicationStatus, delivery: DeliveryMethod
) -> bool:
    if target not in TRANSITIONS[current]:
        return False
    required = DELIVERY_OUTCOMES.get(target)
    return required is None or required == delivery


def allowed_targets(
    current: ApplicationStatus, delivery: DeliveryMethod
) -> frozenset[ApplicationStatus]:
    """Statuses an application may move to next, e.g. for an operator's buttons."""
    return frozenset(t for t in TRANSITIONS[current] if can_transition(current, t, delivery))


def apply_transition(
    application: Application,
    target: ApplicationStatus,
    *,
    actor: str,
    at: datetime,
    reason: str | None = None,
) -> StatusChange:
    """Move the application to target and return the audit row to record in the same transaction.

    Raises IllegalTransition (application untouched) when the table or the delivery method
    forbids it, and ValueError for a rejection without a reason: the citizen must be told why.
    """
    current = application.status
    if not can_transition(current, target, application.delivery):
        raise IllegalTransition(current, target)
    if target is ApplicationStatus.REJECTED and not (reason and reason.strip()):
        raise ValueError("a rejection needs a reason")
    application.status = target
    application.updated_at = at
    if target is ApplicationStatus.REJECTED:
        application.rejection_reason = reason
    return StatusChange(
        application_id=application.id,
        from_status=current,
        to_status=target,
        at=at,
        actor=actor,
        reason=reason,
    )
