"""The composition root: the one place that builds concrete classes and wires them together."""

from __future__ import annotations

import asyncio
import logging
import os
from dataclasses import dataclass
from datetime import timedelta

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.fsm.storage.base import BaseStorage
from aiogram.fsm.strategy import FSMStrategy
from aiogram.types import (
    BotCommand,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    BotCommandScopeUnion,
)

from bot.delivery import Delivery
from bot.desk.history import RecentChats, RecordBotMessages, RecordCitizenMessages
from bot.desk.service import OperatorDesk
from bot.dialogs.control import CitizenDialogs
from bot.dialogs.flow import Dialog
from bot.handlers import get_routers
from bot.i18n import LOCALES, Texts, create_texts
from bot.locks import DialogLocks
from bot.middlewares import (
    HandlerNameMiddleware,
    InFlightUpdates,
    LocaleMiddleware,
    PerUserOrderMiddleware,
    UpdateLogMiddleware,
)
from bot.notifications import CitizenNotices, PolicySender
from bot.settings import Settings
from bot.uploads import ScanChecker
from bot.workers import PeriodicTask
from core.clock import SystemClock
from core.delivery_methods import ProcessingTimings
from core.desk import SupportDesk
from core.models import NotificationKind
from core.outbox import OutboxDispatcher, Sender
from core.ports import Clock, FileVault, PickupOffices, RegisterLookup
from core.restoration import RestorationService
from storage.engines import Storage, open_storage
from storage.health import SqlHealthProbe
from storage.keys import load_data_keys
from storage.offices import load_offices
from storage.register import load_register
from storage.unit_of_work import SqlUnitOfWorkFactory
from storage.vault import DiskFileVault

log = logging.getLogger(__name__)
SHUTDOWN_GRACE_SECONDS = 10.0
COMMANDS = ("start", "status", "policy", "profile", "help", "operator", "lang", "cancel")
DESK_COMMANDS = ("templates", "release")


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
    fsm_storage: BaseStorage
    storage: Storage | None = None

    async def close(self) -> None:
        await self.fsm_storage.close()
        if self.storage is not None:
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
    # Before the vault: a database that cannot be reached leaves no generated key behind.
    storage = await open_storage(settings.database, retry_seconds=settings.startup_retry_seconds)
    data_key = settings.data_key.get_secret_value() if settings.data_key else None
    vault = DiskFileVault(
        settings.data_dir / "files", load_data_keys(data_key, settings.data_key_path)
    )
    await vault.encrypt_stale_files()
    uow_factory = storage.uow_factory
    restoration = RestorationService(
        uow_factory=uow_factory,
        register=register,
        clock=clock,
        desk_enabled=settings.support_chat_id is not None,
        timings=ProcessingTimings(
            check_delay=settings.timing("check"),
            step_delay=settings.timing("step"),
            paper_print_delay=settings.timing("paper_print"),
            post_delay=settings.timing("post"),
            pickup_delay=settings.timing("pickup"),
        ),
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
        fsm_storage=storage.fsm,
        storage=storage,
    )


def create_bot(settings: Settings) -> Bot:
    assert settings.bot_token is not None
    session = AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram_api_base))
    return Bot(
        token=settings.bot_token.get_secret_value(),
        session=session,
        default=DefaultBotProperties(parse_mode=ParseMode.HTML),
    )


def create_health_probe(runtime: Runtime) -> SqlHealthProbe:
    """What GET /healthz asks (bot/web.py)."""
    assert runtime.storage is not None
    return runtime.storage.health_probe(runtime.clock)


def build_dispatcher(runtime: Runtime, bot: Bot) -> Dispatcher:
    settings = runtime.settings
    delivery = Delivery(bot)
    locks = DialogLocks()
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
    )
    notices = CitizenNotices(
        uow_factory=runtime.uow_factory,
        restoration=runtime.restoration,
        delivery=delivery,
        texts=runtime.texts,
        offices=runtime.offices,
    )
    # Each outbox kind and its sender: a new kind of notification is one entry here.
    senders: dict[NotificationKind, Sender] = {
        NotificationKind.STATUS_CHANGED: notices.status_changed,
        NotificationKind.POLICY_DOCUMENT: policy_sender.send_row,
        NotificationKind.OPERATOR_JOINED: notices.operator_joined,
        NotificationKind.DESK_CARD: desk.send_card,
        NotificationKind.DESK_NOTE: desk.send_note,
    }
    outbox = OutboxDispatcher(
        uow_factory=runtime.uow_factory,
        clock=runtime.clock,
        senders=senders,
        payload_retention=timedelta(days=settings.outbox_retention_days),
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
        delivery=delivery,
        policy_sender=policy_sender,
        scan_checker=ScanChecker(limit=2),  # each check may decode ~200 MB
    )
    in_flight = InFlightUpdates()
    dp.update.outer_middleware(in_flight)
    dp.update.outer_middleware(UpdateLogMiddleware())
    dp.update.outer_middleware(PerUserOrderMiddleware(locks))
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

    sender = PeriodicTask("outbox", outbox.drain, interval=0.5)
    workers = (
        PeriodicTask("processing", runtime.restoration.process_due, interval=0.5),
        sender,
        PeriodicTask("outbox-payloads", outbox.clear_old_payloads, interval=3600),
    )
    # A commit that queued notifications wakes the sender instead of waiting for its tick.
    runtime.uow_factory.after_outbox_commit = sender.wake

    async def on_startup() -> None:
        await set_commands(bot, runtime.texts, runtime.settings.support_chat_id)
        for worker in workers:
            worker.start()

    async def on_shutdown() -> None:
        # Runs before the bot's session is closed: let replies being sent go out first.
        if not await in_flight.wait_idle(SHUTDOWN_GRACE_SECONDS):
            log.warning("stopping with updates still being handled")
        for worker in workers:
            await worker.stop()

    dp.startup.register(on_startup)
    dp.shutdown.register(on_shutdown)
    return dp


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
