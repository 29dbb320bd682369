"""Domain models of the OMS policy restoration. Plain data; no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum


class Sex(StrEnum):
    MALE = "M"
    FEMALE = "F"


class LossReason(StrEnum):
    LOST = "lost"
    STOLEN = "stolen"
    DAMAGED = "damaged"
    DATA_CHANGED = "data_changed"
    OTHER = "other"


class DeliveryMethod(StrEnum):
    ELECTRONIC = "electronic"
    POST = "post"
    PICKUP = "pickup"


class ApplicationStatus(StrEnum):
    SUBMITTED = "submitted"  # Принято
    PROCESSING = "processing"  # В обработке
    APPROVED = "approved"  # Одобрено
    REJECTED = "rejected"  # Отклонено (with a reason)
    READY = "ready"  # Готово: electronic policy delivered
    READY_FOR_PICKUP = "ready_for_pickup"  # Готово к получению
    SENT_BY_POST = "sent_by_post"  # Отправлено почтой
    COLLECTED = "collected"  # Выдано: an operator handed the paper copy over at the office
    WITHDRAWN = "withdrawn"  # Отозвано: the citizen withdrew consent before it was finished

    @property
    def is_final(self) -> bool:
        """The processing is over. Only a paper copy waiting at an office moves on, when the
        citizen collects it (an operator marks it)."""
        return self in FINAL_STATUSES


FINAL_STATUSES = frozenset(
    {
        ApplicationStatus.REJECTED,
        ApplicationStatus.READY,
        ApplicationStatus.READY_FOR_PICKUP,
        ApplicationStatus.SENT_BY_POST,
        ApplicationStatus.COLLECTED,
        ApplicationStatus.WITHDRAWN,
    }
)


@dataclass(frozen=True, slots=True)
class Passport:
    """A Russian internal passport: series of 4 digits, number of 6 digits."""

    series: str
    number: str

    def __str__(self) -> str:
        return f"{self.series[:2]} {self.series[2:]} {self.number}"


@dataclass(frozen=True, slots=True)
class InsuredPerson:
    """One row of the register of insured persons (ERZL)."""

    enp: str
    snils: str
    last_name: str
    first_name: str
    middle_name: str | None
    sex: Sex
    birth_date: date
    passport: Passport
    phone: str  # E.164
    region: str
    smo_name: str
    smo_phone: str
    valid_from: date

    @property
    def initials_name(self) -> str:
        """The surname with initials, e.g. "Smith J. R."."""
        initials = [f"{self.first_name[0]}."]
        if self.middle_name:
            initials.append(f"{self.middle_name[0]}.")
        return f"{self.last_name} {' '.join(initials)}"

    @property
    def masked_birth_date(self) -> str:
        """12.**.1985: enough to recognise oneself, not enough to learn a birth date."""
        return f"{self.birth_date:%d}.**.{self.birth_date:%Y}"

    @property
    def masked_profile(self) -> str:
        return f"{self.initials_name}, {self.masked_birth_date}"

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.last_name, self.first_name, self.middle_name) if p)


@dataclass(frozen=True, slots=True)
class PickupOffice:
    id: str  # short stable id, fits in callback_data
    region: str
    name: str
    address: str
    hours: str


@dataclass(frozen=True, slots=True)
class StoredFile:
    """A file kept in the vault: a generated name and the SHA-256 of its content."""

    name: str
    sha256: str
    size: int


@dataclass(frozen=True, slots=True)
class VaultEntry:
    """A file found in the vault: a stored file, or a temporary one an interrupted write left."""

    name: str
    modified_at: datetime
    temporary: bool = False


@dataclass(frozen=True, slots=True)
class DialogRecord:
    """A citizen's dialog as stored: whose it is, the scan it refers to, when it was written."""

    key: str  # the storage's own key of the record
    user_id: int
    updated_at: datetime
    scan_name: str | None = None


@dataclass(slots=True)
class Citizen:
    user_id: int  # Telegram user id; a private chat has the same id
    locale: str
    phone: str | None = None
    enp: str | None = None
    email: str | None = None
    consent_at: datetime | None = None
    blocked_bot: bool = False
    reminders_off: bool = False  # /reminders turned them off
    email_confirmed_at: datetime | None = None  # the code sent to `email` was typed back

    @property
    def confirmed_email(self) -> str | None:
        """The address status changes are emailed to: only one the citizen proved is theirs."""
        return self.email if self.email and self.email_confirmed_at else None


@dataclass(slots=True)
class ApplicationDraft:
    """Everything the dialog collected, ready to submit."""

    user_id: int
    chat_id: int
    enp: str
    loss_reason: LossReason
    passport: Passport
    scan: StoredFile
    delivery: DeliveryMethod
    locale: str
    loss_reason_text: str | None = None
    postcode: str | None = None
    address: str | None = None
    office_id: str | None = None
    fee_paid_kopecks: int = 0
    idempotency_key: str = ""  # one key per dialog run: a double submit finds the first one


@dataclass(slots=True)
class Application:
    id: int
    number: str  # human-readable and ASCII, "<yymm>-<id:06d>", e.g. "2611-000123"
    user_id: int
    chat_id: int
    enp: str
    loss_reason: LossReason
    loss_reason_text: str | None
    passport: Passport
    scan: StoredFile | None  # None once destroyed under the retention rule
    delivery: DeliveryMethod
    postcode: str | None
    address: str | None
    office_id: str | None
    locale: str
    status: ApplicationStatus
    created_at: datetime
    updated_at: datetime
    idempotency_key: str
    fee_paid_kopecks: int = 0
    rejection_reason: str | None = None
    next_action_at: datetime | None = None  # when the background processor acts next
    policy_file_id: str | None = None  # Telegram file_id of the delivered PDF, for /policy
    operator_id: int | None = None
    scan_destroyed_at: datetime | None = None  # the scan is deleted once the status is final
    # Set when everything identifying the person was removed (retention period, or consent
    # withdrawn); number, statuses and dates stay for the audit trail.
    anonymised_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class StatusChange:
    """One row of the audit trail."""

    application_id: int
    from_status: ApplicationStatus | None
    to_status: ApplicationStatus
    at: datetime
    actor: str  # "system", "citizen:<id>", "operator:<id>"
    reason: str | None = None


class Audience(StrEnum):
    """Who an outbox row speaks to. Rows of one audience and chat are sent in order; a failing
    row holds back only those, never the other audience's (a broken support chat never delays
    a citizen's status push)."""

    CITIZEN = "citizen"  # the citizen's private chat; chat_id is theirs
    DESK = "desk"  # the citizen's topic in the support chat; chat_id is the citizen's too
    EMAIL = "email"  # the citizen's confirmed address; chat_id is the citizen's (a slow or failing
    # mail server holds back only that citizen's later emails, never a Telegram message)


class NotificationKind(StrEnum):
    STATUS_CHANGED = "status_changed"  # payload: application_id, status
    POLICY_DOCUMENT = "policy_document"  # payload: application_id
    OPERATOR_JOINED = "operator_joined"  # the citizen is told who took the conversation
    DESK_CARD = "desk_card"  # the topic's title and card follow the citizen's state
    DESK_NOTE = "desk_note"  # payload: note (a locale key); opens the topic when needed
    # Reminders (core/reminders.py); each is sent only if its reason is still there.
    REMINDER_DIALOG = "reminder_dialog"  # payload: topic (ReminderTopic), subject (run/app id)
    REMINDER_PICKUP = "reminder_pickup"  # payload: application_id; the copy waits at the office
    DESK_DIGEST = "desk_digest"  # chat_id: the support chat; payload: thread_id (optional)
    EMAIL_STATUS = "email_status"  # payload: application_id, status
    EMAIL_CODE = "email_code"  # the confirmation code of the address being set
    # A citizen withdrew consent: their topic goes, operators are told. chat_id is 0 (the
    # citizen is no longer named); payload: thread_id, card_message_id, withdrawn (ids).
    DESK_ERASED = "desk_erased"

    @property
    def audience(self) -> Audience:
        if self.value.startswith("desk_"):
            return Audience.DESK
        if self.value.startswith("email_"):
            return Audience.EMAIL
        return Audience.CITIZEN


@dataclass(frozen=True, slots=True)
class DialogSnapshot:
    """Where a citizen's dialog stands in the FSM storage, and when it last moved."""

    user_id: int
    state: str
    data: dict[str, object]
    updated_at: datetime


@dataclass(slots=True)
class SentReminder:
    """How many reminders went out for one reason (topic + subject) and when the last did."""

    user_id: int
    topic: str
    subject: str
    sent: int = 0
    last_sent_at: datetime | None = None


@dataclass(slots=True)
class PendingEmail:
    """An address being confirmed: the code emailed to it, until it is typed back."""

    user_id: int
    email: str
    code: str
    sent_at: datetime
    attempts: int = 0


@dataclass(slots=True)
class Notification:
    """An outbox row: written in the transaction that caused it, sent after commit.

    The payload holds ids and codes only, never personal data: the sender reads the rest from
    the current records when it sends (and an erased record means nothing to send)."""

    chat_id: int
    kind: NotificationKind
    payload: dict[str, object] = field(default_factory=dict)
    id: int | None = None
    attempts: int = 0
    not_before: datetime | None = None
    created_at: datetime | None = None


class DestroyedData(StrEnum):
    """What a destruction record is about (152-FZ: destruction is recorded)."""

    SCAN = "scan"  # an application's passport scan
    DIALOG = "dialog"  # a dialog's answers, and its scan when never submitted
    ORPHAN_FILE = "orphan_file"  # a stored file no record referred to
    TEMPORARY_FILE = "temporary_file"  # a part-written file of an interrupted upload
    APPLICATION_PERSON = "application_person"  # an application's data about the person
    CITIZEN = "citizen"  # a citizen's profile, conversation and notifications


class DestructionReason(StrEnum):
    FINAL_STATUS = "final_status"  # the check is over
    CONSENT_WITHDRAWN = "consent_withdrawn"  # /forget_me
    RETENTION_PERIOD = "retention_period"  # kept as long as configured
    ABANDONED = "abandoned"  # a dialog left untouched
    UNREFERENCED = "unreferenced"  # nothing refers to it (e.g. a crash between two writes)


@dataclass(frozen=True, slots=True)
class Destruction:
    """One row of the destruction log. Never names the person: at most an application id,
    whose record is anonymised by then or about to be."""

    what: DestroyedData
    reason: DestructionReason
    at: datetime
    application_id: int | None = None
    count: int = 1
