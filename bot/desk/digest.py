"""The operators' digest in the support chat: applications waiting longer than the service level
and conversations waiting for an operator, each with a link to its topic. Posted each morning
(core/reminders.py decides when) and on /digest, as a DESK_DIGEST outbox row."""

from __future__ import annotations

from datetime import datetime, tzinfo
from html import escape

from aiogram.methods import SendMessage
from aiogram.types import LinkPreviewOptions

from bot.delivery import Delivery
from bot.i18n import Texts
from core.models import Notification
from core.reminders import Digest, ReminderService

MAX_ITEMS = 40  # per list: the message stays well under Telegram's 4096 characters


def topic_link(chat_id: int, thread_id: int | None) -> str | None:
    """A link to a forum topic: t.me/c/<the supergroup's id without -100>/<thread id>."""
    if thread_id is None:
        return None
    internal = str(chat_id).removeprefix("-100")
    return f"https://t.me/c/{internal}/{thread_id}"


def render_digest(digest: Digest, *, t: Texts, locale: str, chat_id: int, timezone: tzinfo) -> str:
    def tr(key: str, **params: object) -> str:
        return t.t(key, locale=locale, **params)

    def link(thread_id: int | None) -> str:
        url = topic_link(chat_id, thread_id)
        return f'<a href="{url}">{tr("digest.topic")}</a>' if url else tr("digest.no_topic")

    def at(moment: datetime) -> str:
        return f"{moment.astimezone(timezone):%d.%m.%Y %H:%M}"

    hours = round(digest.service_level.total_seconds() / 3600)
    lines = [tr("digest.title", at=at(digest.at))]
    if not digest.overdue and not digest.waiting:
        lines.append(tr("digest.nothing", hours=hours))
        return "\n".join(lines)
    lines.append("")
    lines.append(tr("digest.overdue", hours=hours, n=len(digest.overdue)))
    for application, conversation in digest.overdue[:MAX_ITEMS]:
        waited = round((digest.at - application.created_at).total_seconds() / 3600)
        lines.append(
            tr(
                "digest.application",
                number=application.number,
                status=tr(f"status.name.{application.status.value}"),
                waited=waited,
                link=link(conversation.thread_id if conversation else None),
            )
        )
    lines.append("")
    lines.append(tr("digest.waiting", n=len(digest.waiting)))
    for conversation in digest.waiting[:MAX_ITEMS]:
        lines.append(
            tr(
                "digest.conversation",
                name=escape(conversation.citizen_name or tr("desk.citizen")),
                since=at(conversation.opened_at),
                link=link(conversation.thread_id),
            )
        )
    hidden = max(0, len(digest.overdue) - MAX_ITEMS) + max(0, len(digest.waiting) - MAX_ITEMS)
    if hidden:
        lines.append(tr("digest.more", n=hidden))
    return "\n".join(lines)


class DigestSender:
    def __init__(
        self,
        *,
        reminders: ReminderService,
        delivery: Delivery,
        texts: Texts,
        chat_id: int | None,
        locale: str,
        timezone: tzinfo,
    ) -> None:
        self.reminders = reminders
        self.delivery = delivery
        self.texts = texts
        self.chat_id = chat_id
        self.locale = locale  # the desk's language (DEFAULT_LOCALE)
        self.timezone = timezone

    async def send(self, notification: Notification) -> int | None:
        """A DESK_DIGEST row: the lists as they are when it goes out."""
        if self.chat_id is None:
            return None
        digest = await self.reminders.digest()
        text = render_digest(
            digest, t=self.texts, locale=self.locale, chat_id=self.chat_id, timezone=self.timezone
        )
        thread = notification.payload.get("thread_id")
        sent = await self.delivery.send(
            SendMessage(
                chat_id=self.chat_id,
                message_thread_id=int(str(thread)) if thread is not None else None,
                text=text,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            ),
            chat_id=self.chat_id,
        )
        return sent.message_id
