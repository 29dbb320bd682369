"""What the dialog has collected so far, kept as the FSM data of the citizen's chat."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from aiogram.fsm.context import FSMContext
from aiogram.fsm.storage.base import StateType, StorageKey
from pydantic import BaseModel

from core.models import DeliveryMethod, LossReason, Passport, StoredFile


class Answers(BaseModel):
    locale: str | None = None
    run_id: str | None = None  # one per journey: the idempotency key of its submit
    enp: str | None = None
    reason: LossReason | None = None
    reason_text: str | None = None
    passport_series: str | None = None
    passport_number: str | None = None
    passport_attempts: int = 0  # mismatches in a row; survives /start (a lock must hold)
    passport_locked_until: datetime | None = None
    scan_name: str | None = None
    scan_sha256: str | None = None
    scan_size: int | None = None
    album_id: str | None = None
    delivery: DeliveryMethod | None = None
    postcode: str | None = None
    address: str | None = None
    office_id: str | None = None
    editing: bool = False  # a correction from the summary returns to the summary
    resume_state: str | None = None  # the step to return to after a side trip (email, operator)
    rescan_application_id: int | None = None  # an operator asked for a new passport photo

    @property
    def passport(self) -> Passport | None:
        if self.passport_series and self.passport_number:
            return Passport(self.passport_series, self.passport_number)
        return None

    @property
    def scan(self) -> StoredFile | None:
        if self.scan_name and self.scan_sha256 and self.scan_size is not None:
            return StoredFile(self.scan_name, self.scan_sha256, self.scan_size)
        return None

    def fresh(self) -> Answers:
        """A new journey keeps only the chosen language and the passport attempts: starting
        again must not reset the limit on guessing a passport number."""
        return Answers(
            locale=self.locale,
            passport_attempts=self.passport_attempts,
            passport_locked_until=self.passport_locked_until,
        )


async def load_answers(state: FSMContext) -> Answers:
    return Answers.model_validate(await state.get_data())


async def save_answers(state: FSMContext, answers: Answers) -> None:
    await state.set_data(answers.model_dump(mode="json", exclude_defaults=True))


@runtime_checkable
class StateAndDataWrites(Protocol):
    """A dialog storage that writes a state and data in one go (storage.fsm.SqlFsmStorage)."""

    async def set_state_and_data(
        self, key: StorageKey, state: StateType, data: Mapping[str, Any]
    ) -> None: ...


async def save_step(
    state: FSMContext, target: StateType, answers: Answers, *, answers_first: bool = True
) -> None:
    """Enter `target` and save the answers if they changed: one write where the storage takes
    both at once, else the answers and the state in the order asked (answers_first: a crash
    between them must not leave a later step without the answer that led to it)."""
    data = answers.model_dump(mode="json", exclude_defaults=True)
    changed = data != await state.get_data()
    storage = state.storage
    if changed and isinstance(storage, StateAndDataWrites):
        await storage.set_state_and_data(state.key, target, data)
        return
    if changed and answers_first:
        await state.set_data(data)
    await state.set_state(target)
    if changed and not answers_first:
        await state.set_data(data)


def answers_from(data: dict[str, Any]) -> Answers:
    return Answers.model_validate(data)
