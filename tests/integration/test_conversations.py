"""Support conversations and the relay map: one contract for the in-memory fake and each engine."""

from __future__ import annotations

from datetime import UTC, datetime

from core.ports import UnitOfWorkFactory
from core.support import Conversation, ConversationStatus, RelayDirection, RelayedMessage

OPENED = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)


async def test_conversation_round_trip_and_lookup_by_topic(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        await uow.conversations.save(Conversation(7, ConversationStatus.WAITING, OPENED))
        await uow.commit()
    async with uow_factory() as uow:
        conversation = await uow.conversations.get(7)
        assert conversation is not None and conversation.thread_id is None
        conversation.thread_id, conversation.card_message_id = 55, 56
        conversation.status, conversation.operator_id = ConversationStatus.WITH_OPERATOR, 900
        conversation.citizen_name = "Ivan"
        await uow.conversations.save(conversation)
        await uow.commit()
    async with uow_factory() as uow:
        found = await uow.conversations.by_thread(55)
        assert found == Conversation(
            7, ConversationStatus.WITH_OPERATOR, OPENED, 55, 56, 900, "Ivan"
        )
        assert await uow.conversations.by_thread(99) is None
        assert await uow.conversations.get(8) is None


async def test_uncommitted_conversation_is_rolled_back(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        await uow.conversations.save(Conversation(7, ConversationStatus.WAITING, OPENED))
    async with uow_factory() as uow:
        assert await uow.conversations.get(7) is None


async def test_relayed_messages_map_both_ways(uow_factory: UnitOfWorkFactory) -> None:
    inbound = RelayedMessage(7, 10, 500, RelayDirection.TO_OPERATORS)
    outbound = RelayedMessage(7, 11, 501, RelayDirection.TO_CITIZEN)
    async with uow_factory() as uow:
        await uow.conversations.link(inbound)
        await uow.conversations.link(outbound)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.conversations.by_citizen_message(7, 10) == inbound
        assert await uow.conversations.by_topic_message(501) == outbound
        assert await uow.conversations.by_citizen_message(8, 10) is None
        assert await uow.conversations.by_topic_message(999) is None
