"""Email: the SMTP connection (aiosmtplib, from SMTP_URL and SMTP_FROM) and the senders of the
EMAIL_* outbox kinds. These rows have their own audience and their own drain loop, so a mail
server that is down or slow delays only email; whatever fails is retried by the outbox.
"""

from __future__ import annotations

import html
import re
from datetime import tzinfo
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from urllib.parse import unquote, urlsplit

import aiosmtplib

from bot.i18n import Texts
from bot.notifications import CitizenNotices, PolicySender, status_name
from core.email import EmailAddresses
from core.errors import ApplicationNotFound
from core.models import ApplicationStatus, Notification
from core.restoration import RestorationService

_TAG = re.compile(r"<[^>]+>")


def plain_text(text: str) -> str:
    """A chat text (Telegram's HTML subset) as plain email text."""
    return html.unescape(_TAG.sub("", text))


class SmtpMailer:
    """smtp://[user:password@]host[:port] (STARTTLS when the server offers it; port 587 by
    default) or smtps://... (TLS from the start; port 465)."""

    def __init__(self, url: str, sender: str, *, timeout: float) -> None:
        parts = urlsplit(url)
        self._tls = parts.scheme == "smtps"
        self._host = parts.hostname or "localhost"
        self._port = parts.port or (465 if self._tls else 587)
        self._username = unquote(parts.username) if parts.username else None
        self._password = unquote(parts.password) if parts.password else None
        self._timeout = timeout
        self.sender = sender

    async def send(self, message: EmailMessage) -> None:
        if "From" not in message:
            message["From"] = self.sender
        await aiosmtplib.send(
            message,
            hostname=self._host,
            port=self._port,
            username=self._username,
            password=self._password,
            use_tls=self._tls,
            start_tls=False if self._tls else None,
            timeout=self._timeout,
        )


class EmailNotices:
    """Status changes and confirmation codes by email, in the citizen's language."""

    def __init__(
        self,
        *,
        mailer: SmtpMailer,
        emails: EmailAddresses,
        restoration: RestorationService,
        notices: CitizenNotices,
        policy_sender: PolicySender,
        texts: Texts,
        timezone: tzinfo,
    ) -> None:
        self.mailer = mailer
        self.emails = emails
        self.restoration = restoration
        self.notices = notices
        self.policy_sender = policy_sender
        self.texts = texts
        self.timezone = timezone

    def _message(self, to: str, subject: str, body: str, locale: str) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self.mailer.sender
        message["To"] = to
        message["Subject"] = subject
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = make_msgid(domain="oms-bot")
        footer = self.texts.t("email.footer", locale=locale)
        message.set_content(f"{body}\n\n-- \n{plain_text(footer)}\n")
        return message

    async def status_changed(self, notification: Notification) -> int | None:
        """EMAIL_STATUS: the status push as an email, with the PDF for the electronic one."""
        try:
            application = await self.restoration.get(
                int(str(notification.payload["application_id"]))
            )
        except ApplicationNotFound:
            return None
        citizen = await self.restoration.get_citizen(application.user_id)
        to = citizen.confirmed_email if citizen else None
        if to is None:
            return None  # the address was removed since
        status = ApplicationStatus(str(notification.payload["status"]))
        locale = application.locale
        subject = self.texts.t(
            "email.status.subject",
            locale=locale,
            number=application.number,
            status=status_name(status, self.texts, locale),
        )
        body = plain_text(await self.notices.status_message(application, status))
        if status is ApplicationStatus.READY:
            body += "\n\n" + self.texts.t("email.status.pdf_attached", locale=locale)
        message = self._message(to, subject, body, locale)
        if status is ApplicationStatus.READY:
            pdf, filename = await self.policy_sender.render(application)
            message.add_attachment(pdf, maintype="application", subtype="pdf", filename=filename)
        await self.mailer.send(message)
        return None

    async def confirmation_code(self, notification: Notification) -> int | None:
        """EMAIL_CODE: the code of the address being confirmed (read from its pending row)."""
        pending = await self.emails.pending(notification.chat_id)
        if pending is None:
            return None  # confirmed or replaced since
        citizen = await self.restoration.get_citizen(notification.chat_id)
        locale = citizen.locale if citizen else self.texts.default_locale
        message = self._message(
            pending.email,
            self.texts.t("email.code.subject", locale=locale),
            plain_text(self.texts.t("email.code.body", locale=locale, code=pending.code)),
            locale,
        )
        await self.mailer.send(message)
        return None
