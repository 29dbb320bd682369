"""Repositories behind core's ports, one implementation for SQLite and PostgreSQL (storage/sql.py
isolates the dialects). They run inside a unit of work's transaction and never commit themselves."""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Sequence
from datetime import UTC, date, datetime
from typing import Any

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
from storage.sql import (
    Row,
    Session,
    UniqueViolation,
    aware,
    from_db_time,
    from_db_time_or_none,
)

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
REDACTED = "redacted"  # what an anonymised record says instead of words that may name the person


def _application_from_row(row: Row) -> Application:
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


class SqlApplicationRepository:
    def __init__(self, db: Session) -> None:
        self._db = db

    async def add(
        self, draft: ApplicationDraft, *, now: datetime, next_action_at: datetime | None = None
    ) -> Application:
        if not draft.idempotency_key:
            raise ValueError("draft.idempotency_key must be set")
        stamp = aware(now).astimezone(UTC)  # as it reads back
        try:
            async with self._db.savepoint():
                application_id = await self._db.fetch_value(
                    "INSERT INTO applications (user_id, chat_id, enp, loss_reason,"
                    " loss_reason_text, passport_series, passport_number, scan_name, scan_sha256,"
                    " scan_size, delivery, postcode, address, office_id, locale, status,"
                    " created_at, updated_at, idempotency_key, fee_paid_kopecks)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                    " RETURNING id",
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
        except UniqueViolation as error:
            if "idempotency_key" in str(error):
                raise DuplicateApplication(draft.idempotency_key) from error
            raise
        # The number needs the id, so it is set right after the insert, in the same transaction
        # (and the first next action with it: one statement for both).
        number = application_number(now, application_id)
        await self._db.execute(
            "UPDATE applications SET number = ?, next_action_at = ? WHERE id = ?",
            (number, next_action_at, application_id),
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
            created_at=stamp,
            updated_at=stamp,
            idempotency_key=draft.idempotency_key,
            fee_paid_kopecks=draft.fee_paid_kopecks,
            next_action_at=next_action_at,
        )

    async def _one(self, where: str, value: object) -> Application | None:
        row = await self._db.fetch_one(
            f"SELECT {_APPLICATION_COLUMNS} FROM applications WHERE {where} = ?"
            f"{self._db.lock_rows}",
            (value,),
        )
        return None if row is None else _application_from_row(row)

    async def get(self, application_id: int) -> Application | None:
        return await self._one("id", application_id)

    async def get_by_number(self, number: str) -> Application | None:
        return await self._one("number", number)

    async def get_by_idempotency_key(self, key: str) -> Application | None:
        return await self._one("idempotency_key", key)

    async def list_for_user(self, user_id: int) -> Sequence[Application]:
        rows = await self._db.fetch_all(
            f"SELECT {_APPLICATION_COLUMNS} FROM applications WHERE user_id = ? ORDER BY id",
            (user_id,),
        )
        return [_application_from_row(row) for row in rows]

    async def update(self, application: Application) -> None:
        """Write every mutable field; id, number, owner, creation time and key never change."""
        scan = application.scan
        changed = await self._db.execute(
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
                application.updated_at,
                application.fee_paid_kopecks,
                application.rejection_reason,
                application.next_action_at,
                application.policy_file_id,
                application.operator_id,
                application.scan_destroyed_at,
                application.id,
            ),
        )
        if changed == 0:
            raise ApplicationNotFound(application.id)

    async def due(self, now: datetime, limit: int) -> Sequence[Application]:
        rows = await self._db.fetch_all(
            f"SELECT {_APPLICATION_COLUMNS} FROM applications"
            " WHERE next_action_at IS NOT NULL AND next_action_at <= ?"
            " ORDER BY next_action_at, id LIMIT ?",
            (now, limit),
        )
        return [_application_from_row(row) for row in rows]

    async def _many(self, where: str, params: Sequence[object]) -> list[Application]:
        rows = await self._db.fetch_all(
            f"SELECT {_APPLICATION_COLUMNS} FROM applications WHERE {where}", params
        )
        return [_application_from_row(row) for row in rows]

    async def finished_with_scan(self, limit: int) -> Sequence[Application]:
        return await self._many(
            f"status IN ({_marks(_FINAL)}) AND scan_name IS NOT NULL ORDER BY id LIMIT ?",
            (*_FINAL, limit),
        )

    async def expired(self, updated_before: datetime, limit: int) -> Sequence[Application]:
        return await self._many(
            f"anonymised_at IS NULL AND updated_at < ? AND status IN ({_marks(_FINAL)})"
            " ORDER BY id LIMIT ?",
            (updated_before, *_FINAL, limit),
        )

    async def scan_names(self) -> set[str]:
        rows = await self._db.fetch_all(
            "SELECT scan_name FROM applications WHERE scan_name IS NOT NULL"
        )
        return {row[0] for row in rows}

    async def anonymise(
        self, application_id: int, *, at: datetime, keep_reasons: Collection[str]
    ) -> None:
        kept, kept_params = _kept(keep_reasons)
        changed = await self._db.execute(
            "UPDATE applications SET user_id = 0, chat_id = 0, enp = '', passport_series = '',"
            " passport_number = '', loss_reason_text = NULL, postcode = NULL, address = NULL,"
            " scan_name = NULL, scan_sha256 = NULL, scan_size = NULL, policy_file_id = NULL,"
            " rejection_reason = CASE WHEN rejection_reason IS NULL"
            f" OR rejection_reason IN ({kept}) THEN rejection_reason"
            " ELSE ? END, anonymised_at = ? WHERE id = ?",
            (*kept_params, REDACTED, at, application_id),
        )
        if changed == 0:
            raise ApplicationNotFound(application_id)


class SqlAuditTrail:
    def __init__(self, db: Session) -> None:
        self._db = db

    async def record(self, change: StatusChange) -> None:
        await self._db.execute(
            "INSERT INTO status_changes (application_id, from_status, to_status, at, actor, reason)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (
                change.application_id,
                None if change.from_status is None else change.from_status.value,
                change.to_status.value,
                change.at,
                change.actor,
                change.reason,
            ),
        )

    async def history(self, application_id: int) -> Sequence[StatusChange]:
        rows = await self._db.fetch_all(
            "SELECT application_id, from_status, to_status, at, actor, reason"
            " FROM status_changes WHERE application_id = ? ORDER BY id",
            (application_id,),
        )
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
        kept, kept_params = _kept(keep_reasons)
        await self._db.execute(
            "UPDATE status_changes SET"
            " actor = CASE WHEN actor LIKE 'citizen:%' THEN 'citizen' ELSE actor END,"
            " reason = CASE WHEN reason IS NULL"
            f" OR reason IN ({kept}) THEN reason ELSE ? END"
            " WHERE application_id = ?",
            (*kept_params, REDACTED, application_id),
        )


class SqlDestructionLog:
    def __init__(self, db: Session) -> None:
        self._db = db

    async def record(self, destruction: Destruction) -> None:
        await self._db.execute(
            "INSERT INTO destructions (at, what, reason, application_id, count)"
            " VALUES (?, ?, ?, ?, ?)",
            (
                destruction.at,
                destruction.what.value,
                destruction.reason.value,
                destruction.application_id,
                destruction.count,
            ),
        )

    async def history(self) -> Sequence[Destruction]:
        rows = await self._db.fetch_all(
            "SELECT at, what, reason, application_id, count FROM destructions ORDER BY id"
        )
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


# Every column of citizens but the key, in the order statements list them.
_CITIZEN_FIELDS = (
    "locale",
    "phone",
    "enp",
    "email",
    "consent_at",
    "blocked_bot",
    "reminders_off",
    "email_confirmed_at",
)


class SqlCitizenRepository:
    def __init__(self, db: Session) -> None:
        self._db = db

    async def get(self, user_id: int) -> Citizen | None:
        row = await self._db.fetch_one(
            "SELECT user_id, locale, phone, enp, email, consent_at, blocked_bot, reminders_off,"
            f" email_confirmed_at FROM citizens WHERE user_id = ?{self._db.lock_rows}",
            (user_id,),
        )
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
        await self.update_or_create(citizen, _CITIZEN_FIELDS)

    async def update_or_create(self, citizen: Citizen, fields: Collection[str]) -> None:
        unknown = set(fields) - set(_CITIZEN_FIELDS)
        if unknown or not fields:
            raise ValueError(f"not citizen fields: {sorted(unknown) or 'none given'}")
        updates = ", ".join(f"{field} = excluded.{field}" for field in fields)
        await self._db.execute(
            f"INSERT INTO citizens (user_id, {', '.join(_CITIZEN_FIELDS)})"
            f" VALUES (?, {', '.join('?' * len(_CITIZEN_FIELDS))})"
            f" ON CONFLICT (user_id) DO UPDATE SET {updates}",
            (
                citizen.user_id,
                # SQLite stores a bool as 0/1, PostgreSQL as boolean.
                *(getattr(citizen, field) for field in _CITIZEN_FIELDS),
            ),
        )

    async def delete(self, user_id: int) -> bool:
        return await self._db.execute("DELETE FROM citizens WHERE user_id = ?", (user_id,)) > 0


# The key the outbox's claiming transactions queue on (any constant of ours).
_OUTBOX_CLAIMS = 4_250_002
_OUTBOX_COLUMNS = "id, chat_id, kind, payload, attempts, not_before, created_at"
_PENDING = "sent_at IS NULL AND failed_at IS NULL"


def _notification_from_row(row: Row) -> Notification:
    return Notification(
        id=row["id"],
        chat_id=row["chat_id"],
        kind=NotificationKind(row["kind"]),
        payload=_payload(row["payload"]),
        attempts=row["attempts"],
        not_before=from_db_time_or_none(row["not_before"]),
        created_at=from_db_time_or_none(row["created_at"]),
    )


class SqlOutbox:
    """Every delivery outcome (sent, postponed, failed) counts one attempt."""

    def __init__(self, db: Session, on_add: Callable[[], None] | None = None) -> None:
        self._db = db
        self._on_add = on_add

    async def add(self, notification: Notification) -> None:
        # Callers may want the id (to log or to mark it later) without reading the row back.
        notification.id = await self._db.fetch_value(
            "INSERT INTO outbox (chat_id, kind, payload, attempts, not_before, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
            (
                notification.chat_id,
                notification.kind.value,
                json.dumps(notification.payload, ensure_ascii=False),
                notification.attempts,
                notification.not_before,
                notification.created_at,
            ),
        )
        if self._on_add is not None:
            self._on_add()

    async def due(
        self,
        now: datetime,
        limit: int,
        kinds: Collection[NotificationKind] | None = None,
        *,
        claim_until: datetime | None = None,
    ) -> Sequence[Notification]:
        if kinds is not None and not kinds:
            return []  # no transport for any kind (email without SMTP): nothing to claim
        claiming = claim_until is not None
        if claiming:
            # One claiming transaction at a time (SQLite's write lock does this already), so
            # each sees the others' claims and the rows of a chat go out in order.
            await self._db.serialize(_OUTBOX_CLAIMS)
        of_kinds, params = "", [now, now]
        if kinds is not None:
            of_kinds = f" AND kind IN ({_marks(kinds)})"
            params.extend(kind.value for kind in kinds)
        rows = await self._db.fetch_all(
            f"SELECT {_OUTBOX_COLUMNS} FROM outbox WHERE {_PENDING}"
            " AND (not_before IS NULL OR not_before <= ?)"
            f" AND (claimed_until IS NULL OR claimed_until <= ?){of_kinds}"
            f" ORDER BY id LIMIT ?{self._db.skip_locked if claiming else ''}",
            (*params, limit),
        )
        if claiming and rows:
            # Locked by the SELECT (PostgreSQL) or under the write lock (SQLite) until commit.
            ids = [row["id"] for row in rows]
            await self._db.execute(
                f"UPDATE outbox SET claimed_until = ? WHERE id IN ({_marks(ids)})",
                (claim_until, *ids),
            )
        return [_notification_from_row(row) for row in rows]

    async def release(self, notification: Notification) -> None:
        await self._db.execute(
            "UPDATE outbox SET claimed_until = NULL WHERE id = ?", (notification.id,)
        )

    async def release_claims(self) -> int:
        return await self._db.execute(
            f"UPDATE outbox SET claimed_until = NULL WHERE claimed_until IS NOT NULL AND {_PENDING}"
        )

    async def postponed(self, now: datetime) -> Sequence[Notification]:
        rows = await self._db.fetch_all(
            f"SELECT {_OUTBOX_COLUMNS} FROM outbox WHERE {_PENDING}"
            " AND (not_before > ? OR claimed_until > ?) ORDER BY id",
            (now, now),
        )
        return [_notification_from_row(row) for row in rows]

    async def mark_sent(
        self, notification_id: int, *, at: datetime, message_id: int | None
    ) -> None:
        await self._db.execute(
            "UPDATE outbox SET sent_at = ?, message_id = ?, attempts = attempts + 1,"
            " claimed_until = NULL WHERE id = ?",
            (at, message_id, notification_id),
        )

    async def postpone(self, notification_id: int, not_before: datetime, error: str) -> None:
        await self._db.execute(
            "UPDATE outbox SET not_before = ?, error = ?, attempts = attempts + 1,"
            " claimed_until = NULL WHERE id = ?",
            (not_before, error[:_MAX_ERROR_LENGTH], notification_id),
        )

    async def mark_failed(self, notification_id: int, error: str, *, at: datetime) -> None:
        await self._db.execute(
            "UPDATE outbox SET failed_at = ?, error = ?, attempts = attempts + 1,"
            " claimed_until = NULL WHERE id = ?",
            (at, error[:_MAX_ERROR_LENGTH], notification_id),
        )

    async def clear_payloads(self, done_before: datetime) -> int:
        return await self._db.execute(
            "UPDATE outbox SET payload = '{}' WHERE payload != '{}'"
            " AND (sent_at <= ? OR failed_at <= ?)",
            (done_before, done_before),
        )

    async def delete_for_chat(self, chat_id: int) -> int:
        return await self._db.execute("DELETE FROM outbox WHERE chat_id = ?", (chat_id,))


class SqlReminderStore:
    """What reminders are computed from (their dialogs come from the dialog storage)."""

    def __init__(self, db: Session) -> None:
        self._db = db

    async def _applications(self, where: str, params: Sequence[object]) -> list[Application]:
        rows = await self._db.fetch_all(
            f"SELECT {_APPLICATION_COLUMNS} FROM applications WHERE {where} ORDER BY id", params
        )
        return [_application_from_row(row) for row in rows]

    async def applications_in(
        self, status: ApplicationStatus, *, user_id: int | None = None
    ) -> Sequence[Application]:
        if user_id is None:
            return await self._applications("status = ?", (status.value,))
        return await self._applications("status = ? AND user_id = ?", (status.value, user_id))

    async def open_applications(self, created_before: datetime) -> Sequence[Application]:
        return await self._applications(
            f"status NOT IN ({_marks(_FINAL)}) AND created_at < ?", (*_FINAL, created_before)
        )

    async def waiting_conversations(self) -> Sequence[Conversation]:
        rows = await self._db.fetch_all(
            "SELECT user_id, opened_at, thread_id, citizen_name FROM conversations"
            " WHERE status = ? ORDER BY opened_at, user_id",
            (ConversationStatus.WAITING.value,),
        )
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
        row = await self._db.fetch_one(
            "SELECT sent, last_sent_at FROM reminders_sent"
            " WHERE user_id = ? AND topic = ? AND subject = ?",
            (user_id, topic, subject),
        )
        if row is None:
            return None
        return SentReminder(
            user_id, topic, subject, row["sent"], from_db_time_or_none(row["last_sent_at"])
        )

    async def record_sent(self, reminder: SentReminder) -> None:
        await self._db.execute(
            "INSERT INTO reminders_sent (user_id, topic, subject, sent, last_sent_at)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (user_id, topic, subject) DO UPDATE SET"
            " sent = excluded.sent, last_sent_at = excluded.last_sent_at",
            (
                reminder.user_id,
                reminder.topic,
                reminder.subject,
                reminder.sent,
                reminder.last_sent_at,
            ),
        )

    async def erase(self, user_id: int) -> int:
        return await self._db.execute("DELETE FROM reminders_sent WHERE user_id = ?", (user_id,))

    async def last_digest_day(self) -> date | None:
        day = await self._db.fetch_value("SELECT MAX(day) FROM digests")
        return date.fromisoformat(day) if day else None

    async def record_digest(self, day: date, at: datetime) -> None:
        await self._db.execute(
            "INSERT INTO digests (day, sent_at) VALUES (?, ?)"
            " ON CONFLICT (day) DO UPDATE SET sent_at = excluded.sent_at",
            (day.isoformat(), at),
        )

    async def record_tick(self, at: datetime) -> None:
        await self._db.execute(
            "INSERT INTO reminder_ticks (id, checked_at) VALUES (1, ?)"
            " ON CONFLICT (id) DO UPDATE SET checked_at = excluded.checked_at",
            (at,),
        )


class SqlEmailConfirmations:
    def __init__(self, db: Session) -> None:
        self._db = db

    async def get(self, user_id: int) -> PendingEmail | None:
        row = await self._db.fetch_one(
            "SELECT email, code, sent_at, attempts FROM email_confirmations WHERE user_id = ?",
            (user_id,),
        )
        if row is None:
            return None
        return PendingEmail(
            user_id, row["email"], row["code"], from_db_time(row["sent_at"]), row["attempts"]
        )

    async def save(self, pending: PendingEmail) -> None:
        await self._db.execute(
            "INSERT INTO email_confirmations (user_id, email, code, sent_at, attempts)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (user_id) DO UPDATE SET email = excluded.email,"
            " code = excluded.code, sent_at = excluded.sent_at, attempts = excluded.attempts",
            (pending.user_id, pending.email, pending.code, pending.sent_at, pending.attempts),
        )

    async def delete(self, user_id: int) -> None:
        await self._db.execute("DELETE FROM email_confirmations WHERE user_id = ?", (user_id,))


def _marks(values: Collection[object]) -> str:
    return ", ".join("?" * len(values))


def _kept(values: Collection[str]) -> tuple[str, tuple[str, ...]]:
    """An IN list of these words (never empty: `IN ()` is not SQL everywhere)."""
    kept = tuple(sorted(values)) or ("",)
    return _marks(kept), kept


def _status_or_none(value: str | None) -> ApplicationStatus | None:
    return None if value is None else ApplicationStatus(value)


def _payload(text: str) -> dict[str, Any]:
    value = json.loads(text)
    return value if isinstance(value, dict) else {}
