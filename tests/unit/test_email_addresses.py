"""Confirming an email address by a code typed back; only then does it get status changes."""

from __future__ import annotations

from datetime import timedelta

from core.email import Confirmation, EmailAddresses
from core.models import ApplicationStatus, Citizen, NotificationKind
from core.restoration import RestorationService
from tests.fakes import FakeClock, FakeRegister, FakeUnitOfWorkFactory
from tests.unit.test_restoration import PERSON, TIMINGS, USER, make_draft


def addresses(db: FakeUnitOfWorkFactory, clock: FakeClock) -> EmailAddresses:
    return EmailAddresses(uow_factory=db, clock=clock, codes=lambda: "123456")


async def test_the_code_confirms_the_address_and_wrong_codes_do_not() -> None:
    db, clock = FakeUnitOfWorkFactory(), FakeClock()
    db.committed.citizens[USER] = Citizen(USER, "ru", consent_at=clock.now())
    emails = addresses(db, clock)
    assert await emails.request(USER, "ivan@example.ru")
    [row] = db.notifications()
    assert (row.kind, row.payload) == (NotificationKind.EMAIL_CODE, {})  # no address, no code
    assert await emails.confirm(USER, "000000") == (Confirmation.WRONG_CODE, "ivan@example.ru")
    assert db.citizens()[0].confirmed_email is None
    assert await emails.confirm(USER, " 123456 ") == (Confirmation.CONFIRMED, "ivan@example.ru")
    assert db.citizens()[0].confirmed_email == "ivan@example.ru"
    assert await emails.pending(USER) is None


async def test_an_old_code_or_too_many_tries_expire() -> None:
    db, clock = FakeUnitOfWorkFactory(), FakeClock()
    db.committed.citizens[USER] = Citizen(USER, "ru", consent_at=clock.now())
    emails = addresses(db, clock)
    await emails.request(USER, "ivan@example.ru")
    clock.advance(timedelta(minutes=31))
    assert (await emails.confirm(USER, "123456"))[0] is Confirmation.EXPIRED
    await emails.request(USER, "ivan@example.ru")
    for _ in range(5):
        await emails.confirm(USER, "999999")
    assert (await emails.confirm(USER, "123456"))[0] is Confirmation.EXPIRED


async def test_no_code_for_who_never_consented() -> None:
    db, clock = FakeUnitOfWorkFactory(), FakeClock()
    assert not await addresses(db, clock).request(USER, "ivan@example.ru")
    assert db.notifications() == []


async def test_status_changes_are_emailed_only_to_a_confirmed_address_with_smtp_set() -> None:
    for email_enabled, confirmed, expected in [(True, True, 1), (True, False, 0), (False, True, 0)]:
        db, clock = FakeUnitOfWorkFactory(), FakeClock()
        db.committed.citizens[USER] = Citizen(
            USER,
            "ru",
            enp=PERSON.enp,
            email="ivan@example.ru",
            email_confirmed_at=clock.now() if confirmed else None,
        )
        service = RestorationService(
            uow_factory=db,
            register=FakeRegister([PERSON]),
            clock=clock,
            timings=TIMINGS,
            email_enabled=email_enabled,
        )
        application = await service.submit(make_draft())
        await service.change_status(application.id, ApplicationStatus.PROCESSING, actor="system")
        rows = [n for n in db.notifications() if n.kind is NotificationKind.EMAIL_STATUS]
        assert len(rows) == expected
        assert all(n.kind.audience.value == "email" for n in rows)
