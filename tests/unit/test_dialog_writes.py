"""Moving to a step writes the answers only when they changed; the state is always written
(it stamps the dialog's last activity, from which the retention period counts)."""

from __future__ import annotations

from typing import Any

from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State
from aiogram.fsm.storage.base import StateType, StorageKey
from aiogram.fsm.storage.memory import MemoryStorage

from bot.dialogs.answers import Answers, answers_from, save_answers, save_step
from bot.dialogs.flow import move
from bot.dialogs.restoration import Restoration


class CountingStorage(MemoryStorage):
    def __init__(self) -> None:
        super().__init__()
        self.writes: list[str] = []

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        self.writes.append("state")
        await super().set_state(key, state)

    async def set_data(self, key: StorageKey, data: Any) -> None:
        self.writes.append("data")
        await super().set_data(key, data)


async def context() -> tuple[FSMContext, CountingStorage]:
    storage = CountingStorage()
    state = FSMContext(storage, StorageKey(bot_id=1, chat_id=5, user_id=5))
    await save_answers(state, Answers(locale="ru", run_id="run", enp="8451999122899990"))
    await state.set_state(Restoration.confirm_profile)
    storage.writes.clear()
    return state, storage


async def test_unchanged_answers_are_not_written_again() -> None:
    state, storage = await context()
    answers = answers_from(await state.get_data())

    await move(state, Restoration.reason, answers)

    assert storage.writes == ["state"]
    assert await state.get_state() == Restoration.reason.state


async def test_changed_answers_are_written_before_the_step() -> None:
    state, storage = await context()
    answers = answers_from(await state.get_data())
    answers.reason_text = "lost on the bus"
    target: State = Restoration.passport_number

    await move(state, target, answers)

    assert storage.writes == ["data", "state"]
    assert answers_from(await state.get_data()).reason_text == "lost on the bus"


class OneWriteStorage(CountingStorage):
    """A storage that also writes state and data at once (as storage.fsm.SqlFsmStorage does)."""

    async def set_state_and_data(self, key: StorageKey, state: StateType, data: Any) -> None:
        self.writes.append("state+data")
        await MemoryStorage.set_data(self, key, data)
        await MemoryStorage.set_state(self, key, state)


async def test_changed_answers_and_the_step_are_one_write_where_the_storage_allows() -> None:
    storage = OneWriteStorage()
    state = FSMContext(storage, StorageKey(bot_id=1, chat_id=5, user_id=5))
    await save_answers(state, Answers(locale="ru", run_id="run"))
    storage.writes.clear()
    answers = answers_from(await state.get_data())

    await move(state, Restoration.reason, answers)  # unchanged: the state alone
    answers.reason_text = "lost on the bus"
    await move(state, Restoration.passport_number, answers)

    assert storage.writes == ["state", "state+data"]
    assert await state.get_state() == Restoration.passport_number.state
    assert answers_from(await state.get_data()).reason_text == "lost on the bus"


async def test_leaving_the_dialog_writes_the_state_first_where_two_writes_are_needed() -> None:
    state, storage = await context()
    answers = answers_from(await state.get_data())
    answers.reason_text = "lost on the bus"

    await save_step(state, None, answers, answers_first=False)

    assert storage.writes == ["state", "data"]
    assert await state.get_state() is None
