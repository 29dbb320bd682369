"""Domain errors. The bot maps each to a message in the user's language."""

from __future__ import annotations

from core.models import ApplicationStatus


class DomainError(Exception):
    """Base of every error the domain raises on purpose."""


class IllegalTransition(DomainError):
    def __init__(self, current: ApplicationStatus, target: ApplicationStatus) -> None:
        super().__init__(f"illegal transition {current} -> {target}")
        self.current = current
        self.target = target


class ApplicationNotFound(DomainError):
    pass


class RegisterFileError(DomainError):
    """The register file has bad rows; each is named with its line number."""

    def __init__(self, path: str, problems: list[tuple[int, str]]) -> None:
        lines = "; ".join(f"line {n}: {why}" for n, why in problems[:20])
        more = f" (and {len(problems) - 20} more)" if len(problems) > 20 else ""
        super().__init__(f"{path}: {len(problems)} bad row(s): {lines}{more}")
        self.path = path
        self.problems = problems


class DuplicateApplication(DomainError):
    """An application with this idempotency key already exists.

    Raised by ApplicationRepository.add (storage maps its unique-key violation to it), so the
    use case can tell a concurrent double submit from a real failure without knowing the database.
    """

    def __init__(self, idempotency_key: str) -> None:
        super().__init__("an application with this idempotency key already exists")
        self.idempotency_key = idempotency_key


class RecipientUnreachable(DomainError):
    """The chat refuses messages for good (the user blocked the bot, the bot left the group):
    retrying will not help."""


class DeliveryFailed(DomainError):
    """A send failed after its retries; the caller records it (never dropped silently)."""


class DeliveryUncertain(DeliveryFailed):
    """The connection was lost before Telegram answered: the call may have been carried out.
    Raised instead of resending a call that must not be done twice."""


class NotOperatorsCase(DomainError):
    """A desk action names an application that is not the conversation's citizen's."""
