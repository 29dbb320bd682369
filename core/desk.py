"""Use cases of the operator desk: a citizen's conversation with the support team.

What happens in Telegram (topics, cards, relays) is the bot's business; here is what the desk's
actions mean: who has the conversation, where the citizen's dialog stands, and which notes and
card updates the operators get (outbox rows, written in the same transaction as the change).
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from core.errors import ApplicationNotFound, IllegalTransition
from core.models import ApplicationStatus, Notification, NotificationKind
from core.ports import Clock, UnitOfWork, UnitOfWorkFactory
from core.support import Conversation, ConversationStatus


class DialogControl(Protocol):
    """The citizen's dialog as the desk steers it. The bot implements it under the citizen's
    own per-user lock, so a desk action never interleaves with the citizen's update."""

    async def pause(self, user_id: int) -> None:
        """From now on the citizen's messages go to the operators; the step is remembered."""
        ...

    async def resume(self, user_id: int, *, notice: str | None) -> None:
        """Back to the remembered step (after telling the citizen `notice`, a locale key)."""
        ...

    async def reopen_scan(self, user_id: int, application_id: int) -> None:
        """Ask the citizen for a new passport photo for a submitted application."""
        ...


class UnknownConversation(LookupError):
    """The citizen has no conversation with the desk (or erased it)."""


def desk_row(
    user_id: int, kind: NotificationKind, *, now: datetime, **payload: object
) -> Notification:
    return Notification(chat_id=user_id, kind=kind, payload=dict(payload), created_at=now)


async def call_operators(
    uow: UnitOfWork, user_id: int, *, name: str, reason: str, now: datetime
) -> Conversation:
    """Open (or reopen) the citizen's conversation and tell the operators why, in the caller's
    transaction. The topic itself is made by the desk's sender when the row goes out."""
    conversation = await uow.conversations.get(user_id) or Conversation(
        user_id=user_id, status=ConversationStatus.WAITING, opened_at=now, citizen_name=name
    )
    if conversation.status is ConversationStatus.RELEASED:
        conversation.status, conversation.operator_id = ConversationStatus.WAITING, None
        conversation.operator_name = ""
    conversation.citizen_name = name or conversation.citizen_name
    await uow.conversations.save(conversation)
    await uow.outbox.add(desk_row(user_id, NotificationKind.DESK_NOTE, now=now, note=reason))
    return conversation


class SupportDesk:
    def __init__(
        self,
        *,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        dialogs: DialogControl,
        enabled: bool,
    ) -> None:
        self._uow_factory = uow_factory
        self._clock = clock
        self._dialogs = dialogs
        self.enabled = enabled  # a support chat is configured

    # --- queries --------------------------------------------------------------------------

    async def conversation(self, user_id: int) -> Conversation | None:
        async with self._uow_factory(read_only=True) as uow:
            return await uow.conversations.get(user_id)

    async def conversation_in(self, thread_id: int) -> Conversation | None:
        async with self._uow_factory(read_only=True) as uow:
            return await uow.conversations.by_thread(thread_id)

    # --- the citizen's side -----------------------------------------------------------------

    async def alert(self, user_id: int, name: str, *, reason: str) -> None:
        """The operators should look at this citizen (asked for a human, not found...)."""
        if not self.enabled:
            return
        async with self._uow_factory() as uow:
            await call_operators(uow, user_id, name=name, reason=reason, now=self._clock.now())
            await uow.commit()

    async def citizen_returned(self, user_id: int, *, note: str) -> bool:
        """The citizen went back to the form (or cancelled) by themselves; their own handler
        has moved the dialog. False when there was no open conversation."""
        if not self.enabled:
            return False
        async with self._uow_factory() as uow:
            conversation = await uow.conversations.get(user_id)
            if conversation is None or not conversation.is_open:
                return False
            await self._hand_back(uow, conversation, note=note, now=self._clock.now())
            await uow.commit()
        return True

    # --- operators' actions -----------------------------------------------------------------

    async def take(self, user_id: int, operator_id: int, operator_name: str) -> bool:
        """An operator joins; the citizen is told once. False if they had it already."""
        conversation = await self._require(user_id)
        if (
            conversation.status is ConversationStatus.WITH_OPERATOR
            and conversation.operator_id == operator_id
        ):
            return False
        await self._dialogs.pause(user_id)
        async with self._uow_factory() as uow:
            conversation = await uow.conversations.get(user_id) or conversation
            conversation.status = ConversationStatus.WITH_OPERATOR
            conversation.operator_id, conversation.operator_name = operator_id, operator_name
            await uow.conversations.save(conversation)
            now = self._clock.now()
            for kind, payload in (
                (NotificationKind.OPERATOR_JOINED, {}),
                (NotificationKind.DESK_NOTE, {"note": "desk.taken"}),
                (NotificationKind.DESK_CARD, {}),
            ):
                await uow.outbox.add(desk_row(user_id, kind, now=now, **payload))
            await uow.commit()
        return True

    async def release(self, user_id: int) -> None:
        """An operator hands the citizen back to the bot, at the step they left."""
        await self._require(user_id)
        await self._dialogs.resume(user_id, notice="support.back_to_bot")
        async with self._uow_factory() as uow:
            conversation = await uow.conversations.get(user_id)
            if conversation is not None:
                await self._hand_back(
                    uow, conversation, note="desk.released", now=self._clock.now()
                )
                await uow.commit()

    async def request_new_scan(self, user_id: int, application_id: int) -> None:
        """Reopen the passport photo step; the new scan replaces the application's old one."""
        await self._require(user_id)
        async with self._uow_factory() as uow:
            application = await uow.applications.get(application_id)
            if application is None or application.user_id != user_id:
                raise ApplicationNotFound(application_id)
            if application.status.is_final or application.status is ApplicationStatus.APPROVED:
                raise IllegalTransition(application.status, application.status)
        await self._dialogs.reopen_scan(user_id, application_id)
        async with self._uow_factory() as uow:
            conversation = await uow.conversations.get(user_id)
            if conversation is not None:
                await self._hand_back(
                    uow, conversation, note="desk.scan_requested", now=self._clock.now()
                )
                await uow.commit()

    # --- internals ------------------------------------------------------------------------

    async def _require(self, user_id: int) -> Conversation:
        conversation = await self.conversation(user_id)
        if conversation is None:
            raise UnknownConversation(user_id)
        return conversation

    @staticmethod
    async def _hand_back(
        uow: UnitOfWork, conversation: Conversation, *, note: str, now: datetime
    ) -> None:
        conversation.status, conversation.operator_id = ConversationStatus.RELEASED, None
        conversation.operator_name = ""
        await uow.conversations.save(conversation)
        user_id = conversation.user_id
        await uow.outbox.add(desk_row(user_id, NotificationKind.DESK_NOTE, now=now, note=note))
        await uow.outbox.add(desk_row(user_id, NotificationKind.DESK_CARD, now=now))
