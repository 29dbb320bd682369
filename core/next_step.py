"""What happens next to an application, and when: told in every status push and in /status.

The date comes from the configured processing delays while the automatic steps run, and from
the service level (SERVICE_LEVEL_HOURS, counted from submission) when people decide.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from core.delivery_methods import ProcessingTimings
from core.models import Application, ApplicationStatus, DeliveryMethod

_S = ApplicationStatus


class NextStepKind(StrEnum):
    CHECK = "check"  # the register check decides
    ELECTRONIC = "electronic"  # the PDF arrives in the chat
    POST = "post"  # the paper copy is printed and posted
    PICKUP = "pickup"  # the paper copy is printed and sent to the office
    COLLECT = "collect"  # the citizen collects it at the office
    IN_POST = "in_post"  # on its way by post
    DONE = "done"  # nothing left: /policy any time
    REJECTED = "rejected"  # apply again, or ask an operator


@dataclass(frozen=True, slots=True)
class NextStep:
    kind: NextStepKind
    # When it is expected; None when nothing is waited for or the date has passed (it is
    # late: then the texts promise news instead of a date).
    expected_at: datetime | None = None
    late: bool = False


_AFTER_APPROVAL = {
    DeliveryMethod.ELECTRONIC: NextStepKind.ELECTRONIC,
    DeliveryMethod.POST: NextStepKind.POST,
    DeliveryMethod.PICKUP: NextStepKind.PICKUP,
}


def next_step(
    application: Application,
    *,
    timings: ProcessingTimings,
    service_level: timedelta,
    now: datetime,
) -> NextStep:
    deadline = application.created_at + service_level
    scheduled = application.next_action_at
    match application.status:
        case _S.SUBMITTED:
            kind = NextStepKind.CHECK
            # Submitted -> processing -> the decision: two checks' delays in all.
            estimate = None if scheduled is None else scheduled + timings.check_delay
        case _S.PROCESSING:
            kind, estimate = NextStepKind.CHECK, scheduled
        case _S.APPROVED:
            kind, estimate = _AFTER_APPROVAL[application.delivery], scheduled
        case _S.READY_FOR_PICKUP:
            return NextStep(NextStepKind.COLLECT)
        case _S.SENT_BY_POST:
            return NextStep(NextStepKind.IN_POST)
        case _S.REJECTED | _S.WITHDRAWN:
            return NextStep(NextStepKind.REJECTED)
        case _:
            return NextStep(NextStepKind.DONE)
    # Without a scheduled step people decide, within the service level.
    expected = estimate or deadline
    if expected <= now:
        return NextStep(kind, None, late=True)
    return NextStep(kind, expected)
