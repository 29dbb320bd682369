"""A local SMTP server that keeps what it receives: the sandbox's mailbox pane and the tests' mail
server. aiosmtpd on the caller's event loop, 127.0.0.1 only; it can be told to refuse the next
messages with a temporary error, as a failing mail server would.

aiosmtpd comes with the `sandbox` extra (installed by `make run` and `make test`).
"""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

TEMPORARY_FAILURE = "451 4.3.0 Mail server temporarily unavailable (sandbox fault)"


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class Mail:
    seq: int
    sender: str
    to: list[str]
    subject: str
    text: str
    attachments: list[Attachment]
    received_at: float = field(default_factory=time.time)

    def as_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "from": self.sender,
            "to": self.to,
            "subject": self.subject,
            "text": self.text,
            "attachments": [
                {"filename": a.filename, "content_type": a.content_type, "size": len(a.data)}
                for a in self.attachments
            ],
            "received_at": self.received_at,
        }


def parse_mail(seq: int, raw: bytes, recipients: list[str]) -> Mail:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    body = message.get_body(preferencelist=("plain",))
    text = body.get_content() if body is not None else ""
    attachments = [
        Attachment(
            part.get_filename() or "attachment",
            part.get_content_type(),
            part.get_payload(decode=True) or b"",
        )
        for part in message.iter_attachments()
    ]
    return Mail(
        seq=seq,
        sender=str(message.get("From", "")),
        to=recipients,
        subject=str(message.get("Subject", "")),
        text=text,
        attachments=attachments,
    )


class Mailbox:
    """`await Mailbox().start()`; `url` is what SMTP_URL should say."""

    def __init__(self, on_mail: Callable[[Mail], None] | None = None) -> None:
        self.messages: list[Mail] = []
        self.refused = 0  # messages answered with a temporary failure
        self._fail_next = 0
        self._on_mail = on_mail
        self._server: asyncio.Server | None = None
        self._arrived = asyncio.Condition()
        self.port = 0

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: SMTP(self, hostname="sandbox.local", loop=loop), host, port
        )
        self.port = int(self._server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._server.wait_closed(), 2.0)
            self._server = None

    def fail_next(self, times: int = 1) -> None:
        """Refuse the next `times` messages with a temporary (4xx) error."""
        self._fail_next = times

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self._fail_next > 0:
            self._fail_next -= 1
            self.refused += 1
            return TEMPORARY_FAILURE
        raw = envelope.original_content or envelope.content or b""
        if isinstance(raw, str):
            raw = raw.encode("utf-8")
        recipients = [str(r) for r in envelope.rcpt_tos]
        mail = parse_mail(len(self.messages) + 1, raw, recipients)
        self.messages.append(mail)
        if self._on_mail is not None:
            self._on_mail(mail)
        async with self._arrived:
            self._arrived.notify_all()
        return "250 2.0.0 Message accepted"

    async def wait_for(self, predicate: Callable[[Mail], bool], timeout: float = 10.0) -> Mail:
        """The first message (already here or arriving) that matches."""
        async with asyncio.timeout(timeout):
            async with self._arrived:
                while True:
                    for mail in self.messages:
                        if predicate(mail):
                            return mail
                    await self._arrived.wait()
