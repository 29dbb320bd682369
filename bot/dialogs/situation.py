"""Where the citizen stands, so texts about the operator fit the moment: no application yet, one
being filled in, one submitted and in work, or one finished (the policy handed out or refused)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from core.restoration import RestorationService


class Situation(StrEnum):
    NO_APPLICATION = "no_application"
    IN_PROGRESS = "in_progress"  # the form is being filled in: going back resumes it
    SUBMITTED = "submitted"
    FINISHED = "finished"


@dataclass(frozen=True, slots=True)
class Standing:
    situation: Situation
    number: str = ""  # of the newest application, when there is one

    def key(self, prefix: str) -> str:
        """The locale key of `prefix` for this situation, e.g. support.waiting.finished."""
        return f"{prefix}.{self.situation.value}"


async def standing_of(
    user_id: int, *, form_step: str | None, restoration: RestorationService
) -> Standing:
    """form_step: the dialog step the citizen is at (or paused at), None outside the form."""
    if form_step is not None:
        return Standing(Situation.IN_PROGRESS)
    views = await restoration.applications_of(user_id)
    if not views:
        return Standing(Situation.NO_APPLICATION)
    newest = views[0].application
    situation = Situation.FINISHED if newest.status.is_final else Situation.SUBMITTED
    return Standing(situation, newest.number)
