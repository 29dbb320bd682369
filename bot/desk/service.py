"""The operator desk's Telegram side: one forum topic per citizen in the support chat, a card
with the context, relays in both directions, and the senders of the desk's outbox kinds.

What operators' actions mean (take, release, approve...) is decided in core (core/desk.py,
core/restoration.py); here is only how it looks in Telegram. Everything sent here goes through
`Delivery` (rate limits, 429 retries); a relay that finally fails is reported in the topic or to
the citizen, never dropped silently.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Callable
from html import escape
from typing import Any, TypeVar

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from aiogram.methods import (
    CopyMessage,
    CreateForumTopic,
    DeleteForumTopic,
    DeleteMessage,
    EditForumTopic,
    EditMessageCaption,
    EditMessageText,
    SendMessage,
    TelegramMethod,
)
from aiogram.types import InlineKeyboardMarkup, Message, ReplyParameters

from bot.delivery import Delivery
from bot.desk import card
from bot.desk.history import RecentChats
from bot.dialogs.answers import answers_from
from bot.dialogs.control import CitizenDialogs
from bot.dialogs.restoration import SupportChat
from bot.i18n import Texts
from bot.locks import DialogLocks
from bot.settings import Settings
from bot.workers import PeriodicTask
from core.desk import SupportDesk
from core.errors import (
    ApplicationNotFound,
    DeliveryFailed,
    DeliveryUncertain,
    RecipientUnreachable,
)
from core.models import Application, Notification
from core.ports import RegisterLookup, UnitOfWorkFactory
from core.restoration import RestorationService
from core.support import Conversation, RelayDirection, RelayedMessage

log = logging.getLogger(__name__)
T = TypeVar("T")
ADMINS_TTL_SECONDS = 60.0
TOPIC_NAME_LIMIT = 128
GENERAL_TOPIC_ID = 1
# How far below a topic made again the one whose answer was lost is looked for.
LOST_TOPIC_WINDOW = 5
TEXT_LIMIT, CAPTION_LIMIT = 4096, 1024  # Telegram's, counted here on the HTML (a safe bound)
# What a relay can carry in a caption (the name line goes there); the rest get a line of its own.
CAPTIONED = frozenset({"photo", "video", "document", "audio", "animation", "voice"})

# Who can read the support chat is checked this often, and at once when its members change.
READERS_CHECK_SECONDS = 600.0
# The same warning is repeated at most this often; only a growing count is told at once.
READERS_WARNING_REPEAT_SECONDS = 6 * 3600.0
PRESENT = frozenset({"creator", "administrator", "member", "restricted"})


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
        support: SupportDesk,
        dialogs: CitizenDialogs,
        register: RegisterLookup,
        texts: Texts,
        settings: Settings,
        recent: RecentChats,
    ) -> None:
        self.bot = bot
        self.delivery = delivery
        self.uow_factory = uow_factory
        self.restoration = restoration
        self.support = support
        self.dialogs = dialogs
        self.register = register
        self.texts = texts
        self.settings = settings
        self.recent = recent
        self.chat_id = settings.support_chat_id
        self.locale = settings.default_locale
        self._admins: tuple[float, frozenset[int]] = (0.0, frozenset())
        # One topic per citizen: the note sender and a relay must not both create one.
        self._topic_locks = DialogLocks()
        self._creating = asyncio.Lock()
        self.readers_check = PeriodicTask(
            "support-readers", self.check_readers, interval=READERS_CHECK_SECONDS
        )
        self._readers_warned: tuple[float, int] = (-READERS_WARNING_REPEAT_SECONDS, 0)

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

    async def check_readers(self) -> int:
        """How many members of the support chat are not operators (neither administrators nor
        in OPERATOR_IDS; bots other than administrators count too): they could read citizens'
        personal data. Said in the chat when there are any, rate-limited."""
        assert self.chat_id is not None
        try:
            admins = await self.bot.get_chat_administrators(self.chat_id)
            members = await self.bot.get_chat_member_count(self.chat_id)
            operators = {m.user.id for m in admins if not m.user.is_bot}
            bots = {m.user.id for m in admins if m.user.is_bot} | {self.bot.id}
            for user_id in set(self.settings.operator_ids) - operators:
                if await self._is_member(user_id):
                    operators.add(user_id)
        except TelegramAPIError as error:
            log.warning("could not check who reads the support chat: %s", type(error).__name__)
            return 0
        outsiders = max(0, members - len(operators) - len(bots))
        if self._readers_warning_due(outsiders):
            await self.delivery.send(
                SendMessage(
                    chat_id=self.chat_id, text=self.t("retention.readers_warning", count=outsiders)
                ),
                chat_id=self.chat_id,
            )
        return outsiders

    async def _is_member(self, user_id: int) -> bool:
        assert self.chat_id is not None
        try:
            member = await self.bot.get_chat_member(self.chat_id, user_id)
        except TelegramBadRequest:
            return False  # never met: "user not found"
        return member.status in PRESENT

    def _readers_warning_due(self, outsiders: int) -> bool:
        """A warning when outsiders are more than last told, else again after a while."""
        warned_at, warned_count = self._readers_warned
        if not outsiders or outsiders < warned_count:
            self._readers_warned = (warned_at, outsiders)  # fewer: a new one is told again
            return False
        repeat = time.monotonic() - warned_at >= READERS_WARNING_REPEAT_SECONDS
        if outsiders > warned_count or repeat:
            self._readers_warned = (time.monotonic(), outsiders)
            return True
        return False

    async def tell_outsider(self, conversation: Conversation) -> None:
        """Someone who is not an operator wrote in the topic: said once per topic."""
        async with self.uow_factory() as uow:
            # Read again in the writing transaction: an operator may have acted meanwhile.
            current = await uow.conversations.get(conversation.user_id)
            if current is None or current.outsider_told:
                return
            current.outsider_told = True
            await uow.conversations.save(current)
            await uow.commit()
        await self.note(current, self.t("desk.not_operator"))

    # --- conversations ------------------------------------------------------------------

    async def conversation(self, user_id: int) -> Conversation | None:
        return await self.support.conversation(user_id)

    async def conversation_in(self, thread_id: int) -> Conversation | None:
        return await self.support.conversation_in(thread_id)

    async def _save(self, conversation: Conversation) -> None:
        async with self.uow_factory() as uow:
            await uow.conversations.save(conversation)
            await uow.commit()

    async def ensure_topic(self, user_id: int, *, gone: int | None = None) -> Conversation | None:
        """The citizen's conversation with its topic made (card first); `gone` is a thread
        people deleted, made anew. None when the citizen has no conversation."""
        async with self._topic_locks.hold((0, user_id)):
            conversation = await self.conversation(user_id)
            if conversation is not None and conversation.thread_id in (None, gone):
                await self._create_topic(conversation)
            return conversation

    async def _create_topic(self, conversation: Conversation, *, attempts: int = 2) -> None:
        assert self.chat_id is not None
        chat_id = self.chat_id
        # One topic made at a time, so a topic found after a lost answer is this one's.
        async with self._creating:
            for attempt in range(1, attempts + 1):
                name = await self.topic_name(conversation)
                card = functools.partial(
                    self._card,
                    text=await self.card_text(conversation),
                    markup=await self.card_markup(conversation),
                )
                thread, answer_lost = await self._new_topic(name)
                try:
                    if answer_lost:
                        thread, posted = await self._keep_one_topic(name, card, made_again=thread)
                    else:
                        posted = await self.delivery.send(card(thread), chat_id=chat_id)
                except TelegramBadRequest as error:
                    # Someone deleted the topic right after it was made: make another.
                    if not thread_gone(error) or attempt == attempts:
                        raise
                    continue
                conversation.thread_id = thread
                conversation.card_message_id = posted.message_id
                await self._save(conversation)
                return

    def _card(self, thread: int, *, text: str, markup: InlineKeyboardMarkup) -> SendMessage:
        assert self.chat_id is not None
        return SendMessage(
            chat_id=self.chat_id, message_thread_id=thread, text=text, reply_markup=markup
        )

    async def _new_topic(self, name: str, *, attempts: int = 3) -> tuple[int, bool]:
        """A new topic's thread id, and whether an earlier try may have made one as well.

        createForumTopic is not resent blindly after a lost answer: Telegram may have made the
        topic, takes no idempotency key, and lets bots neither list topics nor read a chat's
        history, so a resend made a second topic. See _keep_one_topic."""
        assert self.chat_id is not None
        answer_lost = False
        for _ in range(attempts):
            try:
                topic = await self.delivery.send(
                    CreateForumTopic(chat_id=self.chat_id, name=name),
                    chat_id=self.chat_id,
                    resend_after_lost_answer=False,
                )
            except DeliveryUncertain:
                log.warning("createForumTopic: the answer was lost; the topic may exist")
                answer_lost = True
                continue
            return topic.message_thread_id, answer_lost
        raise DeliveryFailed(f"createForumTopic: {attempts} answers lost")

    async def _keep_one_topic(
        self, name: str, card: Callable[[int], SendMessage], *, made_again: int
    ) -> tuple[int, Message]:
        """After a lost answer, the topic made again (`made_again`) and maybe the lost one.

        Telegram numbers a supergroup's messages one after another and a topic's id is the id
        of its first, service, message; topics are made one at a time here. So a lost topic
        sits a few ids below the one made again. Each unclaimed id there is tried by posting
        the card into it: Telegram refuses an id that is no topic ("message thread not found")
        and shows a message in a topic as a reply to the topic's creation, with its name and
        creator. The lost topic found keeps the card and the one made again is deleted;
        otherwise the one made again gets the card (the lost call never arrived)."""
        assert self.chat_id is not None
        chat_id = self.chat_id
        lowest = max(GENERAL_TOPIC_ID + 1, made_again - LOST_TOPIC_WINDOW)
        for thread in range(made_again - 1, lowest - 1, -1):
            if await self.conversation_in(thread) is not None:
                continue
            try:
                posted = await self.delivery.send(card(thread), chat_id=chat_id)
            except TelegramBadRequest:
                continue  # not a topic: a message, or a topic since deleted
            created = posted.reply_to_message
            if (
                created is not None
                and created.forum_topic_created is not None
                and created.forum_topic_created.name == name
                and created.from_user is not None
                and created.from_user.id == self.bot.id
            ):
                log.info("the topic whose answer was lost is kept; the one made again deleted")
                await self._quietly(DeleteForumTopic(chat_id=chat_id, message_thread_id=made_again))
                return thread, posted
            # Someone else's topic: take the card back out of it.
            await self._quietly(DeleteMessage(chat_id=chat_id, message_id=posted.message_id))
        return made_again, await self.delivery.send(card(made_again), chat_id=chat_id)

    async def _quietly(self, method: TelegramMethod[Any]) -> None:
        """A clean-up call whose failure leaves only clutter, logged."""
        assert self.chat_id is not None
        try:
            await self.delivery.send(method, chat_id=self.chat_id)
        except (DeliveryFailed, RecipientUnreachable, TelegramBadRequest) as error:
            log.warning("%s failed: %s", type(method).__name__, type(error).__name__)

    async def to_topic(
        self, conversation: Conversation, method: Callable[[int], TelegramMethod[T]]
    ) -> T:
        """Send into the citizen's topic; a topic someone deleted is recreated, card first."""
        assert self.chat_id is not None
        if conversation.thread_id is None:
            conversation = await self.ensure_topic(conversation.user_id) or conversation
        assert conversation.thread_id is not None
        try:
            return await self.delivery.send(method(conversation.thread_id), chat_id=self.chat_id)
        except TelegramBadRequest as error:
            if not thread_gone(error):
                raise
        log.info("support topic was deleted; recreating it")
        conversation = (
            await self.ensure_topic(conversation.user_id, gone=conversation.thread_id)
            or conversation
        )
        assert conversation.thread_id is not None
        return await self.delivery.send(method(conversation.thread_id), chat_id=self.chat_id)

    async def note(
        self, conversation: Conversation, text: str, *, markup: InlineKeyboardMarkup | None = None
    ) -> Message:
        """A line from the bot in the topic (operators read it; the citizen does not), styled
        apart from the citizen's own words, which arrive under their name."""
        assert self.chat_id is not None
        chat_id, styled = self.chat_id, self.t("desk.note", text=text)
        return await self.to_topic(
            conversation,
            lambda thread: SendMessage(
                chat_id=chat_id, message_thread_id=thread, text=styled, reply_markup=markup
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
                copied = await self._to_operators(message, conversation, reply_parameters)
                link = RelayedMessage(user_id, message.message_id, copied, direction)
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

    async def _to_operators(
        self,
        message: Message,
        conversation: Conversation,
        reply_parameters: ReplyParameters | None,
    ) -> int:
        """The citizen's message in their topic under their name, told apart from the bot's
        notes at a glance: text with a name line, media with it in the caption, anything else
        (a sticker, a location...) after a name line of its own. Returns the copy's id."""
        assert self.chat_id is not None
        chat_id, name = self.chat_id, self.relay_name(conversation)
        caption: str | None = None
        if message.text is not None:
            text = self.t("desk.relay.text", name=name, text=message.html_text)
            if len(text) <= TEXT_LIMIT:  # else: a name line, then the copy
                sent = await self.to_topic(
                    conversation,
                    lambda thread: SendMessage(
                        chat_id=chat_id,
                        message_thread_id=thread,
                        text=text,
                        reply_parameters=reply_parameters,
                    ),
                )
                return sent.message_id
        elif message.content_type in CAPTIONED:
            caption = self.t("desk.relay.caption", name=name, caption=message.html_text or "")
            caption = caption if len(caption) <= CAPTION_LIMIT else None
        if caption is None:
            header = self.t("desk.relay.header", name=name)
            await self.to_topic(
                conversation,
                lambda thread: SendMessage(chat_id=chat_id, message_thread_id=thread, text=header),
            )
        copied = await self.to_topic(
            conversation,
            lambda thread: CopyMessage(
                chat_id=chat_id,
                message_thread_id=thread,
                from_chat_id=message.chat.id,
                message_id=message.message_id,
                caption=caption,
                reply_parameters=reply_parameters,
            ),
        )
        return copied.message_id

    def relay_name(self, conversation: Conversation) -> str:
        return escape(conversation.citizen_name or self.t("desk.citizen"))

    async def _mapped_reply(
        self, message: Message, user_id: int, direction: RelayDirection
    ) -> int | None:
        original = message.reply_to_message
        if original is None:
            return None
        async with self.uow_factory(read_only=True) as uow:
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
                locale = await self.dialogs.locale_of(conversation.user_id)
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
    ) -> bool:
        """An edited message is edited on the other side too; False when it was never
        relayed (or has nothing to edit), so there is no other side."""
        assert self.chat_id is not None
        async with self.uow_factory(read_only=True) as uow:
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
            return False
        method: TelegramMethod[Any]
        text = message.html_text
        if direction is RelayDirection.TO_OPERATORS:  # keep the name line of the relay
            name = self.relay_name(conversation)
            if message.text is not None:
                text = self.t("desk.relay.text", name=name, text=text)
            else:
                text = self.t("desk.relay.caption", name=name, caption=text)
        if message.text is not None:
            method = EditMessageText(chat_id=target_chat, message_id=target_id, text=text)
        elif message.caption is not None:
            method = EditMessageCaption(chat_id=target_chat, message_id=target_id, caption=text)
        else:
            return False
        try:
            await self.delivery.send(method, chat_id=target_chat)
        except RecipientUnreachable:
            await self.citizen_unreachable(conversation)
        except (DeliveryFailed, TelegramBadRequest) as error:
            log.warning("edit mirror failed: %s", type(error).__name__)
        return True

    async def tell_citizen(
        self, conversation: Conversation, key: str, **params: Any
    ) -> Message | None:
        """A text from the locale files, sent to the citizen in their language; None (and the
        topic is told) if it did not arrive."""
        locale = await self.dialogs.locale_of(conversation.user_id)
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

    # --- the desk's outbox kinds -----------------------------------------------------------

    async def send_note(self, notification: Notification) -> int | None:
        """A DESK_NOTE row: a line in the citizen's topic, which is made when missing."""
        if not self.enabled:
            return None
        conversation = await self.ensure_topic(notification.chat_id)
        if conversation is None:
            return None  # erased on the citizen's request
        key = str(notification.payload.get("note") or "desk.reason.asked")
        note = await self.note(conversation, self.t(key, name=escape(conversation.operator_name)))
        return note.message_id

    async def send_card(self, notification: Notification) -> int | None:
        """A DESK_CARD row: the topic's title and card follow the citizen's state."""
        if not self.enabled:
            return None
        conversation = await self.conversation(notification.chat_id)
        if conversation is None or conversation.thread_id is None:
            return None  # no topic yet: it is made with a fresh card
        assert self.chat_id is not None
        chat_id, name = self.chat_id, await self.topic_name(conversation)
        try:
            await self.to_topic(
                conversation,
                lambda thread: EditForumTopic(chat_id=chat_id, message_thread_id=thread, name=name),
            )
        except TelegramBadRequest as error:
            if "not_modified" not in error.message.lower().replace(" ", "_"):
                raise
        await self.refresh_card(conversation)
        return conversation.card_message_id

    async def send_erased(self, notification: Notification) -> int | None:
        """A DESK_ERASED row: the citizen withdrew consent. Their topic (card and copies of the
        conversation) is deleted and the operators are told in the general topic."""
        if not self.enabled:
            return None
        assert self.chat_id is not None
        payload = notification.payload
        thread_id = payload.get("thread_id")
        if isinstance(thread_id, int):
            await self._delete_topic(thread_id, payload.get("card_message_id"))
        numbers = []
        for application_id in payload.get("withdrawn") or []:
            try:
                numbers.append((await self.restoration.get(int(str(application_id)))).number)
            except ApplicationNotFound:
                continue
        text = self.t("forget.desk_note")
        if numbers:
            text += "\n" + self.t("forget.desk_withdrawn", numbers=", ".join(numbers))
        sent = await self.delivery.send(
            SendMessage(chat_id=self.chat_id, text=text), chat_id=self.chat_id
        )
        return sent.message_id

    async def _delete_topic(self, thread_id: int, card_message_id: object) -> None:
        assert self.chat_id is not None
        try:
            await self.delivery.send(
                DeleteForumTopic(chat_id=self.chat_id, message_thread_id=thread_id),
                chat_id=self.chat_id,
            )
            return
        except TelegramBadRequest as error:
            if thread_gone(error):
                return
            log.warning("could not delete an erased citizen's topic: %s", error.message)
        # Without the right to delete it: the card at least says nothing more about the person.
        if isinstance(card_message_id, int):
            try:
                await self.delivery.send(
                    EditMessageText(
                        chat_id=self.chat_id,
                        message_id=card_message_id,
                        text=self.t("forget.card_erased"),
                    ),
                    chat_id=self.chat_id,
                )
                await self.delivery.send(
                    EditForumTopic(
                        chat_id=self.chat_id,
                        message_thread_id=thread_id,
                        name=self.t("forget.topic_erased")[:TOPIC_NAME_LIMIT],
                    ),
                    chat_id=self.chat_id,
                )
            except TelegramBadRequest as error:
                log.warning("could not clear an erased citizen's card: %s", error.message)

    async def current_application(self, user_id: int) -> Application | None:
        views = await self.restoration.applications_of(user_id)
        return views[0].application if views else None

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
        state = self.dialogs.state_of(conversation.user_id)
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
                raise
