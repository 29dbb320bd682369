"""The one settings class: environment variables and `.env`, documented in `.env.example`."""

from __future__ import annotations

import ipaddress
import json
import os
import re
from datetime import time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from core.reminders import QuietHours, ReminderPolicy, parse_clock_time
from storage.engines import DatabaseUrl, parse_database_url, sqlite_url
from storage.keys import parse_data_keys

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEMO_DIR = PROJECT_ROOT / "storage" / "demo"
# @BotFather issues "<bot id>:<35 characters>"; accept any non-empty secret after the colon.
_TOKEN_RE = re.compile(r"^\d{1,20}:[A-Za-z0-9_-]{1,100}$")
# What setWebhook accepts as secret_token (https://core.telegram.org/bots/api#setwebhook).
_WEBHOOK_SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
HEALTH_PATH = "/healthz"


def _split_list(value: object) -> object:
    """`A,B` or `A` or a JSON list (docs/deployer.md, "Settings")."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                return json.loads(text)
            except json.JSONDecodeError as error:
                raise ValueError("expected a JSON list or comma-separated values") from error
        return [part.strip() for part in text.split(",") if part.strip()]
    return value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    bot_token: SecretStr | None = None
    telegram_api_base: str = "https://api.telegram.org"
    # How long one Bot API call may take before it counts as failed (and is retried).
    telegram_timeout_seconds: float = Field(default=60.0, gt=0, le=600)
    data_dir: Path = Path("./data")
    # Where the records live: sqlite:///path (default DATA_DIR/bot.sqlite3, one bot process) or
    # postgresql://user:password@host:5432/dbname (any number of processes).
    database_url: SecretStr | None = None
    # Encrypts passport scans at rest (storage/keys.py); unset: a key generated in DATA_DIR.
    data_key: SecretStr | None = None
    registry_path: Path = DEMO_DIR / "register.csv"
    offices_path: Path = DEMO_DIR / "pickup_offices.csv"
    support_chat_id: int | None = None
    operator_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)
    default_locale: Literal["ru", "en"] = "ru"
    # The operators' dates and the policy's issue date; a citizen's times when their region's zone
    # is unknown (bot/times.py labels them then).
    timezone: ZoneInfo = ZoneInfo("Europe/Moscow")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    support_email: str = "support@example.org"
    support_phone: str = "8-800-000-00-00"

    # Demo defaults: a whole journey, paper included, completes while someone watches.
    check_delay_seconds: float = Field(default=3.0, ge=0)
    step_delay_seconds: float = Field(default=2.0, ge=0)
    paper_print_delay_seconds: float = Field(default=5.0, ge=0)
    post_delay_seconds: float = Field(default=5.0, ge=0)
    pickup_delay_seconds: float = Field(default=5.0, ge=0)

    # Delivered outbox rows keep their outcome; their payloads (ids only) are cleared after this.
    outbox_retention_days: float = Field(default=7.0, ge=0)

    # Restoring a policy is free by law; a deployer may charge for a paper extra only.
    paper_fee_rub: Decimal = Field(default=Decimal(0), ge=0, max_digits=9, decimal_places=2)
    payment_provider_token: SecretStr | None = None
    payment_currency: str = "RUB"

    # Personal data (152-FZ; README, "Personal data"): how long each kind is kept.
    # A dialog untouched this long is deleted, with its answers and a scan never submitted.
    draft_retention_days: float = Field(default=7.0, ge=0)
    # A finished application keeps the person's data this long (3 years), then only its
    # number, statuses and dates.
    application_retention_days: float = Field(default=1095.0, ge=0)
    # How often the retention sweep runs (abandoned dialogs, stray files, expired records).
    retention_sweep_seconds: float = Field(default=3600.0, gt=0)
    # A stored file no record refers to, or a temporary file, is deleted once this old
    # (a younger one may belong to an upload still being saved).
    orphan_file_grace_seconds: float = Field(default=3600.0, ge=0)
    # After the third passport number that does not match the register, the step is locked.
    passport_lock_minutes: float = Field(default=60.0, ge=0)

    sandbox_host: str = "127.0.0.1"
    sandbox_port: int = Field(default=8080, ge=1, le=65535)

    # Webhook mode when set: Telegram POSTs updates to this public URL; polling otherwise.
    webhook_url: str | None = None
    # Checked on every webhook request; a random one per start when not set.
    webhook_secret: SecretStr | None = None
    # Where the bot's HTTP server listens: the webhook (behind the TLS proxy) and /healthz.
    web_host: str = "0.0.0.0"
    web_port: int = Field(default=8081, ge=1, le=65535)
    # How long start-up keeps retrying getMe while Telegram is unreachable (1, 2, 4, 8 s...).
    startup_retry_seconds: float = Field(default=15.0, ge=0, le=3600)

    # Flood control: a person's updates beyond FLOOD_LIMIT per FLOOD_PERIOD_SECONDS are
    # dropped unhandled, with one polite warning; 0 turns it off.
    flood_limit: int = Field(default=20, ge=0, le=1000)
    flood_period_seconds: float = Field(default=10.0, gt=0, le=3600)

    # --- reminders, the operators' digest, email, the sandbox clock (README: "Reminders") ---
    # How often the reminder job asks the database what is due (APScheduler, real time).
    reminder_tick_seconds: float = Field(default=30.0, gt=0, le=3600)
    # An unfinished dialog is reminded this long after it stopped, at most this many times.
    reminder_dialog_after_hours: float = Field(default=24.0, gt=0)
    reminder_dialog_max: int = Field(default=2, ge=0, le=10)
    # A new passport photo asked by an operator, an unpaid invoice: reminded once, after this.
    reminder_action_after_hours: float = Field(default=24.0, gt=0)
    # "Your paper policy is waiting", every this many days until it is handed over.
    reminder_pickup_every_days: float = Field(default=3.0, gt=0)
    # No citizen reminder in these hours of their region's time zone; shifted to the end.
    quiet_hours: Annotated[QuietHours, NoDecode] = QuietHours()
    # The longest an application should take; the digest lists those waiting longer, and
    # "what happens next" promises it when people decide.
    service_level_hours: float = Field(default=72.0, gt=0)
    # When the operators' digest is posted each day, in TIMEZONE.
    digest_at: Annotated[time, NoDecode] = time(9, 0)
    # Email: smtp://user:password@host:587 (STARTTLS when offered) or smtps://...:465 (TLS).
    smtp_url: SecretStr | None = None
    smtp_from: str | None = None
    smtp_timeout_seconds: float = Field(default=15.0, gt=0, le=300)
    # Offline sandbox and tests only: follow the emulator's movable clock.
    sandbox_clock: bool = False

    @field_validator("bot_token", mode="before")
    @classmethod
    def _token_shape(cls, value: object) -> object:
        if value in (None, ""):
            return None
        text = value.get_secret_value() if isinstance(value, SecretStr) else str(value)
        if not _TOKEN_RE.match(text.strip()):
            raise ValueError("expected the token from @BotFather, like 123456:ABC-DEF")
        return text.strip()

    @field_validator("data_key")
    @classmethod
    def _data_key_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        parse_data_keys(value.get_secret_value())  # DataKeyError is a ValueError
        return value

    @field_validator("telegram_api_base")
    @classmethod
    def _api_base(cls, value: str) -> str:
        if not re.match(r"^https?://[^/\s]+", value):
            raise ValueError("expected an http(s) URL of a Bot API server")
        return value.rstrip("/")

    @field_validator("webhook_url", mode="before")
    @classmethod
    def _webhook_url(cls, value: object) -> object:
        if value is None or not str(value).strip():
            return None
        text = str(value).strip()
        parts = urlsplit(text)
        if parts.scheme != "https" or not parts.hostname:
            raise ValueError(
                "expected the public https URL Telegram will post to,"
                " like https://bot.example.org/telegram"
            )
        if parts.fragment:
            raise ValueError("expected a URL without a #fragment")
        if (parts.path or "/") == HEALTH_PATH:
            raise ValueError(f"{HEALTH_PATH} is the health check's path; choose another one")
        return text

    @field_validator("webhook_secret", mode="before")
    @classmethod
    def _webhook_secret(cls, value: object) -> object:
        if value in (None, ""):
            return None
        text = value.get_secret_value() if isinstance(value, SecretStr) else str(value)
        if not _WEBHOOK_SECRET_RE.match(text):
            raise ValueError("expected 1-256 characters of A-Z, a-z, 0-9, _ and -")
        return text

    @field_validator("database_url", mode="before")
    @classmethod
    def _database_url(cls, value: object) -> object:
        text = value.get_secret_value() if isinstance(value, SecretStr) else value
        if text is None or not str(text).strip():
            return None
        parse_database_url(str(text))  # never echoes the URL: it may hold a password
        return str(text).strip()

    @field_validator("operator_ids", mode="before")
    @classmethod
    def _operator_list(cls, value: object) -> object:
        return _split_list(value)

    @field_validator("registry_path", "offices_path")
    @classmethod
    def _csv_file(cls, value: Path) -> Path:
        # The commonest slip is pointing at the folder holding the file; say so, not "missing".
        if value.is_dir():
            raise ValueError(f"{value} is a directory, expected a CSV file")
        if not value.exists():
            raise ValueError(f"no such file: {value}")
        if not value.is_file():
            raise ValueError(f"{value} is not a regular file, expected a CSV file")
        if not os.access(value, os.R_OK):
            raise ValueError(f"{value} is not readable by this user")
        return value

    @field_validator("quiet_hours", mode="before")
    @classmethod
    def _quiet_hours(cls, value: object) -> object:
        if isinstance(value, str):
            try:
                return QuietHours.parse(value)
            except ValueError as error:
                raise ValueError("expected HH:MM-HH:MM, like 22:00-09:00") from error
        return value

    @field_validator("digest_at", mode="before")
    @classmethod
    def _digest_at(cls, value: object) -> object:
        if isinstance(value, str):
            try:
                return parse_clock_time(value)
            except ValueError as error:
                raise ValueError("expected HH:MM, like 09:00") from error
        return value

    @field_validator("smtp_url", mode="before")
    @classmethod
    def _smtp_url(cls, value: object) -> object:
        if value in (None, ""):
            return None
        text = value.get_secret_value() if isinstance(value, SecretStr) else str(value)
        parts = urlsplit(text.strip())
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            # The URL may hold a password: never echo it.
            raise ValueError("expected smtp://[user:password@]host[:port] or smtps://...")
        try:
            parts.port  # noqa: B018 - raises on a bad port
        except ValueError as error:
            raise ValueError("the port must be a number from 1 to 65535") from error
        return text.strip()

    @field_validator("smtp_from", mode="before")
    @classmethod
    def _smtp_from(cls, value: object) -> object:
        if value in (None, ""):
            return None
        if "@" not in str(value):
            raise ValueError("expected a sender address, like OMS bot <noreply@example.org>")
        return str(value).strip()

    @model_validator(mode="after")
    def _email_and_clock(self) -> Settings:
        if self.smtp_url is not None and self.smtp_from is None:
            raise ValueError("SMTP_FROM: required when SMTP_URL is set (the sender address)")
        if self.sandbox_clock and not _is_loopback(self.telegram_api_base):
            # A movable clock is for the offline emulator only, never a real deployment.
            raise ValueError(
                "SANDBOX_CLOCK: only with the local emulator (TELEGRAM_API_BASE on 127.0.0.1,"
                " ::1 or localhost)"
            )
        return self

    @model_validator(mode="after")
    def _fee_needs_provider(self) -> Settings:
        if self.paper_fee_rub > 0 and self.payment_provider_token is None:
            raise ValueError(
                "PAYMENT_PROVIDER_TOKEN: required when PAPER_FEE_RUB is above 0"
                " (a token from @BotFather's Payments)"
            )
        return self

    @property
    def webhook_path(self) -> str:
        """The path the bot serves the webhook on: WEBHOOK_URL's (a TLS proxy forwards it)."""
        return urlsplit(self.webhook_url or "").path or "/"

    @property
    def database_path(self) -> Path:
        return self.data_dir / "bot.sqlite3"

    @property
    def database(self) -> DatabaseUrl:
        """DATABASE_URL, or SQLite in DATA_DIR when it is not set."""
        if self.database_url is None:
            return parse_database_url(sqlite_url(self.database_path))
        return parse_database_url(self.database_url.get_secret_value())

    @property
    def data_key_path(self) -> Path:
        """Where the generated key is kept when DATA_KEY is not set."""
        return self.data_dir / "data.key"

    @property
    def paper_fee_kopecks(self) -> int:
        return int(self.paper_fee_rub * 100)

    @property
    def passport_lock(self) -> timedelta:
        return timedelta(minutes=self.passport_lock_minutes)

    def timing(self, name: str) -> timedelta:
        return timedelta(seconds=float(getattr(self, f"{name}_delay_seconds")))

    @property
    def email_enabled(self) -> bool:
        """Email is offered only when an SMTP server is configured."""
        return self.smtp_url is not None and self.smtp_from is not None

    @property
    def service_level(self) -> timedelta:
        return timedelta(hours=self.service_level_hours)

    def reminder_policy(self) -> ReminderPolicy:
        return ReminderPolicy(
            dialog_after=timedelta(hours=self.reminder_dialog_after_hours),
            dialog_max=self.reminder_dialog_max,
            action_after=timedelta(hours=self.reminder_action_after_hours),
            pickup_every=timedelta(days=self.reminder_pickup_every_days),
            quiet_hours=self.quiet_hours,
            service_level=self.service_level,
            digest_at=self.digest_at,
        )


def _is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def describe_error(error: ValidationError) -> str:
    """One line naming each bad variable and what is expected; no traceback."""
    parts = []
    for item in error.errors():
        name = str(item["loc"][0]).upper() if item["loc"] else ""
        message = str(item["msg"]).removeprefix("Value error, ")
        parts.append(f"{name}: {message}" if name else message)
    return "Invalid configuration: " + "; ".join(parts)
