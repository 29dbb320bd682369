"""core.support.Conversations on either engine (storage/sql.py); runs inside a unit of work."""

from __future__ import annotations

from core.support import Conversation, ConversationStatus, RelayDirection, RelayedMessage
from storage.sql import Row, Session, from_db_time

_CONVERSATION_COLUMNS = (
    "user_id, status, opened_at, thread_id, card_message_id, operator_id, citizen_name,"
    " operator_name, outsider_told"
)


def _conversation(row: Row) -> Conversation:
    return Conversation(
        user_id=row[0],
        status=ConversationStatus(row[1]),
        opened_at=from_db_time(row[2]),
        thread_id=row[3],
        card_message_id=row[4],
        operator_id=row[5],
        citizen_name=row[6],
        operator_name=row[7],
        outsider_told=bool(row[8]),
    )


def _relayed(row: Row) -> RelayedMessage:
    return RelayedMessage(row[0], row[1], row[2], RelayDirection(row[3]))


class SqlConversations:
    def __init__(self, db: Session) -> None:
        self._db = db

    async def _conversation_where(self, where: str, value: int) -> Conversation | None:
        sql = f"SELECT {_CONVERSATION_COLUMNS} FROM conversations WHERE {where} = ?"
        row = await self._db.fetch_one(sql + self._db.lock_rows, (value,))
        return _conversation(row) if row else None

    async def get(self, user_id: int) -> Conversation | None:
        return await self._conversation_where("user_id", user_id)

    async def by_thread(self, thread_id: int) -> Conversation | None:
        return await self._conversation_where("thread_id", thread_id)

    async def save(self, conversation: Conversation) -> None:
        await self._db.execute(
            f"INSERT INTO conversations ({_CONVERSATION_COLUMNS})"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (user_id) DO UPDATE SET status = excluded.status, "
            "thread_id = excluded.thread_id, card_message_id = excluded.card_message_id, "
            "operator_id = excluded.operator_id, citizen_name = excluded.citizen_name, "
            "operator_name = excluded.operator_name, outsider_told = excluded.outsider_told",
            (
                conversation.user_id,
                conversation.status.value,
                conversation.opened_at,
                conversation.thread_id,
                conversation.card_message_id,
                conversation.operator_id,
                conversation.citizen_name,
                conversation.operator_name,
                conversation.outsider_told,
            ),
        )

    async def erase(self, user_id: int) -> Conversation | None:
        conversation = await self.get(user_id)
        await self._db.execute("DELETE FROM relayed_messages WHERE user_id = ?", (user_id,))
        await self._db.execute("DELETE FROM conversations WHERE user_id = ?", (user_id,))
        return conversation

    async def link(self, relayed: RelayedMessage) -> None:
        # Replaces a link on either key, as SQLite's INSERT OR REPLACE did (not in PostgreSQL).
        await self._db.execute(
            "DELETE FROM relayed_messages"
            " WHERE (user_id = ? AND citizen_message_id = ?) OR topic_message_id = ?",
            (relayed.user_id, relayed.citizen_message_id, relayed.topic_message_id),
        )
        await self._db.execute(
            "INSERT INTO relayed_messages"
            " (user_id, citizen_message_id, topic_message_id, direction) VALUES (?, ?, ?, ?)",
            (
                relayed.user_id,
                relayed.citizen_message_id,
                relayed.topic_message_id,
                relayed.direction.value,
            ),
        )

    async def _relayed_where(self, where: str, values: tuple[int, ...]) -> RelayedMessage | None:
        sql = (
            "SELECT user_id, citizen_message_id, topic_message_id, direction "
            f"FROM relayed_messages WHERE {where}"
        )
        row = await self._db.fetch_one(sql, values)
        return _relayed(row) if row else None

    async def by_citizen_message(self, user_id: int, message_id: int) -> RelayedMessage | None:
        return await self._relayed_where(
            "user_id = ? AND citizen_message_id = ?", (user_id, message_id)
        )

    async def by_topic_message(self, message_id: int) -> RelayedMessage | None:
        return await self._relayed_where("topic_message_id = ?", (message_id,))
