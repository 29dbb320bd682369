"""Fault injection: make the next N calls of a method fail the way a real outage does."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

# status: an error answer; drop: the connection closes before Telegram acts on the request;
# delay: the answer comes late; timeout: no answer for `seconds`, then the connection closes,
# nothing done; lose_answer: Telegram acts on the request, then the connection closes before
# its answer arrives (the client cannot tell this from a drop).
FaultKind = Literal["status", "drop", "delay", "timeout", "lose_answer"]


@dataclass
class Fault:
    kind: FaultKind
    status: int = 429
    retry_after: int = 1
    description: str | None = None
    seconds: float = 0.0  # "delay": answer normally, this much later; "timeout": hang this long


@dataclass
class _Plan:
    fault: Fault
    remaining: int


class FaultPlan:
    """Per-method queue of pending faults, consumed one per call in the order they were added."""

    def __init__(self) -> None:
        self._plans: dict[str, list[_Plan]] = {}

    def add(self, method: str, fault: Fault, times: int = 1) -> None:
        if times < 1:
            raise ValueError("times must be at least 1")
        self._plans.setdefault(method.lower(), []).append(_Plan(fault, times))

    def take(self, method: str) -> Fault | None:
        plans = self._plans.get(method.lower())
        if not plans:
            return None
        plan = plans[0]
        plan.remaining -= 1
        if plan.remaining <= 0:
            plans.pop(0)
        return plan.fault

    def pending(self) -> dict[str, int]:
        return {m: sum(p.remaining for p in plans) for m, plans in self._plans.items() if plans}

    def clear(self) -> None:
        self._plans.clear()
