"""Support conversations: a citizen talking to a human operator in a forum topic of the support
chat. The domain keeps who talks to whom and which message is the copy of which."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol


class ConversationStatus(StrEnum):
    WAITING = "waiting"  # the citizen asked for a human; no operator has answered yet
    WITH_OPERATOR = "with_operator"  # an operator took the conversation
    RELEASED = "released"  # handed back to the bot; the topic stays for the record


class RelayDirection(StrEnum):
    TO_OPERATORS = "to_operators"
    TO_CITIZEN = "to_citizen"


@dataclass(slots=True)
class Conversation:
    user_id: int
    status: ConversationStatus
    opened_at: datetime
    thread_id: int | None = None  # forum topic in the support chat; None until created
    card_message_id: int | None = None
    operator_id: int | None = None
    citizen_name: str = ""  # the Telegram first name, for the topic title
    operator_name: str = ""  # the first name of the operator who has it, told to the citizen
    outsider_told: bool = False  # someone not an operator wrote in the topic and was told once

    @property
    def is_open(self) -> bool:
        """The citizen's messages go to the operators, not to the dialog."""
        return self.status is not ConversationStatus.RELEASED


@dataclass(frozen=True, slots=True)
class RelayedMessage:
    """A message and its copy on the other side, so replies and edits can be mapped."""

    user_id: int
    citizen_message_id: int
    topic_message_id: int
    direction: RelayDirection


class Conversations(Protocol):
    async def get(self, user_id: int) -> Conversation | None: ...

    async def by_thread(self, thread_id: int) -> Conversation | None: ...

    async def save(self, conversation: Conversation) -> None:
        """Insert or update by user_id."""
        ...

    async def link(self, relayed: RelayedMessage) -> None: ...

    async def by_citizen_message(self, user_id: int, message_id: int) -> RelayedMessage | None: ...

    async def by_topic_message(self, message_id: int) -> RelayedMessage | None: ...

    async def erase(self, user_id: int) -> Conversation | None:
        """Delete the conversation and every relay link of the person; returns what it was."""
        ...
