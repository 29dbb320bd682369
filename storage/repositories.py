"""SQLite repositories behind core's ports. They run inside a SqliteUnitOfWork's transaction and
never commit themselves."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Collection, Sequence
from datetime import date, datetime
from typing import Any

import aiosqlite

from core.errors import ApplicationNotFound, DuplicateApplication
from core.models import (
    Application,
    ApplicationDraft,
    ApplicationStatus,
    Citizen,
    DeliveryMethod,
    DestroyedData,
    Destruction,
    DestructionReason,
    DialogSnapshot,
    LossReason,
    Notification,
    NotificationKind,
    Passport,
    PendingEmail,
    SentReminder,
    StatusChange,
    StoredFile,
)
from core.support import Conversation, ConversationStatus
from storage.database import (
    from_db_time,
    from_db_time_or_none,
    to_db_time,
    to_db_time_or_none,
)

# The port does not pass a time for these bookkeeping stamps; nothing reads them back for logic,
# so SQLite's clock is good enough. Same fixed-width format as to_db_time (milliseconds).
_SQL_NOW = "strftime('%Y-%m-%dT%H:%M:%f000+00:00', 'now')"

# Cap stored delivery errors: they are for a human reading the table, not a log archive.
_MAX_ERROR_LENGTH = 1_000

_APPLICATION_COLUMNS = (
    "id, number, user_id, chat_id, enp, loss_reason, loss_reason_text, passport_series,"
    " passport_number, scan_name, scan_sha256, scan_size, delivery, postcode, address, office_id,"
    " locale, status, created_at, updated_at, idempotency_key, fee_paid_kopecks,"
    " rejection_reason, next_action_at, policy_file_id, operator_id, scan_destroyed_at,"
    " anonymised_at"
)
_FINAL = tuple(status.value for status in ApplicationStatus if status.is_final)
_FINAL_PLACEHOLDERS = ", ".join("?" for _ in _FINAL)
REDACTED = "redacted"  # what an anonymised record says instead of words that may name the person


def _application_from_row(row: sqlite3.Row) -> Application:
    scan = (
        None
        if row["scan_name"] is None
        else StoredFile(name=row["scan_name"], sha256=row["scan_sha256"], size=row["scan_size"])
    )
    return Application(
        id=row["id"],
        number=row["number"],
        user_id=row["user_id"],
        chat_id=row["chat_id"],
        enp=row["enp"],
        loss_reason=LossReason(row["loss_reason"]),
        loss_reason_text=row["loss_reason_text"],
        passport=Passport(series=row["passport_series"], number=row["passport_number"]),
        scan=scan,
        delivery=DeliveryMethod(row["delivery"]),
        postcode=row["postcode"],
        address=row["address"],
        office_id=row["office_id"],
        locale=row["locale"],
        status=ApplicationStatus(row["status"]),
        created_at=from_db_time(row["created_at"]),
        updated_at=from_db_time(row["updated_at"]),
        idempotency_key=row["idempotency_key"],
        fee_paid_kopecks=row["fee_paid_kopecks"],
        rejection_reason=row["rejection_reason"],
        next_action_at=from_db_time_or_none(row["next_action_at"]),
        policy_file_id=row["policy_file_id"],
        operator_id=row["operator_id"],
        scan_destroyed_at=from_db_time_or_none(row["scan_destroyed_at"]),
        anonymised_at=from_db_time_or_none(row["anonymised_at"]),
    )


def application_number(created_at: datetime, application_id: int) -> str:
    """ "<yymm>-<id:06d>": short to dictate on the phone, ASCII for callback data and filenames."""
    return f"{created_at:%y%m}-{application_id:06d}"


class SqliteApplicationRepository:
    def __init__(self, connection: aiosqlite.Connection) -> None:
        self._connection = connection

    async def add(self, draft: ApplicationDraft, *, now: datetime) -> Application:
        if not draft.idempotency_key:
            raise ValueError("draft.idempotency_key must be set")
        stamp = to_db_time(now)
        try:
            cursor = await self._connection.execute(
                "INSERT INTO applications (user_id, chat_id, enp, loss_reason, loss_reason_text,"
                " passport_series, passport_number, scan_name, scan_sha256, scan_size, delivery,"
                " postcode, address, office_id, locale, status, created_at, updated_at,"
                " idempotency_key, fee_paid_kopecks)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    draft.user_id,
                    draft.chat_id,
                    draft.enp,
                    draft.loss_reason.value,
                    draft.loss_reason_text,
                    draft.passport.series,
                    draft.passport.number,
                    draft.scan.name,
                    draft.scan.sha256,
                    draft.scan.size,
                    draft.delivery.value,
                    draft.postcode,
                    draft.address,
                    draft.office_id,
                    draft.locale,
                    ApplicationStatus.SUBMITTED.value,
                    stamp,
                    stamp,
                    draft.idempotency_key,
                    draft.fee_paid_kopecks,
                ),
            )
        except sqlite3.IntegrityError as error:
            if "applications.idempotency_key" in str(error):
                raise DuplicateApplication(draft.idempotency_key) from error
            raise
        application_id = cursor.lastrowid
        if application_id is None:  # pragma: no cover - an INSERT always sets it
            raise RuntimeError("no row id after INSERT")
        # The number needs the id, so it is set right after the insert, in the same transaction.
        number = application_number(now, application_id)
        await self._connection.execute(
            "UPDATE applications SET number = ? WHERE id = ?", (number, application_id)
        )
        return Application(
            id=application_id,
            number=number,
            user_id=draft.user_id,
            chat_id=draft.chat_id,
            enp=draft.enp,
            loss_reason=draft.loss_reason,
            loss_reason_text=draft.loss_reason_text,
            passport=draft.passport,
            scan=draft.scan,
            delivery=draft.delivery,
            postcode=draft.postcode,
            address=draft.address,
            office_id=draft.office_id,
            locale=draft.locale,
            status=ApplicationStatus.SUBMITTED,
            created_at=from_db_time(stamp),
            updated_at=from_db_time(stamp),
            idempotency_key=draft.idempotency_key,
            fee_paid_kopecks=draft.fee_paid_kopecks,
        )

    async def _one(self, where: str, value: object) -> Application | None:
        async with self._connection.execute(
            f"SELECT {_APPLICATION_COLUMNS} FROM applications WHERE {where} = ?", (value,)
        ) as cursor:
            row = await cursor.fetchone()
        return None if row is None else _application_from_row(row)

    async def get(self, application_id: int) -> Application | None:
        return await self._one("id", application_id)

    async def get_by_number(self, number: str) -> Application | None:
        return await self._one("number", number)

    async def get_by_idempotency_key(self, key: str) -> Application | None:
        return await self._one("idempotency_key", key)

    async def list_for_user(self, user_id: int) -> Sequence[Application]:
        async with self._connection.execute(
            f"SELECT {_APPLICATION_COLUMNS} FROM applications WHERE user_id = ? ORDER BY id",
            (user_id,),
        ) as cursor:
            rows = await cursor.fetchall()
        return [_application_from_row(row) for row in rows]

    async def update(self, application: Application) -> None:
        """Write every mutable field; id, number, owner, creation time and key never change."""
        scan = application.scan
        cursor = await self._connection.execute(
            "UPDATE applications SET chat_id = ?, enp = ?, loss_reason = ?, loss_reason_text = ?,"
            " passport_series = ?, passport_number = ?, scan_name = ?, scan_sha256 = ?,"
            " scan_size = ?, delivery = ?, postcode = ?, address = ?, office_id = ?, locale = ?,"
            " status = ?, updated_at = ?, fee_paid_kopecks = ?, rejection_reason = ?,"
            " next_action_at = ?, policy_file_id = ?, operator_id = ?, scan_destroyed_at = ?"
            " WHERE id = ?",
            (
                application.chat_id,
                application.enp,
                application.loss_reason.value,
                application.loss_reason_text,
                application.passport.series,
                application.passport.number,
                None if scan is None else scan.name,
                None if scan is None else scan.sha256,
                None if scan is None else scan.size,
                application.delivery.value,
                application.postcode,
                application.address,
                application.office_id,
                application.locale,
                application.status.value,
                to_db_time(application.updated_at),
                application.fee_paid_kopecks,
                application.rejection_reason,
                to_db_time_or_none(application.next_action_at),
                application.policy_file_id,
                application.operator_id,
                to_db_time_or_none(application.scan_destroyed_at),
                application.id,
            ),
        )
        if cursor.rowcount == 0:
            raise ApplicationNotFound(application.id)

    async def due(self, now: datetime, limit: int) -> Sequence[Application]:
        async with self._connection.execute(
            f"SELECT {_APPLICATION_COLUMNS} FROM applications"
            " WHERE next_action_at IS NOT NULL AND next_action_at <= ?"
            " ORDER BY next_action_at, id LIMIT ?",
            (to_db_time(now), limit),
        ) as cursor:
            rows = await cursor.fetchall()
        return [_application_from_row(row) for row in rows]

    async def _many(self, where: str, params: tuple[object, ...]) -> list[Application]:
        async with self._connection.execute(
            f"SELECT {_APPLICATION_COLUMNS} FROM applications WHERE {where}", params
        ) as cursor:
            rows = await cursor.fetchall()
        return [_application_from_row(row) for row in rows]

    async def finished_with_scan(self, limit: int) -> Sequence[Application]:
        return await self._many(
            f"status IN ({_FINAL_PLACEHOLDERS}) AND scan_name IS NOT NULL ORDER BY id LIMIT ?",
            (*_FINAL, limit),
        )

    async def expired(self, updated_before: datetime, limit: int) -> Sequence[Application]:
        return await self._many(
            f"anonymised_at IS NULL AND updated_at < ? AND status IN ({_FINAL_PLACEHOLDERS})"
            " ORDER BY id LIMIT ?",
            (to_db_time(updated_before), *_FINAL, limit),
        )

    async def scan_names(self) -> set[str]:
        async with self._connection.execute(
            "SELECT scan_name FROM applications WHERE scan_name IS NOT NULL"
        ) as cursor:
            return {row[0] for row in await cursor.fetchall()}

    async def anonymise(
        self, application_id: int, *, at: datetime, keep_reasons: Collection[str]
    ) -> None:
        cursor = await self._connection.execute(
            "UPDATE applications SET user_id = 0, chat_id = 0, enp = '', passport_series = '',"
            " passport_number = '', loss_reason_text = NULL, postcode = NULL, address = NULL,"
            " scan_name = NULL, scan_sha256 = NULL, scan_size = NULL, policy_file_id = NULL,"
            " rejection_reason = CASE WHEN rejection_reason IS NULL"
            " OR rejection_reason IN (SELECT value FROM json_each(?)) THEN rejection_reason"
            " ELSE ? END, anonymised_at = ? WHERE id = ?",
            (json.dumps(sorted(keep_reasons)), REDACTED, to_db_time(at), application_id),
        )
        if cursor.rowcount == 0:
            raise ApplicationNotFound(application_id)


class SqliteAuditTrail:
    def __init__(self, connection: aiosqlite.Connection) -> None:
        self._connection = connection

    async def record(self, change: StatusChange) -> None:
        await self._connection.execute(
            "INSERT INTO status_changes (application_id, from_status, to_status, at, actor, reason)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (
                change.application_id,
                None if change.from_status is None else change.from_status.value,
                change.to_status.value,
                to_db_time(change.at),
                change.actor,
                change.reason,
            ),
        )

    async def history(self, application_id: int) -> Sequence[StatusChange]:
        async with self._connection.execute(
            "SELECT application_id, from_status, to_status, at, actor, reason"
            " FROM status_changes WHERE application_id = ? ORDER BY id",
            (application_id,),
        ) as cursor:
            rows = await cursor.fetchall()
        return [
            StatusChange(
                application_id=row["application_id"],
                from_status=_status_or_none(row["from_status"]),
                to_status=ApplicationStatus(row["to_status"]),
                at=from_db_time(row["at"]),
                actor=row["actor"],
                reason=row["reason"],
            )
            for row in rows
        ]

    async def anonymise(self, application_id: int, *, keep_reasons: Collection[str]) -> None:
        await self._connection.execute(
            "UPDATE status_changes SET"
            " actor = CASE WHEN actor LIKE 'citizen:%' THEN 'citizen' ELSE actor END,"
            " reason = CASE WHEN reason IS NULL"
            " OR reason IN (SELECT value FROM json_each(?)) THEN reason ELSE ? END"
            " WHERE application_id = ?",
            (json.dumps(sorted(keep_reasons)), REDACTED, application_id),
        )


class SqliteDestructionLog:
    def __init__(self, connection: aiosqlite.Connection) -> None:
        self._connection = connection

    async def record(self, destruction: Destruction) -> None:
        await self._connection.execute(
            "INSERT INTO destructions (at, what, reason, application_id, count)"
            " VALUES (?, ?, ?, ?, ?)",
            (
                to_db_time(destruction.at),
                destruction.what.value,
                destruction.reason.value,
                destruction.application_id,
                destruction.count,
            ),
        )

    async def history(self) -> Sequence[Destruction]:
        async with self._connection.execute(
            "SELECT at, what, reason, application_id, count FROM destructions ORDER BY id"
        ) as cursor:
            rows = await cursor.fetchall()
        return [
            Destruction(
                what=DestroyedData(row["what"]),
                reason=DestructionReason(row["reason"]),
                at=from_db_time(row["at"]),
                application_id=row["application_id"],
                count=row["count"],
            )
            for row in rows
        ]


class SqliteCitizenRepository:
    def __init__(self, connection: aiosqlite.Connection) -> None:
        self._connection = connection

    async def get(self, user_id: int) -> Citizen | None:
        async with self._connection.execute(
            "SELECT user_id, locale, phone, enp, email, consent_at, blocked_bot, reminders_off,"
            " email_confirmed_at FROM citizens WHERE user_id = ?",
            (user_id,),
        ) as cursor:
            row = await cursor.fetchone()
        if row is None:
            return None
        return Citizen(
            user_id=row["user_id"],
            locale=row["locale"],
            phone=row["phone"],
            enp=row["enp"],
            email=row["email"],
            consent_at=from_db_time_or_none(row["consent_at"]),
            blocked_bot=bool(row["blocked_bot"]),
            reminders_off=bool(row["reminders_off"]),
            email_confirmed_at=from_db_time_or_none(row["email_confirmed_at"]),
        )

    async def save(self, citizen: Citizen) -> None:
        await self._connection.execute(
            "INSERT INTO citizens (user_id, locale, phone, enp, email, consent_at, blocked_bot,"
            " reminders_off, email_confirmed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (user_id) DO UPDATE SET locale = excluded.locale,"
            " phone = excluded.phone, enp = excluded.enp, email = excluded.email,"
            " consent_at = excluded.consent_at, blocked_bot = excluded.blocked_bot,"
            " reminders_off = excluded.reminders_off,"
            " email_confirmed_at = excluded.email_confirmed_at",
            (
                citizen.user_id,
                citizen.locale,
                citizen.phone,
                citizen.enp,
                citizen.email,
                to_db_time_or_none(citizen.consent_at),
                int(citizen.blocked_bot),
                int(citizen.reminders_off),
                to_db_time_or_none(citizen.email_confirmed_at),
            ),
        )

    async def delete(self, user_id: int) -> bool:
        cursor = await self._connection.execute(
            "DELETE FROM citizens WHERE user_id = ?", (user_id,)
        )
        return cursor.rowcount > 0


class SqliteOutbox:
    """Every delivery outcome (sent, postponed, failed) counts one attempt."""

    def __init__(
        self, connection: aiosqlite.Connection, on_add: Callable[[], None] | None = None
    ) -> None:
        self._connection = connection
        self._on_add = on_add

    async def add(self, notification: Notification) -> None:
        cursor = await self._connection.execute(
            "INSERT INTO outbox (chat_id, kind, payload, attempts, not_before, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (
                notification.chat_id,
                notification.kind.value,
                json.dumps(notification.payload, ensure_ascii=False),
                notification.attempts,
                to_db_time_or_none(notification.not_before),
                to_db_time_or_none(notification.created_at),
            ),
        )
        # Callers may want the id (to log or to mark it later) without reading the row back.
        notification.id = cursor.lastrowid
        if self._on_add is not None:
            self._on_add()

    async def due(
        self, now: datetime, limit: int, kinds: Collection[NotificationKind] | None = None
    ) -> Sequence[Notification]:
        of_kinds, params = "", [to_db_time(now)]
        if kinds is not None:
            of_kinds = f" AND kind IN ({', '.join('?' * len(kinds))})"
            params.extend(kind.value for kind in kinds)
        return await self._pending(
            f"AND (not_before IS NULL OR not_before <= ?){of_kinds} ORDER BY id LIMIT ?",
            (*params, limit),
        )

    async def postponed(self, now: datetime) -> Sequence[Notification]:
        return await self._pending("AND not_before > ? ORDER BY id", (to_db_time(now),))

    async def _pending(self, condition: str, params: tuple[object, ...]) -> list[Notification]:
        async with self._connection.execute(
            "SELECT id, chat_id, kind, payload, attempts, not_before, created_at FROM outbox"
            " WHERE sent_at IS NULL AND failed_at IS NULL " + condition,
            params,
        ) as cursor:
            rows = await cursor.fetchall()
        return [
            Notification(
                id=row["id"],
                chat_id=row["chat_id"],
                kind=NotificationKind(row["kind"]),
                payload=_payload(row["payload"]),
                attempts=row["attempts"],
                not_before=from_db_time_or_none(row["not_before"]),
                created_at=from_db_time_or_none(row["created_at"]),
            )
            for row in rows
        ]

    async def mark_sent(
        self, notification_id: int, *, at: datetime, message_id: int | None
    ) -> None:
        await self._connection.execute(
            "UPDATE outbox SET sent_at = ?, message_id = ?, attempts = attempts + 1 WHERE id = ?",
            (to_db_time(at), message_id, notification_id),
        )

    async def postpone(self, notification_id: int, not_before: datetime, error: str) -> None:
        await self._connection.execute(
            "UPDATE outbox SET not_before = ?, error = ?, attempts = attempts + 1 WHERE id = ?",
            (to_db_time(not_before), error[:_MAX_ERROR_LENGTH], notification_id),
        )

    async def mark_failed(self, notification_id: int, error: str, *, at: datetime) -> None:
        await self._connection.execute(
            "UPDATE outbox SET failed_at = ?, error = ?, attempts = attempts + 1 WHERE id = ?",
            (to_db_time(at), error[:_MAX_ERROR_LENGTH], notification_id),
        )

    async def clear_payloads(self, done_before: datetime) -> int:
        cursor = await self._connection.execute(
            "UPDATE outbox SET payload = '{}' WHERE payload != '{}'"
            " AND (sent_at <= ? OR failed_at <= ?)",
            (to_db_time(done_before), to_db_time(done_before)),
        )
        return cursor.rowcount

    async def delete_for_chat(self, chat_id: int) -> int:
        cursor = await self._connection.execute("DELETE FROM outbox WHERE chat_id = ?", (chat_id,))
        return cursor.rowcount


_FINAL = tuple(status.value for status in ApplicationStatus if status.is_final)


class SqliteReminderStore:
    """What reminders are computed from. Dialogs are read from the FSM table: a private chat's
    record (chat id = user id, no topic) with a state, stamped when it last moved."""

    def __init__(self, connection: aiosqlite.Connection) -> None:
        self._connection = connection

    async def dialogs(
        self, *, idle_since: datetime | None = None, user_id: int | None = None
    ) -> Sequence[DialogSnapshot]:
        where = [
            "state IS NOT NULL",
            "updated_at IS NOT NULL",
            "chat_id = user_id",
            "thread_id IS NULL",
            "business_connection_id IS NULL",
        ]
        params: list[object] = []
        if idle_since is not None:
            where.append("updated_at <= ?")
            params.append(to_db_time(idle_since))
        if user_id is not None:
            where.append("user_id = ?")
            params.append(user_id)
        async with self._connection.execute(
            "SELECT user_id, state, data, updated_at FROM fsm_state"
            f" WHERE {' AND '.join(where)} ORDER BY updated_at",
            params,
        ) as cursor:
            rows = await cursor.fetchall()
        return [
            DialogSnapshot(
                user_id=row["user_id"],
                state=row["state"],
                data=_payload(row["data"]),
                updated_at=from_db_time(row["updated_at"]),
            )
            for row in rows
        ]

    async def _applications(self, where: str, params: Sequence[object]) -> list[Application]:
        async with self._connection.execute(
            f"SELECT {_APPLICATION_COLUMNS} FROM applications WHERE {where} ORDER BY id", params
        ) as cursor:
            rows = await cursor.fetchall()
        return [_application_from_row(row) for row in rows]

    async def applications_in(
        self, status: ApplicationStatus, *, user_id: int | None = None
    ) -> Sequence[Application]:
        if user_id is None:
            return await self._applications("status = ?", (status.value,))
        return await self._applications("status = ? AND user_id = ?", (status.value, user_id))

    async def open_applications(self, created_before: datetime) -> Sequence[Application]:
        marks = ", ".join("?" * len(_FINAL))
        return await self._applications(
            f"status NOT IN ({marks}) AND created_at < ?", (*_FINAL, to_db_time(created_before))
        )

    async def waiting_conversations(self) -> Sequence[Conversation]:
        async with self._connection.execute(
            "SELECT user_id, opened_at, thread_id, citizen_name FROM conversations"
            " WHERE status = ? ORDER BY opened_at, user_id",
            (ConversationStatus.WAITING.value,),
        ) as cursor:
            rows = await cursor.fetchall()
        return [
            Conversation(
                user_id=row["user_id"],
                status=ConversationStatus.WAITING,
                opened_at=from_db_time(row["opened_at"]),
                thread_id=row["thread_id"],
                citizen_name=row["citizen_name"],
            )
            for row in rows
        ]

    async def sent(self, user_id: int, topic: str, subject: str) -> SentReminder | None:
        async with self._connection.execute(
            "SELECT sent, last_sent_at FROM reminders_sent"
            " WHERE user_id = ? AND topic = ? AND subject = ?",
            (user_id, topic, subject),
        ) as cursor:
            row = await cursor.fetchone()
        if row is None:
            return None
        return SentReminder(
            user_id, topic, subject, row["sent"], from_db_time_or_none(row["last_sent_at"])
        )

    async def record_sent(self, reminder: SentReminder) -> None:
        await self._connection.execute(
            "INSERT OR REPLACE INTO reminders_sent (user_id, topic, subject, sent, last_sent_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (
                reminder.user_id,
                reminder.topic,
                reminder.subject,
                reminder.sent,
                to_db_time_or_none(reminder.last_sent_at),
            ),
        )

    async def erase(self, user_id: int) -> int:
        cursor = await self._connection.execute(
            "DELETE FROM reminders_sent WHERE user_id = ?", (user_id,)
        )
        return cursor.rowcount

    async def last_digest_day(self) -> date | None:
        async with self._connection.execute("SELECT MAX(day) FROM digests") as cursor:
            row = await cursor.fetchone()
        return date.fromisoformat(row[0]) if row and row[0] else None

    async def record_digest(self, day: date, at: datetime) -> None:
        await self._connection.execute(
            "INSERT OR REPLACE INTO digests (day, sent_at) VALUES (?, ?)",
            (day.isoformat(), to_db_time(at)),
        )

    async def record_tick(self, at: datetime) -> None:
        await self._connection.execute(
            "INSERT INTO reminder_ticks (id, checked_at) VALUES (1, ?)"
            " ON CONFLICT (id) DO UPDATE SET checked_at = excluded.checked_at",
            (to_db_time(at),),
        )


class SqliteEmailConfirmations:
    def __init__(self, connection: aiosqlite.Connection) -> None:
        self._connection = connection

    async def get(self, user_id: int) -> PendingEmail | None:
        async with self._connection.execute(
            "SELECT email, code, sent_at, attempts FROM email_confirmations WHERE user_id = ?",
            (user_id,),
        ) as cursor:
            row = await cursor.fetchone()
        if row is None:
            return None
        return PendingEmail(
            user_id, row["email"], row["code"], from_db_time(row["sent_at"]), row["attempts"]
        )

    async def save(self, pending: PendingEmail) -> None:
        await self._connection.execute(
            "INSERT OR REPLACE INTO email_confirmations (user_id, email, code, sent_at, attempts)"
            " VALUES (?, ?, ?, ?, ?)",
            (
                pending.user_id,
                pending.email,
                pending.code,
                to_db_time(pending.sent_at),
                pending.attempts,
            ),
        )

    async def delete(self, user_id: int) -> None:
        await self._connection.execute(
            "DELETE FROM email_confirmations WHERE user_id = ?", (user_id,)
        )


def _status_or_none(value: str | None) -> ApplicationStatus | None:
    return None if value is None else ApplicationStatus(value)


def _payload(text: str) -> dict[str, Any]:
    value = json.loads(text)
    return value if isinstance(value, dict) else {}
