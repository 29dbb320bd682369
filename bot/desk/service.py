"""The operator desk: one forum topic per citizen in the support chat, a card with the context,
relays in both directions, and operator actions that go through the core workflow.

Everything sent here goes through `Delivery` (rate limits, 429 retries); a relay that finally
fails is reported in the topic or to the citizen, never dropped silently.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from html import escape
from typing import Any, TypeVar

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.fsm.context import FSMContext
from aiogram.fsm.storage.base import BaseStorage, StorageKey
from aiogram.methods import (
    CopyMessage,
    CreateForumTopic,
    EditForumTopic,
    EditMessageCaption,
    EditMessageText,
    SendMessage,
    TelegramMethod,
)
from aiogram.types import InlineKeyboardMarkup, Message, ReplyParameters

from bot.delivery import Delivery, DeliveryFailed, RecipientUnreachable
from bot.desk import card
from bot.desk.history import RecentChats
from bot.dialogs.answers import Answers, answers_from, save_answers
from bot.dialogs.flow import CitizenChat, ask, resume
from bot.dialogs.restoration import Restoration, SupportChat
from bot.i18n import Texts
from bot.keyboards import operator_only
from bot.settings import Settings
from core.clock import SystemClock
from core.models import Application, ApplicationStatus, DeliveryMethod
from core.ports import Clock, PickupOffices, RegisterLookup, UnitOfWorkFactory
from core.restoration import RestorationService
from core.support import Conversation, ConversationStatus, RelayDirection, RelayedMessage
from core.workflow import operator_actor

log = logging.getLogger(__name__)
T = TypeVar("T")
ADMINS_TTL_SECONDS = 60.0
TOPIC_NAME_LIMIT = 128


def thread_gone(error: TelegramBadRequest) -> bool:
    # Telegram answers this when people deleted the topic the bot writes into.
    return "thread not found" in error.message.lower()


class OperatorDesk:
    def __init__(
        self,
        *,
        bot: Bot,
        delivery: Delivery,
        uow_factory: UnitOfWorkFactory,
        restoration: RestorationService,
        register: RegisterLookup,
        offices: PickupOffices,
        fsm_storage: BaseStorage,
        texts: Texts,
        settings: Settings,
        recent: RecentChats,
        clock: Clock | None = None,
    ) -> None:
        self.bot = bot
        self.delivery = delivery
        self.uow_factory = uow_factory
        self.restoration = restoration
        self.register = register
        self.offices = offices
        self.fsm_storage = fsm_storage
        self.texts = texts
        self.settings = settings
        self.recent = recent
        self.clock = clock or SystemClock()
        self.chat_id = settings.support_chat_id
        self.locale = settings.default_locale
        self._admins: tuple[float, frozenset[int]] = (0.0, frozenset())

    @property
    def enabled(self) -> bool:
        return self.chat_id is not None

    def t(self, key: str, **params: Any) -> str:
        """Desk texts are in the support team's language (DEFAULT_LOCALE)."""
        return self.texts.t(key, locale=self.locale, **params)

    # --- access -------------------------------------------------------------------------

    async def is_operator(self, user_id: int) -> bool:
        """OPERATOR_IDS, or an administrator of the support chat (cached for a minute)."""
        if user_id in self.settings.operator_ids:
            return True
        fetched_at, admins = self._admins
        if time.monotonic() - fetched_at > ADMINS_TTL_SECONDS:
            assert self.chat_id is not None
            members = await self.bot.get_chat_administrators(self.chat_id)
            admins = frozenset(m.user.id for m in members if not m.user.is_bot)
            self._admins = (time.monotonic(), admins)
        return user_id in admins

    # --- conversations ------------------------------------------------------------------

    async def conversation(self, user_id: int) -> Conversation | None:
        async with self.uow_factory() as uow:
            return await uow.conversations.get(user_id)

    async def conversation_in(self, thread_id: int) -> Conversation | None:
        async with self.uow_factory() as uow:
            return await uow.conversations.by_thread(thread_id)

    async def _save(self, conversation: Conversation) -> None:
        async with self.uow_factory() as uow:
            await uow.conversations.save(conversation)
            await uow.commit()

    async def open(self, user_id: int, name: str, *, reason_key: str) -> Conversation:
        """Make sure the citizen has a topic with a card, and tell the operators why they are
        needed. Safe to call again: an existing topic is reused."""
        conversation = await self.conversation(user_id) or Conversation(
            user_id=user_id,
            status=ConversationStatus.WAITING,
            opened_at=self.clock.now(),
            citizen_name=name,
        )
        if conversation.status is ConversationStatus.RELEASED:
            conversation.status, conversation.operator_id = ConversationStatus.WAITING, None
        conversation.citizen_name = name or conversation.citizen_name
        if conversation.thread_id is None:
            await self._create_topic(conversation)
        else:
            await self.refresh_card(conversation)
        await self._save(conversation)
        await self.note(conversation, self.t(reason_key))
        return conversation

    async def alert(self, user_id: int, name: str, *, reason_key: str) -> None:
        """Open the citizen's topic without pausing the dialog (e.g. after 3 failed checks).
        The citizen's own flow must not fail because the desk is unreachable."""
        if not self.enabled:
            return
        try:
            await self.open(user_id, name, reason_key=reason_key)
        except (DeliveryFailed, RecipientUnreachable, TelegramBadRequest) as error:
            log.error("support topic not opened: %s", type(error).__name__)

    async def _create_topic(self, conversation: Conversation, *, attempts: int = 2) -> None:
        assert self.chat_id is not None
        for attempt in range(1, attempts + 1):
            topic = await self.delivery.send(
                CreateForumTopic(chat_id=self.chat_id, name=await self.topic_name(conversation)),
                chat_id=self.chat_id,
            )
            conversation.thread_id = topic.message_thread_id
            try:
                posted = await self.delivery.send(
                    SendMessage(
                        chat_id=self.chat_id,
                        message_thread_id=topic.message_thread_id,
                        text=await self.card_text(conversation),
                        reply_markup=await self.card_markup(conversation),
                    ),
                    chat_id=self.chat_id,
                )
            except TelegramBadRequest as error:
                # Someone deleted the topic right after it was made: make another.
                if not thread_gone(error) or attempt == attempts:
                    raise
                continue
            conversation.card_message_id = posted.message_id
            await self._save(conversation)
            return

    async def to_topic(
        self, conversation: Conversation, method: Callable[[int], TelegramMethod[T]]
    ) -> T:
        """Send into the citizen's topic; a topic someone deleted is recreated, card first."""
        assert self.chat_id is not None
        if conversation.thread_id is None:
            await self._create_topic(conversation)
        assert conversation.thread_id is not None
        try:
            return await self.delivery.send(method(conversation.thread_id), chat_id=self.chat_id)
        except TelegramBadRequest as error:
            if not thread_gone(error):
                raise
        log.info("support topic was deleted; recreating it")
        await self._create_topic(conversation)
        assert conversation.thread_id is not None
        return await self.delivery.send(method(conversation.thread_id), chat_id=self.chat_id)

    async def note(
        self, conversation: Conversation, text: str, *, markup: InlineKeyboardMarkup | None = None
    ) -> Message:
        """A line from the bot in the topic (operators read it; the citizen does not)."""
        assert self.chat_id is not None
        chat_id = self.chat_id
        return await self.to_topic(
            conversation,
            lambda thread: SendMessage(
                chat_id=chat_id, message_thread_id=thread, text=text, reply_markup=markup
            ),
        )

    # --- relays -------------------------------------------------------------------------

    async def relay(
        self, message: Message, conversation: Conversation, direction: RelayDirection
    ) -> bool:
        """Copy a message to the other side, as a reply where the original was one, and
        remember both ids. The one relay for both directions."""
        assert self.chat_id is not None
        user_id = conversation.user_id
        reply = await self._mapped_reply(message, user_id, direction)
        reply_parameters = (
            ReplyParameters(message_id=reply, allow_sending_without_reply=True) if reply else None
        )
        try:
            if direction is RelayDirection.TO_OPERATORS:
                chat_id = self.chat_id
                copied = await self.to_topic(
                    conversation,
                    lambda thread: CopyMessage(
                        chat_id=chat_id,
                        message_thread_id=thread,
                        from_chat_id=message.chat.id,
                        message_id=message.message_id,
                        reply_parameters=reply_parameters,
                    ),
                )
                link = RelayedMessage(user_id, message.message_id, copied.message_id, direction)
            else:
                copied = await self.delivery.send(
                    CopyMessage(
                        chat_id=user_id,
                        from_chat_id=message.chat.id,
                        message_id=message.message_id,
                        reply_parameters=reply_parameters,
                    ),
                    chat_id=user_id,
                )
                link = RelayedMessage(user_id, copied.message_id, message.message_id, direction)
        except RecipientUnreachable:
            await self.citizen_unreachable(conversation)
            return False
        except (DeliveryFailed, TelegramBadRequest) as error:
            log.warning("relay %s failed: %s", direction.value, type(error).__name__)
            await self._report_failed_relay(conversation, direction)
            return False
        async with self.uow_factory() as uow:
            await uow.conversations.link(link)
            await uow.commit()
        return True

    async def _mapped_reply(
        self, message: Message, user_id: int, direction: RelayDirection
    ) -> int | None:
        original = message.reply_to_message
        if original is None:
            return None
        async with self.uow_factory() as uow:
            if direction is RelayDirection.TO_OPERATORS:
                found = await uow.conversations.by_citizen_message(user_id, original.message_id)
                return found.topic_message_id if found else None
            found = await uow.conversations.by_topic_message(original.message_id)
        # In a forum every topic message replies to the topic's first message: not a real reply.
        return found.citizen_message_id if found and found.user_id == user_id else None

    async def _report_failed_relay(
        self, conversation: Conversation, direction: RelayDirection
    ) -> None:
        try:
            if direction is RelayDirection.TO_CITIZEN:
                await self.note(conversation, self.t("desk.relay_failed"))
            else:
                locale = await self.citizen_locale(conversation.user_id)
                await self.delivery.send(
                    SendMessage(
                        chat_id=conversation.user_id,
                        text=self.texts.t("support.relay_failed", locale=locale),
                    ),
                    chat_id=conversation.user_id,
                )
        except (DeliveryFailed, RecipientUnreachable, TelegramBadRequest):
            log.error("could not report a failed relay (%s)", direction.value)

    async def mirror_edit(
        self, message: Message, conversation: Conversation, direction: RelayDirection
    ) -> None:
        """An edited message is edited on the other side too."""
        assert self.chat_id is not None
        async with self.uow_factory() as uow:
            if direction is RelayDirection.TO_OPERATORS:
                link = await uow.conversations.by_citizen_message(
                    conversation.user_id, message.message_id
                )
                target_chat, target_id = self.chat_id, link.topic_message_id if link else None
            else:
                link = await uow.conversations.by_topic_message(message.message_id)
                target_chat, target_id = (
                    conversation.user_id,
                    link.citizen_message_id if link else None,
                )
        if target_id is None:
            return
        method: TelegramMethod[Any]
        if message.text is not None:
            method = EditMessageText(
                chat_id=target_chat, message_id=target_id, text=message.html_text
            )
        elif message.caption is not None:
            method = EditMessageCaption(
                chat_id=target_chat, message_id=target_id, caption=message.html_text
            )
        else:
            return
        try:
            await self.delivery.send(method, chat_id=target_chat)
        except RecipientUnreachable:
            await self.citizen_unreachable(conversation)
        except (DeliveryFailed, TelegramBadRequest) as error:
            log.warning("edit mirror failed: %s", type(error).__name__)

    async def tell_citizen(
        self, conversation: Conversation, key: str, **params: Any
    ) -> Message | None:
        """A text from the locale files, sent to the citizen in their language; None (and the
        topic is told) if it did not arrive."""
        locale = await self.citizen_locale(conversation.user_id)
        text = self.texts.t(key, locale=locale, **params)
        try:
            return await self.delivery.send(
                SendMessage(chat_id=conversation.user_id, text=text), chat_id=conversation.user_id
            )
        except RecipientUnreachable:
            await self.citizen_unreachable(conversation)
        except DeliveryFailed:
            await self.note(conversation, self.t("desk.relay_failed"))
        return None

    async def citizen_unreachable(self, conversation: Conversation) -> None:
        citizen = await self.restoration.get_citizen(conversation.user_id)
        if citizen is not None and not citizen.blocked_bot:
            citizen.blocked_bot = True
            await self.restoration.save_citizen(citizen)
        await self.note(conversation, self.t("desk.citizen_blocked"))

    # --- takeover -----------------------------------------------------------------------

    def citizen_state(self, user_id: int) -> FSMContext:
        # The key aiogram builds for a private chat: chat id == user id, no thread.
        key = StorageKey(bot_id=self.bot.id, chat_id=user_id, user_id=user_id)
        return FSMContext(storage=self.fsm_storage, key=key)

    async def citizen_locale(self, user_id: int) -> str:
        answers = answers_from(await self.citizen_state(user_id).get_data())
        if answers.locale:
            return answers.locale
        citizen = await self.restoration.get_citizen(user_id)
        return citizen.locale if citizen else self.locale

    async def pause_dialog(self, state: FSMContext, answers: Answers) -> None:
        """From now on the citizen's messages go to the operators; the step is remembered."""
        current = await state.get_state()
        if current != SupportChat.with_operator.state:
            answers.resume_state = current
        await state.set_state(SupportChat.with_operator)
        await save_answers(state, answers)

    async def take(self, conversation: Conversation, operator_id: int, operator_name: str) -> bool:
        """An operator joins; the citizen is told once. False if they had it already."""
        if (
            conversation.status is ConversationStatus.WITH_OPERATOR
            and conversation.operator_id == operator_id
        ):
            return False
        conversation.status, conversation.operator_id = (
            ConversationStatus.WITH_OPERATOR,
            operator_id,
        )
        await self._save(conversation)
        state = self.citizen_state(conversation.user_id)
        await self.pause_dialog(state, answers_from(await state.get_data()))
        await self.tell_citizen(conversation, "support.operator_joined", name=escape(operator_name))
        await self.note(conversation, self.t("desk.taken", name=escape(operator_name)))
        await self.refresh_card(conversation)
        return True

    async def release(self, conversation: Conversation, *, by_citizen: bool = False) -> None:
        """Back to the bot, at the step the citizen left."""
        conversation.status, conversation.operator_id = ConversationStatus.RELEASED, None
        await self._save(conversation)
        state = self.citizen_state(conversation.user_id)
        if await state.get_state() == SupportChat.with_operator.state:
            locale = await self.citizen_locale(conversation.user_id)
            chat = CitizenChat(self.bot, conversation.user_id)
            with self.texts.use_locale(locale):
                if not by_citizen:
                    await self.tell_citizen(conversation, "support.back_to_bot")
                await resume(
                    chat,
                    state,
                    answers_from(await state.get_data()),
                    register=self.register,
                    office_lookup=self.offices,
                )
        await self.note(
            conversation, self.t("desk.released_by_citizen" if by_citizen else "desk.released")
        )
        await self.refresh_card(conversation)

    async def citizen_left(self, user_id: int) -> None:
        """The citizen cancelled or restarted while talking to operators: close it quietly."""
        conversation = await self.conversation(user_id) if self.enabled else None
        if conversation is None or not conversation.is_open:
            return
        conversation.status, conversation.operator_id = ConversationStatus.RELEASED, None
        await self._save(conversation)
        await self.note(conversation, self.t("desk.released_by_citizen"))
        await self.refresh_card(conversation)

    async def request_new_scan(self, conversation: Conversation, application_id: int) -> None:
        """Reopen the passport photo step for the citizen; the new scan replaces the old one."""
        state = self.citizen_state(conversation.user_id)
        answers = answers_from(await state.get_data())
        answers.rescan_application_id = application_id
        answers.resume_state = None
        locale = await self.citizen_locale(conversation.user_id)
        with self.texts.use_locale(locale):
            await ask(
                CitizenChat(self.bot, conversation.user_id),
                state,
                answers,
                Restoration.passport_scan,
                text=self.texts.t("support.new_scan_requested"),
                markup=operator_only(),
            )
        conversation.status = ConversationStatus.RELEASED
        await self._save(conversation)
        await self.note(conversation, self.t("desk.scan_requested"))

    # --- applications -------------------------------------------------------------------

    async def current_application(self, user_id: int) -> Application | None:
        views = await self.restoration.applications_of(user_id)
        return views[0].application if views else None

    async def approve(self, application: Application, operator_id: int) -> Application:
        actor = operator_actor(operator_id)
        if application.status is ApplicationStatus.SUBMITTED:
            application = await self.restoration.change_status(
                application.id, ApplicationStatus.PROCESSING, actor=actor
            )
        return await self.restoration.change_status(
            application.id,
            ApplicationStatus.APPROVED,
            actor=actor,
            # Hand it back to background processing for printing or the PDF.
            next_action_at=self.restoration.scheduled_after(
                ApplicationStatus.APPROVED, application.delivery
            ),
        )

    async def reject(self, application: Application, operator_id: int, reason: str) -> Application:
        return await self.restoration.change_status(
            application.id,
            ApplicationStatus.REJECTED,
            actor=operator_actor(operator_id),
            reason=reason,
        )

    async def mark_handed_over(self, application: Application, operator_id: int) -> Application:
        target = (
            ApplicationStatus.READY_FOR_PICKUP
            if application.delivery is DeliveryMethod.PICKUP
            else ApplicationStatus.SENT_BY_POST
        )
        return await self.restoration.change_status(
            application.id, target, actor=operator_actor(operator_id)
        )

    async def on_status_changed(self, application: Application) -> None:
        """The topic title follows the application's status."""
        if not self.enabled:
            return
        conversation = await self.conversation(application.user_id)
        if conversation is None or conversation.thread_id is None:
            return
        assert self.chat_id is not None
        try:
            await self.delivery.send(
                EditForumTopic(
                    chat_id=self.chat_id,
                    message_thread_id=conversation.thread_id,
                    name=await self.topic_name(conversation, application),
                ),
                chat_id=self.chat_id,
            )
            await self.refresh_card(conversation)
        except (TelegramBadRequest, DeliveryFailed) as error:
            log.info("topic title not updated: %s", type(error).__name__)

    # --- the card -----------------------------------------------------------------------

    async def topic_name(
        self, conversation: Conversation, application: Application | None = None
    ) -> str:
        application = application or await self.current_application(conversation.user_id)
        name = conversation.citizen_name or self.t("desk.citizen")
        if application is None:
            title = f"{name} · {self.t('desk.no_application')}"
        else:
            status = self.t(f"status.name.{application.status.value}")
            title = f"{name} · {application.number} · {status}"
        return title[:TOPIC_NAME_LIMIT]

    async def card_text(self, conversation: Conversation) -> str:
        state = self.citizen_state(conversation.user_id)
        answers = answers_from(await state.get_data())
        citizen = await self.restoration.get_citizen(conversation.user_id)
        enp = answers.enp or (citizen.enp if citizen else None)
        person = self.register.by_enp(enp) if enp else None
        views = await self.restoration.applications_of(conversation.user_id)
        current = await state.get_state()
        if current == SupportChat.with_operator.state:
            current = answers.resume_state
        return card.render(
            self.t,
            conversation=conversation,
            person=person,
            phone=citizen.phone if citizen else None,
            blocked=bool(citizen and citizen.blocked_bot),
            step_state=current,
            applications=[v.application for v in views],
            recent=self.recent.recent(conversation.user_id),
        )

    async def card_markup(self, conversation: Conversation) -> InlineKeyboardMarkup:
        application = await self.current_application(conversation.user_id)
        return card.keyboard(self.t, conversation, application)

    async def refresh_card(self, conversation: Conversation) -> None:
        if conversation.card_message_id is None or self.chat_id is None:
            return
        try:
            await self.delivery.send(
                EditMessageText(
                    chat_id=self.chat_id,
                    message_id=conversation.card_message_id,
                    text=await self.card_text(conversation),
                    reply_markup=await self.card_markup(conversation),
                ),
                chat_id=self.chat_id,
            )
        except TelegramBadRequest as error:
            if "not modified" not in error.message:
                log.info("card not refreshed: %s", error.message)
        except DeliveryFailed:
            log.warning("card not refreshed: delivery failed")
