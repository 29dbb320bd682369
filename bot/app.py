"""The composition root: the one place that builds concrete classes and wires them together."""

from __future__ import annotations

import asyncio
import gc
import logging
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Any

from aiogram import Bot, Dispatcher, methods
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.fsm.storage.base import DefaultKeyBuilder
from aiogram.fsm.strategy import FSMStrategy
from aiogram.methods.base import Response, TelegramMethod
from aiogram.types import (
    BotCommand,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    BotCommandScopeUnion,
)
from limits.aio.storage import RedisStorage as LimitsRedisStorage
from redis.asyncio import BlockingConnectionPool, Redis
from redis.exceptions import RedisError

from bot.delivery import Delivery, RetryTransientFailures
from bot.desk.digest import DigestSender
from bot.desk.history import RecentChats, RecordBotMessages, RecordCitizenMessages
from bot.desk.service import OperatorDesk
from bot.dialogs.control import CitizenDialogs
from bot.dialogs.drafts import StoredDialogs
from bot.dialogs.flow import Dialog
from bot.email import EmailNotices, SmtpMailer
from bot.handlers import get_routers
from bot.i18n import LOCALES, Texts, create_texts
from bot.leader import Leadership, RedisLeaderLease, SoleProcess
from bot.locks import DialogLocks, LocalDialogLocks, RedisDialogLocks, RenewedEventIsolation
from bot.middlewares import (
    FloodControl,
    HandlerNameMiddleware,
    InFlightUpdates,
    LocaleMiddleware,
    PerUserOrderMiddleware,
    UpdateLogMiddleware,
)
from bot.notifications import CitizenNotices, PolicySender
from bot.ratelimit import (
    FloodCounter,
    LocalFloodCounter,
    LocalSendRates,
    RedisFloodCounter,
    RedisSendRates,
    SendRates,
    redis_limits_storage,
)
from bot.reminders import ReminderNotices, ReminderSchedule, dialog_waits
from bot.settings import Settings
from bot.uploads import ScanChecker
from bot.wakeups import OutboxWakeups
from bot.workers import Background, PeriodicTask
from core.clock import SystemClock
from core.delivery_methods import ProcessingTimings
from core.desk import SupportDesk
from core.email import EmailAddresses
from core.models import Audience, NotificationKind
from core.outbox import OutboxDispatcher, Sender
from core.ports import Clock, FileVault, PickupOffices, RegisterLookup
from core.reminders import ReminderService
from core.restoration import RestorationService
from core.retention import DataRetention, RetentionPeriods
from storage.database import statements_off_loop
from storage.engines import Storage, open_storage
from storage.health import SqlHealthProbe
from storage.keys import load_data_keys
from storage.offices import load_offices
from storage.redis_fsm import DialogStorage, RedisDialogStorage
from storage.register import load_register
from storage.unit_of_work import SqlUnitOfWorkFactory
from storage.vault import DiskFileVault

log = logging.getLogger(__name__)
SHUTDOWN_GRACE_SECONDS = 10.0
COMMANDS = (
    "start",
    "status",
    "policy",
    "profile",
    "reminders",
    "help",
    "operator",
    "lang",
    "cancel",
    "forget_me",
)
DESK_COMMANDS = ("templates", "release", "digest")
# A dialog's Redis lock expires this long after a process died holding it; its holder renews
# it every third of that while the update runs (bot/locks.py RenewedEventIsolation).
DIALOG_LOCK_SECONDS = 6
REDIS_TIMEOUT_SECONDS = 10
REDIS_CONNECTIONS = 100
# How often a waiter asks Redis for a held dialog lock (redis-py's default is 0.1 s).
DIALOG_LOCK_POLL_SECONDS = 0.01


class Role(StrEnum):
    """What this process does: everything (one process), or one part of a scaled-out bot."""

    ALL = "all"  # takes updates and runs the background loops
    WEB = "web"  # takes updates from the webhook only (run several)
    WORKER = "worker"  # the background loops only, while it holds the lease (run two)


class RedisUnavailable(Exception):
    """REDIS_URL did not answer at start-up; the message is one line."""


@dataclass
class Shared:
    """What several bot processes share through Redis (REDIS_URL)."""

    redis: Redis
    limits: LimitsRedisStorage
    isolation: RenewedEventIsolation
    wakeups: OutboxWakeups

    async def close(self) -> None:
        await self.wakeups.close()
        await self.redis.aclose()


async def open_shared(url: str) -> Shared:
    # Bounded waits: a Redis that stops answering fails calls instead of hanging updates.
    # One pool for locks, limits and wake-ups. A burst of updates past its size waits for a
    # free connection: redis-py's default pool raises instead, and the update was lost.
    pool = BlockingConnectionPool.from_url(
        url,
        max_connections=REDIS_CONNECTIONS,
        timeout=REDIS_TIMEOUT_SECONDS,
        socket_connect_timeout=5,
        socket_timeout=REDIS_TIMEOUT_SECONDS,
    )
    redis = Redis.from_pool(pool)  # closing the client closes the pool
    try:
        await redis.ping()
    except (RedisError, OSError) as error:
        await redis.aclose()
        raise RedisUnavailable(
            f"REDIS_URL: Redis did not answer at start-up ({type(error).__name__})"
        ) from error
    isolation = RenewedEventIsolation(
        redis,
        key_builder=DefaultKeyBuilder(prefix="oms:dialog", with_bot_id=True),
        expiry=DIALOG_LOCK_SECONDS,
        poll=DIALOG_LOCK_POLL_SECONDS,
    )
    return Shared(
        redis=redis,
        limits=redis_limits_storage(url, pool),
        isolation=isolation,
        wakeups=OutboxWakeups(redis),
    )


@dataclass
class Runtime:
    """Everything that lives as long as the process, built once at start-up."""

    settings: Settings
    clock: Clock
    texts: Texts
    register: RegisterLookup
    offices: PickupOffices
    vault: FileVault
    uow_factory: SqlUnitOfWorkFactory
    restoration: RestorationService
    fsm_storage: DialogStorage
    retention: DataRetention
    storage: Storage
    shared: Shared | None = None

    async def close(self) -> None:
        await self.fsm_storage.close()
        if self.shared is not None:
            await self.shared.close()
        await self.storage.close()


async def open_runtime(settings: Settings, *, clock: Clock | None = None) -> Runtime:
    clock = clock or SystemClock()
    # Everything the bot creates (database, -wal/-shm, scans, the key) is its user's only.
    os.umask(0o077)
    settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    settings.data_dir.chmod(0o700)
    # The register can be large: parse it off the event loop.
    register = await asyncio.to_thread(load_register, settings.registry_path)
    offices = await asyncio.to_thread(load_offices, settings.offices_path)
    # Before the vault: a database or a Redis that cannot be reached leaves no key behind.
    redis_url = settings.redis_url
    shared = await open_shared(redis_url.get_secret_value()) if redis_url is not None else None
    storage = await open_storage(
        settings.database, retry_seconds=settings.startup_retry_seconds, clock=clock
    )
    data_key = settings.data_key.get_secret_value() if settings.data_key else None
    vault = DiskFileVault(
        settings.data_dir / "files", load_data_keys(data_key, settings.data_key_path)
    )
    await vault.encrypt_stale_files()
    uow_factory = storage.uow_factory
    # Dialog state: in Redis with REDIS_URL, where every process reads it (storage/redis_fsm.py);
    # else in the database, cached by the one process.
    fsm_storage: DialogStorage = (
        storage.fsm if shared is None else RedisDialogStorage(shared.redis, clock=clock)
    )
    restoration = RestorationService(
        uow_factory=uow_factory,
        register=register,
        clock=clock,
        vault=vault,
        desk_enabled=settings.support_chat_id is not None,
        email_enabled=settings.email_enabled,
        service_level=settings.service_level,
        timings=ProcessingTimings(
            check_delay=settings.timing("check"),
            step_delay=settings.timing("step"),
            paper_print_delay=settings.timing("paper_print"),
            post_delay=settings.timing("post"),
            pickup_delay=settings.timing("pickup"),
        ),
    )
    retention = DataRetention(
        uow_factory=uow_factory,
        restoration=restoration,
        vault=vault,
        dialogs=StoredDialogs(fsm_storage),
        clock=clock,
        periods=RetentionPeriods(
            draft=timedelta(days=settings.draft_retention_days),
            application=timedelta(days=settings.application_retention_days),
            file_grace=timedelta(seconds=settings.orphan_file_grace_seconds),
        ),
        freed_space=storage.database,
    )
    return Runtime(
        settings=settings,
        clock=clock,
        texts=create_texts(settings.default_locale),
        register=register,
        offices=offices,
        vault=vault,
        uow_factory=uow_factory,
        restoration=restoration,
        fsm_storage=fsm_storage,
        retention=retention,
        storage=storage,
        shared=shared,
    )


# aiogram parses every answer as pydantic's Response[<returned type>], and pydantic keeps such
# parametrised models only weakly: each garbage collection dropped Response[Message] and the next
# call rebuilt its schema (about 1 ms, once or more per update in make bench's profile). Built
# once here and held for the process's life, they are created once (41 types, ~50 ms).
_RESPONSE_MODELS: list[type[Response[Any]]] = []


def _keep_response_models() -> None:
    if _RESPONSE_MODELS:
        return
    returned = {
        method.__returning__
        for method in vars(methods).values()
        if isinstance(method, type)
        and issubclass(method, TelegramMethod)
        and method is not TelegramMethod
    }
    _RESPONSE_MODELS.extend(Response[kind] for kind in returned)


def create_bot(settings: Settings) -> Bot:
    assert settings.bot_token is not None
    _keep_response_models()
    session = AiohttpSession(
        api=TelegramAPIServer.from_base(settings.telegram_api_base),
        timeout=settings.telegram_timeout_seconds,
    )
    return Bot(
        token=settings.bot_token.get_secret_value(),
        session=session,
        default=DefaultBotProperties(parse_mode=ParseMode.HTML),
    )


def create_health_probe(runtime: Runtime) -> SqlHealthProbe:
    """What GET /healthz asks (bot/web.py)."""
    assert runtime.storage is not None
    return runtime.storage.health_probe(runtime.clock)


@dataclass
class Services:
    """The dispatcher (updates) and the background loops, wired for the process's role."""

    dispatcher: Dispatcher
    # A WORKER's main task: the command menus, then the loops while this process may (the
    # lease), until the event is set. The ALL role's dispatcher runs the loops from its hooks.
    run_worker: Callable[[asyncio.Event], Awaitable[None]]


def build_dispatcher(runtime: Runtime, bot: Bot, role: Role = Role.ALL) -> Dispatcher:
    return build_services(runtime, bot, role).dispatcher


def build_services(runtime: Runtime, bot: Bot, role: Role = Role.ALL) -> Services:
    settings = runtime.settings
    shared = runtime.shared
    # Each of these has one implementation per deployment: this process's own, or Redis's.
    rates: SendRates
    locks: DialogLocks
    leadership: Leadership
    if shared is None:
        rates, locks, leadership = LocalSendRates(), LocalDialogLocks(), SoleProcess()
    else:
        rates = RedisSendRates(shared.limits)
        locks = RedisDialogLocks(shared.isolation, bot.id)
        leadership = RedisLeaderLease(shared.redis, lease_seconds=settings.worker_lease_seconds)
    delivery = Delivery(bot, rates)
    dialog = Dialog(register=runtime.register, offices=runtime.offices)
    dialogs = CitizenDialogs(
        bot_id=bot.id,
        storage=runtime.fsm_storage,
        locks=locks,
        dialog=dialog,
        delivery=delivery,
        texts=runtime.texts,
        uow_factory=runtime.uow_factory,
        restoration=runtime.restoration,
    )
    support = SupportDesk(
        uow_factory=runtime.uow_factory,
        clock=runtime.clock,
        dialogs=dialogs,
        enabled=settings.support_chat_id is not None,
    )
    policy_sender = PolicySender(
        restoration=runtime.restoration,
        delivery=delivery,
        texts=runtime.texts,
        clock=runtime.clock,
        timezone=settings.timezone,
    )
    recent = RecentChats()
    bot.session.middleware(RecordBotMessages(recent))
    bot.session.middleware(RetryTransientFailures())
    desk = OperatorDesk(
        bot=bot,
        delivery=delivery,
        uow_factory=runtime.uow_factory,
        restoration=runtime.restoration,
        support=support,
        dialogs=dialogs,
        register=runtime.register,
        texts=runtime.texts,
        settings=settings,
        recent=recent,
        locks=locks,
    )
    notices = CitizenNotices(
        uow_factory=runtime.uow_factory,
        restoration=runtime.restoration,
        delivery=delivery,
        texts=runtime.texts,
        offices=runtime.offices,
        timezone=settings.timezone,
        policy_sender=policy_sender,
    )
    reminders = ReminderService(
        uow_factory=runtime.uow_factory,
        dialogs=runtime.fsm_storage,
        clock=runtime.clock,
        register=runtime.register,
        policy=settings.reminder_policy(),
        waits=dialog_waits,
        default_zone=settings.timezone,
        desk_chat_id=settings.support_chat_id,
    )
    reminder_notices = ReminderNotices(
        dialogs=dialogs,
        restoration=runtime.restoration,
        delivery=delivery,
        texts=runtime.texts,
        offices=runtime.offices,
        timezone=settings.timezone,
    )
    digest = DigestSender(
        reminders=reminders,
        delivery=delivery,
        texts=runtime.texts,
        chat_id=settings.support_chat_id,
        locale=settings.default_locale,
        timezone=settings.timezone,
    )
    emails = EmailAddresses(uow_factory=runtime.uow_factory, clock=runtime.clock)
    # Each outbox kind and its sender: a new kind of notification is one entry here.
    senders: dict[NotificationKind, Sender] = {
        NotificationKind.STATUS_CHANGED: notices.status_changed,
        NotificationKind.POLICY_DOCUMENT: notices.policy_ready,
        NotificationKind.OPERATOR_JOINED: notices.operator_joined,
        NotificationKind.DESK_CARD: desk.send_card,
        NotificationKind.DESK_NOTE: desk.send_note,
        NotificationKind.REMINDER_DIALOG: reminder_notices.dialog,
        NotificationKind.REMINDER_PICKUP: reminder_notices.pickup,
        NotificationKind.DESK_DIGEST: digest.send,
        NotificationKind.DESK_ERASED: desk.send_erased,
    }
    desk_chat = settings.support_chat_id or 0
    retention = timedelta(days=settings.outbox_retention_days)
    outbox = OutboxDispatcher(
        uow_factory=runtime.uow_factory,
        clock=runtime.clock,
        senders=senders,
        payload_retention=retention,
        # A desk row goes to the support chat; the row's chat_id is its citizen's.
        ready=lambda row: delivery.can_send_now(
            desk_chat if row.kind.audience is Audience.DESK else row.chat_id
        ),
    )
    # Email drains in its own loop: a mail server that hangs never delays Telegram.
    email_senders: dict[NotificationKind, Sender] = {}
    if settings.email_enabled:
        assert settings.smtp_url is not None and settings.smtp_from is not None
        email_notices = EmailNotices(
            mailer=SmtpMailer(
                settings.smtp_url.get_secret_value(),
                settings.smtp_from,
                timeout=settings.smtp_timeout_seconds,
            ),
            emails=emails,
            restoration=runtime.restoration,
            notices=notices,
            policy_sender=policy_sender,
            texts=runtime.texts,
            timezone=settings.timezone,
        )
        email_senders = {
            NotificationKind.EMAIL_STATUS: email_notices.status_changed,
            NotificationKind.EMAIL_CODE: email_notices.confirmation_code,
        }
    email_outbox = OutboxDispatcher(
        uow_factory=runtime.uow_factory, clock=runtime.clock, senders=email_senders
    )
    dp = Dispatcher(
        storage=runtime.fsm_storage,
        # Operators act per topic (e.g. typing a rejection reason); private chats have no topic.
        fsm_strategy=FSMStrategy.USER_IN_TOPIC,
        desk=desk,
        support=support,
        dialog=dialog,
        settings=settings,
        clock=runtime.clock,
        register=runtime.register,
        offices=runtime.offices,
        vault=runtime.vault,
        restoration=runtime.restoration,
        retention=runtime.retention,
        recent=recent,
        delivery=delivery,
        policy_sender=policy_sender,
        scan_checker=ScanChecker(limit=2),  # each check may decode ~200 MB
        reminders=reminders,
        emails=emails,
    )
    in_flight = InFlightUpdates()
    # aiogram's FSM middleware reads the state for the filters; it must run under the dialog's
    # lock, or a second tap waiting there would be routed by the state before the first tap.
    dp.update.outer_middleware.unregister(dp.fsm)
    dp.update.outer_middleware(in_flight)
    dp.update.outer_middleware(UpdateLogMiddleware())
    if settings.flood_limit:
        limit, period = settings.flood_limit, settings.flood_period_seconds
        counter: FloodCounter = (
            LocalFloodCounter(limit=limit, period=period)
            if shared is None
            else RedisFloodCounter(shared.limits, shared.redis, limit=limit, period=period)
        )
        dp.update.outer_middleware(
            FloodControl(counter=counter, texts=runtime.texts, delivery=delivery)
        )
    dp.update.outer_middleware(PerUserOrderMiddleware(locks))
    dp.update.outer_middleware(dp.fsm)
    LocaleMiddleware(runtime.texts).setup(dp)
    dp.message.outer_middleware(RecordCitizenMessages(recent))
    for observer in (
        dp.message,
        dp.edited_message,
        dp.callback_query,
        dp.pre_checkout_query,
        dp.my_chat_member,
    ):
        observer.middleware(HandlerNameMiddleware())
    dp.include_routers(*get_routers(runtime.settings.support_chat_id))

    poll = settings.outbox_poll_seconds
    # The one active sender gives back claims left by a sender that is gone (killed mid-run).
    sender = PeriodicTask("outbox", outbox.drain, interval=poll, on_start=outbox.release_claims)
    email_sender = PeriodicTask("outbox-email", email_outbox.drain, interval=poll)
    processing = PeriodicTask("processing", runtime.restoration.process_due, interval=0.5)
    background = Background(
        (
            processing,
            sender,
            email_sender,
            PeriodicTask("outbox-payloads", outbox.clear_old_payloads, interval=3600),
            PeriodicTask(
                "retention", runtime.retention.sweep, interval=settings.retention_sweep_seconds
            ),
            *((desk.readers_check,) if desk.enabled else ()),
            ReminderSchedule(reminders.tick, settings.reminder_tick_seconds),
        )
    )

    def wake_loops() -> None:
        sender.wake()
        email_sender.wake()
        processing.wake()

    def work_queued() -> None:
        if role is not Role.WEB:
            wake_loops()
        if shared is not None:  # the worker holding the lease may be another process
            shared.wakeups.publish()

    # A commit that queued notifications wakes the sender instead of waiting for its poll; with
    # no check delay a submitted application is due at once, so it is processed now, not at the
    # next tick (submit -> PDF under a second with the delays at 0).
    runtime.uow_factory.after_outbox_commit = work_queued
    runtime.restoration.after_due_submit = work_queued

    async def run_background(stop: asyncio.Event) -> None:
        # The loops' queries may scan many rows: on SQLite they run in aiosqlite's thread, not
        # on the event loop that handles updates (storage/database.py).
        statements_off_loop()
        if shared is None:
            await leadership.lead(background, stop)
            return
        listening = asyncio.create_task(shared.wakeups.listen(wake_loops, stop))
        try:
            await leadership.lead(background, stop)
        finally:
            stop.set()
            await listening

    stop_background = asyncio.Event()
    running: list[asyncio.Task[None]] = []

    async def run_worker(stop: asyncio.Event) -> None:
        await set_commands(bot, runtime.texts, settings.support_chat_id)
        await run_background(stop)

    async def on_startup() -> None:
        if role is Role.ALL:
            await set_commands(bot, runtime.texts, settings.support_chat_id)
            running.append(asyncio.create_task(run_background(stop_background)))
        # Everything built so far (the register's indexes, aiogram's routers, the texts) lives
        # as long as the process: keep it out of the collector's full passes, which otherwise
        # scan it every few hundred updates and stall them (make bench: -15% CPU per journey).
        gc.collect()
        gc.freeze()

    async def on_shutdown() -> None:
        # Runs before the bot's session is closed: let replies being sent go out first.
        if not await in_flight.wait_idle(SHUTDOWN_GRACE_SECONDS):
            log.warning("stopping with updates still being handled")
        stop_background.set()
        for task in running:
            await task

    dp.startup.register(on_startup)
    dp.shutdown.register(on_shutdown)
    return Services(dispatcher=dp, run_worker=run_worker)


async def set_commands(bot: Bot, texts: Texts, support_chat_id: int | None) -> None:
    """The command menus in both languages (and the default one, for other languages):
    citizens' in private chats, operators' in the support chat."""
    menus: list[tuple[BotCommandScopeUnion, tuple[str, ...]]] = [
        (BotCommandScopeAllPrivateChats(), COMMANDS)
    ]
    if support_chat_id is not None:
        menus.append((BotCommandScopeChat(chat_id=support_chat_id), DESK_COMMANDS))
    for scope, names in menus:
        for locale in (None, *LOCALES):
            commands = [
                BotCommand(
                    command=name,
                    description=texts.t(f"command.{name}", locale=locale or texts.default_locale),
                )
                for name in names
            ]
            await bot.set_my_commands(commands, scope=scope, language_code=locale)
