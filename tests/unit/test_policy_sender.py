"""The electronic policy goes out as one document; "sending a file..." is shown only when the
citizen would wait for it, not before every render of a few milliseconds."""

from __future__ import annotations

from datetime import UTC
from typing import Any, cast

from aiogram.methods import SendChatAction, SendDocument, TelegramMethod
from aiogram.types import Chat, Document, Message

from bot.delivery import Delivery
from bot.i18n import create_texts
from bot.notifications import PolicySender
from core.models import Application
from tests.unit.test_restoration import USER, Env, make_draft


class RecordingDelivery:
    """Delivery's one call, recorded; a document comes back with a file_id, as from Telegram."""

    def __init__(self) -> None:
        self.sent: list[TelegramMethod[Any]] = []

    async def send(self, method: TelegramMethod[Any], *, chat_id: int) -> Any:
        self.sent.append(method)
        if isinstance(method, SendChatAction):
            return True
        return Message(
            message_id=len(self.sent),
            date=0,
            chat=Chat(id=chat_id, type="private"),
            document=Document(file_id=f"file-{len(self.sent)}", file_unique_id="u"),
        )


async def sender_and_application(
    upload_action_after: float,
) -> tuple[PolicySender, RecordingDelivery, Application, Env]:
    env = Env()
    await env.confirm_citizen()
    application = await env.service.submit(make_draft())
    delivery = RecordingDelivery()
    sender = PolicySender(
        restoration=env.service,
        delivery=cast(Delivery, delivery),
        texts=create_texts(),
        clock=env.clock,
        timezone=UTC,
        upload_action_after=upload_action_after,
    )
    return sender, delivery, application, env


async def test_a_quick_render_goes_out_without_a_chat_action() -> None:
    sender, delivery, application, env = await sender_and_application(upload_action_after=30)
    message_id = await sender.send(application, caption="ready")
    [document] = delivery.sent
    assert isinstance(document, SendDocument)
    assert (document.chat_id, document.caption, message_id) == (USER, "ready", 1)
    # Kept for /policy, which then sends the file Telegram already has.
    [stored] = env.db.applications()
    assert stored.policy_file_id == "file-1"


async def test_a_slow_render_shows_sending_a_file_first() -> None:
    sender, delivery, application, _ = await sender_and_application(upload_action_after=0)
    await sender.send(application)
    action, document = delivery.sent
    assert isinstance(action, SendChatAction) and action.action == "upload_document"
    assert isinstance(document, SendDocument)
    assert document.document.filename.startswith("polis-oms-")  # type: ignore[union-attr]
