from __future__ import annotations

import copy
import itertools
from datetime import UTC, datetime, timedelta

import pytest

from core.errors import IllegalTransition
from core.models import (
    Application,
    ApplicationStatus,
    DeliveryMethod,
    LossReason,
    Passport,
    StatusChange,
    StoredFile,
)
from core.workflow import (
    SYSTEM_ACTOR,
    TRANSITIONS,
    allowed_targets,
    apply_transition,
    can_transition,
    citizen_actor,
    operator_actor,
)

S = ApplicationStatus
D = DeliveryMethod
CREATED = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
LATER = CREATED + timedelta(minutes=5)

# The rule written out by hand, independent of the module's table.
LEGAL: set[tuple[S, S, D]] = {
    *((S.SUBMITTED, S.PROCESSING, d) for d in D),
    *((S.SUBMITTED, S.REJECTED, d) for d in D),
    *((S.PROCESSING, S.APPROVED, d) for d in D),
    *((S.PROCESSING, S.REJECTED, d) for d in D),
    (S.APPROVED, S.READY, D.ELECTRONIC),
    (S.APPROVED, S.READY_FOR_PICKUP, D.PICKUP),
    (S.APPROVED, S.SENT_BY_POST, D.POST),
    (S.READY_FOR_PICKUP, S.COLLECTED, D.PICKUP),
    *((status, S.WITHDRAWN, d) for status in (S.SUBMITTED, S.PROCESSING, S.APPROVED) for d in D),
}
ALL_CASES = list(itertools.product(S, S, D))


def make_application(status: S, delivery: D) -> Application:
    return Application(
        id=7,
        number="2611-000007",
        user_id=100,
        chat_id=100,
        enp="8451999122899990",
        loss_reason=LossReason.LOST,
        loss_reason_text=None,
        passport=Passport("4510", "123456"),
        scan=StoredFile("scan.jpg", "0" * 64, 10),
        delivery=delivery,
        postcode="101000" if delivery is D.POST else None,
        address="Moscow" if delivery is D.POST else None,
        office_id="msk-1" if delivery is D.PICKUP else None,
        locale="ru",
        status=status,
        created_at=CREATED,
        updated_at=CREATED,
        idempotency_key="k",
    )


def test_the_table_names_every_status() -> None:
    assert set(TRANSITIONS) == set(S)


@pytest.mark.parametrize("status", [s for s in S if s.is_final and s is not S.READY_FOR_PICKUP])
def test_final_statuses_lead_nowhere(status: S) -> None:
    assert TRANSITIONS[status] == frozenset()
    assert all(not allowed_targets(status, d) for d in D)


def test_a_copy_waiting_at_the_office_can_only_be_collected() -> None:
    assert TRANSITIONS[S.READY_FOR_PICKUP] == {S.COLLECTED}
    assert allowed_targets(S.READY_FOR_PICKUP, D.PICKUP) == {S.COLLECTED}


@pytest.mark.parametrize(("current", "target", "delivery"), ALL_CASES)
def test_can_transition_matches_the_rule(current: S, target: S, delivery: D) -> None:
    assert can_transition(current, target, delivery) == ((current, target, delivery) in LEGAL)


@pytest.mark.parametrize(("current", "target", "delivery"), sorted(LEGAL))
def test_a_legal_transition_changes_the_application_and_returns_its_audit_row(
    current: S, target: S, delivery: D
) -> None:
    application = make_application(current, delivery)
    reason = "passport_mismatch" if target is S.REJECTED else None

    change = apply_transition(application, target, actor=SYSTEM_ACTOR, at=LATER, reason=reason)

    assert change == StatusChange(
        application_id=7,
        from_status=current,
        to_status=target,
        at=LATER,
        actor="system",
        reason=reason,
    )
    assert application.status is target
    assert application.updated_at == LATER
    assert application.rejection_reason == reason


@pytest.mark.parametrize(
    ("current", "target", "delivery"), [c for c in ALL_CASES if c not in LEGAL]
)
def test_an_illegal_transition_raises_and_leaves_the_application_unchanged(
    current: S, target: S, delivery: D
) -> None:
    application = make_application(current, delivery)
    before = copy.deepcopy(application)

    with pytest.raises(IllegalTransition) as raised:
        apply_transition(application, target, actor=SYSTEM_ACTOR, at=LATER, reason="why")

    assert (raised.value.current, raised.value.target) == (current, target)
    assert application == before


@pytest.mark.parametrize("delivery", list(D))
def test_allowed_targets_of_an_approved_application_follow_its_delivery(delivery: D) -> None:
    expected = {D.ELECTRONIC: S.READY, D.PICKUP: S.READY_FOR_PICKUP, D.POST: S.SENT_BY_POST}
    assert allowed_targets(S.APPROVED, delivery) == {expected[delivery], S.WITHDRAWN}


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_a_rejection_without_a_reason_is_refused_and_changes_nothing(reason: str | None) -> None:
    application = make_application(S.PROCESSING, D.ELECTRONIC)
    before = copy.deepcopy(application)

    with pytest.raises(ValueError):
        apply_transition(application, S.REJECTED, actor=operator_actor(5), at=LATER, reason=reason)

    assert application == before


def test_an_operator_comment_goes_to_the_audit_row_not_to_the_rejection_reason() -> None:
    application = make_application(S.SUBMITTED, D.POST)

    change = apply_transition(
        application, S.PROCESSING, actor=operator_actor(5), at=LATER, reason="taken by hand"
    )

    assert change.reason == "taken by hand"
    assert change.actor == "operator:5"
    assert application.rejection_reason is None


def test_actor_strings() -> None:
    assert SYSTEM_ACTOR == "system"
    assert citizen_actor(42) == "citizen:42"
    assert operator_actor(7) == "operator:7"
