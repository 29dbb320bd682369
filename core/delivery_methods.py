"""How each way of handing out the policy behaves: one table the workflow, the dialog's summary,
the operators' card and the status texts all read, so a method is described in one place."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from types import MappingProxyType

from core.models import ApplicationDraft, ApplicationStatus, DeliveryMethod


@dataclass(frozen=True, slots=True)
class ProcessingTimings:
    """How long each automatic step waits. The defaults are demo values: a few seconds each."""

    check_delay: timedelta = timedelta(seconds=5)
    step_delay: timedelta = timedelta(seconds=3)
    paper_print_delay: timedelta = timedelta(seconds=5)
    post_delay: timedelta = timedelta(seconds=5)
    pickup_delay: timedelta = timedelta(seconds=5)


@dataclass(frozen=True, slots=True)
class MethodPolicy:
    method: DeliveryMethod
    outcome: ApplicationStatus  # the final status an approved application reaches
    paper: bool  # a paper extract (printed, then posted or handed out)
    needs: tuple[str, ...]  # the answers the dialog must collect for it (Answers' fields)
    handed_over_by_operator: bool  # an operator may mark the paper copy handed over

    def fee_kopecks(self, paper_fee_kopecks: int) -> int:
        """Restoring is free by law; a deployer's optional fee applies to paper extras only."""
        return paper_fee_kopecks if self.paper else 0

    def delay_after_approval(self, timings: ProcessingTimings) -> timedelta:
        """From approval to the outcome status. No status marks "printed", so printing and
        posting (or the office's readiness) add up."""
        if self.method is DeliveryMethod.ELECTRONIC:
            return timings.step_delay
        extra = timings.pickup_delay if self.method is DeliveryMethod.PICKUP else timings.post_delay
        return timings.paper_print_delay + extra

    def is_complete(self, draft: ApplicationDraft) -> bool:
        """Whether the draft carries every answer this method needs."""
        return all(getattr(draft, name) for name in self.needs)


_S = ApplicationStatus
POLICIES: Mapping[DeliveryMethod, MethodPolicy] = MappingProxyType(
    {
        DeliveryMethod.ELECTRONIC: MethodPolicy(
            DeliveryMethod.ELECTRONIC,
            _S.READY,
            paper=False,
            needs=(),
            handed_over_by_operator=False,
        ),
        DeliveryMethod.POST: MethodPolicy(
            DeliveryMethod.POST,
            _S.SENT_BY_POST,
            paper=True,
            needs=("postcode", "address"),
            handed_over_by_operator=True,
        ),
        DeliveryMethod.PICKUP: MethodPolicy(
            DeliveryMethod.PICKUP,
            _S.READY_FOR_PICKUP,
            paper=True,
            needs=("office_id",),
            handed_over_by_operator=True,
        ),
    }
)


def policy_for(method: DeliveryMethod) -> MethodPolicy:
    return POLICIES[method]


# Each outcome status belongs to exactly one method.
METHOD_OF_OUTCOME: Mapping[ApplicationStatus, DeliveryMethod] = MappingProxyType(
    {policy.outcome: method for method, policy in POLICIES.items()}
)
