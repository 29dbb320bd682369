"""What happens next, and when: from the configured delays, or the service level."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from core.models import ApplicationStatus, DeliveryMethod
from core.next_step import NextStepKind, next_step
from tests.unit.test_restoration import TIMINGS
from tests.unit.test_workflow import CREATED, make_application

S = ApplicationStatus
LEVEL = timedelta(hours=72)


def step(status: S, delivery: DeliveryMethod = DeliveryMethod.ELECTRONIC, **fields: object):
    application = replace(make_application(status, delivery), **fields)
    return next_step(application, timings=TIMINGS, service_level=LEVEL, now=CREATED)


def test_a_submitted_application_expects_its_decision_after_both_checks() -> None:
    scheduled = CREATED + TIMINGS.check_delay
    result = step(S.SUBMITTED, next_action_at=scheduled)
    assert result.kind is NextStepKind.CHECK
    assert result.expected_at == scheduled + TIMINGS.check_delay


def test_an_approved_paper_copy_is_expected_when_its_step_is_scheduled() -> None:
    scheduled = CREATED + timedelta(hours=5)
    result = step(S.APPROVED, DeliveryMethod.POST, next_action_at=scheduled)
    assert (result.kind, result.expected_at) == (NextStepKind.POST, scheduled)


def test_when_people_decide_the_service_level_is_the_date() -> None:
    result = step(S.APPROVED, DeliveryMethod.PICKUP, next_action_at=None)
    assert (result.kind, result.expected_at) == (NextStepKind.PICKUP, CREATED + LEVEL)


def test_a_date_already_past_is_not_promised() -> None:
    result = step(S.PROCESSING, next_action_at=CREATED - timedelta(minutes=1))
    assert (result.expected_at, result.late) == (None, True)


def test_final_statuses_say_what_is_left_without_a_date() -> None:
    expected = {
        S.READY: NextStepKind.DONE,
        S.READY_FOR_PICKUP: NextStepKind.COLLECT,
        S.SENT_BY_POST: NextStepKind.IN_POST,
        S.REJECTED: NextStepKind.REJECTED,
        S.COLLECTED: NextStepKind.DONE,
    }
    for status, kind in expected.items():
        assert step(status).kind is kind
        assert step(status).expected_at is None
