"""One policy per delivery method, walked through everything that reads it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.delivery_methods import POLICIES, ProcessingTimings, policy_for
from core.models import (
    ApplicationDraft,
    ApplicationStatus,
    DeliveryMethod,
    LossReason,
    Passport,
    StoredFile,
)
from core.workflow import DELIVERY_OUTCOMES, allowed_targets

S, D = ApplicationStatus, DeliveryMethod
TIMINGS = ProcessingTimings(
    check_delay=timedelta(seconds=1),
    step_delay=timedelta(seconds=2),
    paper_print_delay=timedelta(seconds=30),
    post_delay=timedelta(seconds=40),
    pickup_delay=timedelta(seconds=50),
)
EXPECTED = {
    D.ELECTRONIC: (S.READY, False, (), timedelta(seconds=2)),
    D.POST: (S.SENT_BY_POST, True, ("postcode", "address"), timedelta(seconds=70)),
    D.PICKUP: (S.READY_FOR_PICKUP, True, ("office_id",), timedelta(seconds=80)),
}


def draft(method: D, **answers: str | None) -> ApplicationDraft:
    return ApplicationDraft(
        user_id=1,
        chat_id=1,
        enp="8451999122899990",
        loss_reason=LossReason.LOST,
        passport=Passport("4510", "123456"),
        scan=StoredFile("f.jpg", "a" * 64, 1),
        delivery=method,
        locale="ru",
        idempotency_key="k",
        **answers,  # type: ignore[arg-type]
    )


def test_every_method_has_a_policy() -> None:
    assert set(POLICIES) == set(D)


@pytest.mark.parametrize("method", list(D))
def test_each_method_through_its_policy(method: D) -> None:
    outcome, paper, needs, wait = EXPECTED[method]
    policy = policy_for(method)

    assert (policy.outcome, policy.paper, policy.needs) == (outcome, paper, needs)
    assert policy.handed_over_by_operator is paper
    # The workflow allows exactly this outcome after approval.
    assert allowed_targets(S.APPROVED, method) - {S.WITHDRAWN} == {outcome}
    assert DELIVERY_OUTCOMES[outcome] is method
    # Delays: the background step waits this long after approval.
    assert policy.delay_after_approval(TIMINGS) == wait
    # A fee applies to paper extras only; restoring itself is free.
    assert policy.fee_kopecks(15_000) == (15_000 if paper else 0)
    assert policy.fee_kopecks(0) == 0
    # The answers it needs: complete with them, incomplete without.
    full = {"postcode": "101000", "address": "Moscow, Tverskaya 1", "office_id": "msk-1"}
    assert policy.is_complete(draft(method, **{k: full[k] for k in needs}))
    for missing in needs:
        partial = {k: full[k] for k in needs if k != missing}
        assert not policy.is_complete(draft(method, **partial))
