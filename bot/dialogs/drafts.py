"""The citizens' dialogs as retention sees them (core.ports.DialogDrafts): whose each stored
dialog is, the scan its answers refer to, and when it was last written."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.dialogs.answers import Answers
from core.models import DialogRecord
from storage.fsm import FsmRecord, SqlFsmStorage

SCAN_FIELD = "scan_name"
assert SCAN_FIELD in Answers.model_fields  # the answers' field the stored scan's name is in


def _record(stored: FsmRecord) -> DialogRecord:
    scan = stored.data.get(SCAN_FIELD)
    return DialogRecord(
        key=stored.key,
        user_id=stored.user_id,
        updated_at=stored.updated_at,
        scan_name=scan if isinstance(scan, str) and scan else None,
    )


class StoredDialogs:
    def __init__(self, storage: SqlFsmStorage) -> None:
        self._storage = storage

    async def idle(self, since_before: datetime) -> Sequence[DialogRecord]:
        return [_record(record) for record in await self._storage.idle_records(since_before)]

    async def discard(self, record: DialogRecord) -> bool:
        return await self._storage.delete_if_unchanged(record.key, record.updated_at)

    async def scan_names(self) -> set[str]:
        return await self._storage.data_values(SCAN_FIELD)

    async def erase_user(self, user_id: int) -> Sequence[DialogRecord]:
        stored = await self._storage.records_of_user(user_id)
        await self._storage.delete_for_user(user_id)
        return [_record(record) for record in stored]
