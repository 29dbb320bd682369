"""The one settings class: environment variables and `.env`, documented in `.env.example`."""

from __future__ import annotations

import json
import os
import re
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

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
    # Dates and times shown to people (status history, the policy's issue date).
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

    def timing(self, name: str) -> timedelta:
        return timedelta(seconds=float(getattr(self, f"{name}_delay_seconds")))


def describe_error(error: ValidationError) -> str:
    """One line naming each bad variable and what is expected; no traceback."""
    parts = []
    for item in error.errors():
        name = str(item["loc"][0]).upper() if item["loc"] else ""
        message = str(item["msg"]).removeprefix("Value error, ")
        parts.append(f"{name}: {message}" if name else message)
    return "Invalid configuration: " + "; ".join(parts)
