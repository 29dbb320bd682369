"""Fills the bot's database before it starts: N finished applications, and optionally a backlog of
unsent status notifications.

One application is made the bot's way (RestorationService: citizen, submit, the processing
steps to READY with its audit rows and outbox rows, the dialog's FSM record), then its rows are
copied N-1 times with fresh ids, numbers, people and keys (executemany, one transaction), so
the stored rows look exactly like the ones the bot writes, at 100,000 applications in seconds.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiogram.fsm.storage.base import StorageKey

from bench.register import person
from bot.dialogs.answers import Answers
from core.clock import SystemClock
from core.models import (
    ApplicationDraft,
    ApplicationStatus,
    Citizen,
    DeliveryMethod,
    LossReason,
    Passport,
    StoredFile,
)
from core.restoration import ProcessingTimings, RestorationService
from storage.database import Database, to_db_time
from storage.fsm import SqlFsmStorage, storage_key_id
from storage.register import load_register
from storage.repositories import application_number
from storage.unit_of_work import SqlUnitOfWorkFactory

BOT_ID = 123456789  # bench/processes.py TOKEN
SEED_FIRST_USER = 50_000_000
ELECTRONIC_STATUSES = ("submitted", "processing", "approved", "ready")


@dataclass(frozen=True)
class Seeded:
    applications: int
    pending_notifications: int
    user_ids: range
    numbers: dict[int, str]  # user id -> application number, for the pending ones


async def _template(db: Database, register_path: Path, user_id: int) -> int:
    """One finished electronic application, made by the bot's own use cases; returns its id."""
    register = load_register(register_path)
    who = person(user_id % len(register.people()))
    factory = SqlUnitOfWorkFactory(db)
    zero = timedelta(0)
    service = RestorationService(
        uow_factory=factory,
        register=register,
        clock=SystemClock(),
        timings=ProcessingTimings(zero, zero, zero, zero, zero),
    )
    await service.save_citizen(
        Citizen(user_id, "ru", phone=who.phone, enp=who.enp, consent_at=datetime.now(UTC))
    )
    series, number = who.passport.split()
    run_id = uuid.uuid4().hex
    scan = StoredFile(f"{uuid.uuid4().hex}.jpg", "0" * 64, 180_000)
    application = await service.submit(
        ApplicationDraft(
            user_id=user_id,
            chat_id=user_id,
            enp=who.enp,
            loss_reason=LossReason.LOST,
            passport=Passport(series, number),
            scan=scan,
            delivery=DeliveryMethod.ELECTRONIC,
            locale="ru",
            idempotency_key=run_id,
        )
    )
    while (await service.get(application.id)).status is not ApplicationStatus.READY:
        await service.process_due()
    answers = Answers(
        run_id=run_id,
        enp=who.enp,
        reason=LossReason.LOST,
        passport_series=series,
        passport_number=number,
        scan_name=scan.name,
        scan_sha256=scan.sha256,
        scan_size=scan.size,
        delivery=DeliveryMethod.ELECTRONIC,
    )
    fsm = SqlFsmStorage(db)
    key = StorageKey(bot_id=BOT_ID, chat_id=user_id, user_id=user_id)
    await fsm.set_data(key, answers.model_dump(mode="json", exclude_defaults=True))
    async with db.transaction() as connection:
        await connection.execute(
            "UPDATE outbox SET sent_at = ?, attempts = attempts + 1",
            (to_db_time(datetime.now(UTC)),),
        )
    return application.id


async def _rows(db: Database, table: str, where: str, value: Any) -> list[dict[str, Any]]:
    async with db.acquire() as connection:
        rows = await connection.execute_fetchall(
            f"SELECT * FROM {table} WHERE {where} = ?", (value,)
        )
    return [dict(row) for row in rows]


def _insert(table: str, columns: list[str]) -> str:
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"


async def seed(
    db_path: Path,
    register_path: Path,
    register_size: int,
    *,
    applications: int,
    pending_waves: tuple[str, ...] = (),
    first_user_id: int = SEED_FIRST_USER,
) -> Seeded:
    """`applications` finished electronic applications of users first_user_id, +1, ...; then,
    for each status in `pending_waves`, one unsent status notification per application (all
    applications' first, then all their second, ...)."""
    db = await Database.open(db_path)
    try:
        template_id = await _template(db, register_path, first_user_id)
        app = (await _rows(db, "applications", "id", template_id))[0]
        changes = await _rows(db, "status_changes", "application_id", template_id)
        outbox = await _rows(db, "outbox", "chat_id", first_user_id)
        citizen = (await _rows(db, "citizens", "user_id", first_user_id))[0]
        fsm = (await _rows(db, "fsm_state", "user_id", first_user_id))[0]
        for row in (*changes, *outbox):
            row.pop("id")
        created = datetime.fromisoformat(app["created_at"])
        numbers: dict[int, str] = {first_user_id: app["number"]}
        apps, change_rows, outbox_rows, citizen_rows, fsm_rows = [], [], [], [], []
        for i in range(1, applications):
            user_id = first_user_id + i
            app_id = template_id + i
            who = person(user_id % register_size)
            series, number = who.passport.split()
            key = uuid.UUID(int=user_id).hex
            numbers[user_id] = application_number(created, app_id)
            apps.append(
                {
                    **app,
                    "id": app_id,
                    "number": numbers[user_id],
                    "user_id": user_id,
                    "chat_id": user_id,
                    "enp": who.enp,
                    "passport_series": series,
                    "passport_number": number,
                    # A finished application's scan is destroyed (retention): keep it so.
                    "scan_name": f"{key}.jpg" if app["scan_name"] else None,
                    "idempotency_key": key,
                }
            )
            change_rows.extend({**c, "application_id": app_id} for c in changes)
            for row in outbox:
                payload = json.loads(row["payload"])
                payload.update(application_id=app_id, number=numbers[user_id])
                if "enp" in payload:
                    payload["enp"] = who.enp
                outbox_rows.append({**row, "chat_id": user_id, "payload": json.dumps(payload)})
            citizen_rows.append({**citizen, "user_id": user_id, "phone": who.phone, "enp": who.enp})
            data = json.loads(fsm["data"])
            data.update(run_id=key, enp=who.enp, passport_series=series, passport_number=number)
            data["scan_name"] = f"{key}.jpg"
            state_key = StorageKey(bot_id=BOT_ID, chat_id=user_id, user_id=user_id)
            fsm_rows.append(
                {
                    **fsm,
                    "key": storage_key_id(state_key),
                    "chat_id": user_id,
                    "user_id": user_id,
                    "data": json.dumps(data, ensure_ascii=False, separators=(",", ":")),
                }
            )
        pending = []
        for status in pending_waves:
            for i in range(applications):
                user_id = first_user_id + i
                payload = {
                    "application_id": template_id + i,
                    "number": numbers[user_id],
                    "status": status,
                    "reason": None,
                }
                pending.append(
                    {
                        "chat_id": user_id,
                        "kind": "status_changed",
                        "payload": json.dumps(payload),
                        "attempts": 0,
                    }
                )
        async with db.acquire() as connection:
            await connection.execute("BEGIN IMMEDIATE")
            for table, rows in (
                ("applications", apps),
                ("status_changes", change_rows),
                ("outbox", outbox_rows),
                ("citizens", citizen_rows),
                ("fsm_state", fsm_rows),
                ("outbox", pending),
            ):
                if rows:
                    columns = list(rows[0])
                    await connection.executemany(
                        _insert(table, columns), [tuple(r[c] for c in columns) for r in rows]
                    )
            await connection.execute("COMMIT")
        async with db.acquire() as connection:
            await connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        await db.close()
    return Seeded(
        applications=applications,
        pending_notifications=len(pending),
        user_ids=range(first_user_id, first_user_id + applications),
        numbers=numbers,
    )
