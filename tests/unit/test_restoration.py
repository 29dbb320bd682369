from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any

import pytest

from core.delivery_methods import ProcessingTimings
from core.errors import ApplicationNotFound, DuplicateApplication, IllegalTransition
from core.models import (
    Application,
    ApplicationDraft,
    ApplicationStatus,
    Citizen,
    DeliveryMethod,
    InsuredPerson,
    LossReason,
    NotificationKind,
    Passport,
    Sex,
    StoredFile,
)
from core.restoration import (
    RejectionReason,
    RestorationService,
    rejection_code,
)
from core.support import Conversation, ConversationStatus
from core.workflow import operator_actor
from tests.fakes import FakeApplicationRepository, FakeClock, FakeRegister, FakeUnitOfWorkFactory

S = ApplicationStatus
D = DeliveryMethod
USER = 100
ENP = "8451999122899990"
OTHER_ENP = "9999999999999995"

# Distinct delays, so a test can tell which one was used.
TIMINGS = ProcessingTimings(
    check_delay=timedelta(seconds=10),
    step_delay=timedelta(seconds=20),
    paper_print_delay=timedelta(seconds=30),
    post_delay=timedelta(seconds=40),
    pickup_delay=timedelta(seconds=50),
)

PERSON = InsuredPerson(
    enp=ENP,
    snils="112-233-445 95",
    last_name="Ivanov",
    first_name="Ivan",
    middle_name="Ivanovich",
    sex=Sex.MALE,
    birth_date=date(1985, 3, 12),
    passport=Passport("4510", "123456"),
    phone="+79991234567",
    region="Moscow",
    smo_name="SMO",
    smo_phone="+74950000000",
    valid_from=date(2010, 1, 1),
)


class Env:
    def __init__(self, *, desk_enabled: bool = False) -> None:
        self.clock = FakeClock()
        self.register = FakeRegister([PERSON])
        self.db = FakeUnitOfWorkFactory()
        self.service = RestorationService(
            uow_factory=self.db,
            register=self.register,
            clock=self.clock,
            timings=TIMINGS,
            desk_enabled=desk_enabled,
        )

    async def confirm_citizen(self, user_id: int = USER, enp: str | None = ENP) -> None:
        await self.service.save_citizen(Citizen(user_id=user_id, locale="ru", enp=enp))

    async def desk_conversation(self, user_id: int = USER) -> None:
        async with self.db() as uow:
            await uow.conversations.save(
                Conversation(user_id, ConversationStatus.RELEASED, self.clock.now(), thread_id=7)
            )
            await uow.commit()

    async def run_until_quiet(self) -> list[S]:
        """Jump the clock to each next action and process it; the statuses reached, in order."""
        reached: list[S] = []
        for _ in range(20):
            pending = [a.next_action_at for a in self.db.applications() if a.next_action_at]
            if not pending:
                return reached
            self.clock.set(min(pending))
            assert await self.service.process_due() >= 1
            reached.extend(a.status for a in self.db.applications())
        raise AssertionError("the background processing never settles")


def make_draft(
    delivery: D = D.ELECTRONIC,
    *,
    key: str = "run-1",
    user_id: int = USER,
    enp: str = ENP,
    passport: Passport = PERSON.passport,
) -> ApplicationDraft:
    return ApplicationDraft(
        user_id=user_id,
        chat_id=user_id,
        enp=enp,
        loss_reason=LossReason.LOST,
        passport=passport,
        scan=StoredFile("file-000001.jpg", "a" * 64, 1234),
        delivery=delivery,
        locale="ru",
        postcode="101000" if delivery is D.POST else None,
        address="Moscow, Tverskaya 1" if delivery is D.POST else None,
        office_id="msk-1" if delivery is D.PICKUP else None,
        idempotency_key=key,
    )


@pytest.fixture
async def env() -> Env:
    env = Env()
    await env.confirm_citizen()
    return env


# --- submit ---------------------------------------------------------------------------------


async def test_submit_creates_one_application_with_its_audit_row_and_notification(
    env: Env,
) -> None:
    now = env.clock.now()

    application = await env.service.submit(make_draft())

    assert application.status is S.SUBMITTED
    assert application.number == f"{now:%y%m}-{application.id:06d}"
    assert application.next_action_at == now + TIMINGS.check_delay
    assert env.db.applications() == [application]
    [change] = env.db.audit()
    assert (change.from_status, change.to_status) == (None, S.SUBMITTED)
    assert change.actor == "citizen:100"
    # The citizen's own reply announces the submission: no second announcement is queued.
    assert env.db.notifications() == []


async def test_a_submit_refreshes_the_card_of_a_citizen_talking_to_operators() -> None:
    env = Env(desk_enabled=True)
    await env.confirm_citizen()
    await env.desk_conversation()

    await env.service.submit(make_draft())

    [card] = env.db.notifications()
    assert (card.kind, card.chat_id, card.payload) == (NotificationKind.DESK_CARD, USER, {})


async def test_a_double_submit_returns_the_first_application(env: Env) -> None:
    first = await env.service.submit(make_draft())
    env.clock.advance(timedelta(seconds=1))

    second = await env.service.submit(make_draft())

    assert second == first
    assert len(env.db.applications()) == 1
    assert len(env.db.audit()) == 1
    assert env.db.notifications() == []


async def test_simultaneous_submits_with_one_key_create_one_application(env: Env) -> None:
    results = await asyncio.gather(*(env.service.submit(make_draft()) for _ in range(5)))

    assert len({a.id for a in results}) == 1
    assert len(env.db.applications()) == 1
    assert len(env.db.audit()) == 1
    assert env.db.notifications() == []


async def test_a_submit_losing_the_race_on_the_unique_key_returns_the_winner(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    winner = await env.service.submit(make_draft())
    original = FakeApplicationRepository.get_by_idempotency_key
    calls = 0

    async def stale_first_read(self: FakeApplicationRepository, key: str) -> Application | None:
        # The first read happens "before" the winner commits; the insert then hits the key.
        nonlocal calls
        calls += 1
        return None if calls == 1 else await original(self, key)

    monkeypatch.setattr(FakeApplicationRepository, "get_by_idempotency_key", stale_first_read)

    assert await env.service.submit(make_draft()) == winner
    assert len(env.db.applications()) == 1
    assert len(env.db.audit()) == 1


async def test_a_key_reused_by_another_user_does_not_reveal_the_application(env: Env) -> None:
    await env.service.submit(make_draft())

    with pytest.raises(DuplicateApplication):
        await env.service.submit(make_draft(user_id=200))


async def test_a_draft_without_an_idempotency_key_is_refused(env: Env) -> None:
    with pytest.raises(ValueError):
        await env.service.submit(make_draft(key=""))
    assert env.db.applications() == []


async def test_two_dialog_runs_make_two_applications(env: Env) -> None:
    first = await env.service.submit(make_draft(key="run-1"))
    second = await env.service.submit(make_draft(key="run-2"))

    assert second.id == first.id + 1
    assert len(env.db.applications()) == 2


# --- the background journey -----------------------------------------------------------------

JOURNEYS = {
    D.ELECTRONIC: (S.READY, TIMINGS.step_delay),
    D.PICKUP: (S.READY_FOR_PICKUP, TIMINGS.paper_print_delay + TIMINGS.pickup_delay),
    D.POST: (S.SENT_BY_POST, TIMINGS.paper_print_delay + TIMINGS.post_delay),
}


@pytest.mark.parametrize("delivery", list(D))
async def test_the_background_journey_of_each_delivery_method(env: Env, delivery: D) -> None:
    outcome, approved_wait = JOURNEYS[delivery]
    application = await env.service.submit(make_draft(delivery))
    start = env.clock.now()
    steps = [
        (TIMINGS.check_delay, S.PROCESSING),
        (TIMINGS.check_delay, S.APPROVED),
        (approved_wait, outcome),
    ]

    for wait, expected in steps:
        env.clock.advance(wait - timedelta(seconds=1))
        assert await env.service.process_due() == 0, "acted before its time"
        env.clock.advance(timedelta(seconds=1))
        assert await env.service.process_due() == 1
        assert (await env.service.get(application.id)).status is expected

    final = await env.service.get(application.id)
    assert final.next_action_at is None
    assert final.updated_at == start + sum((w for w, _ in steps), timedelta())
    history = env.db.audit(application.id)
    assert [(c.from_status, c.to_status) for c in history] == [
        (None, S.SUBMITTED),
        (S.SUBMITTED, S.PROCESSING),
        (S.PROCESSING, S.APPROVED),
        (S.APPROVED, outcome),
    ]
    assert [c.actor for c in history] == ["citizen:100", "system", "system", "system"]
    kinds = [(n.kind, n.payload.get("status")) for n in env.db.notifications()]
    expected_kinds: list[tuple[NotificationKind, object]] = [
        (NotificationKind.STATUS_CHANGED, "processing"),
        (NotificationKind.STATUS_CHANGED, "approved"),
        # The electronic policy's own message is its READY push (the caption).
        (NotificationKind.POLICY_DOCUMENT, None)
        if delivery is D.ELECTRONIC
        else (NotificationKind.STATUS_CHANGED, outcome.value),
    ]
    assert kinds == expected_kinds
    assert await env.service.process_due() == 0


async def test_outbox_payloads_hold_ids_and_codes_only(env: Env) -> None:
    application = await env.service.submit(make_draft(D.ELECTRONIC))
    await env.run_until_quiet()

    document = env.db.notifications()[-1]
    assert document.kind is NotificationKind.POLICY_DOCUMENT
    assert document.chat_id == USER
    assert document.payload == {"application_id": application.id}  # no ЕНП in the queue
    for notification in env.db.notifications():
        assert set(notification.payload) <= {"application_id", "status"}
        assert notification.created_at is not None


@pytest.mark.parametrize(
    ("draft", "citizen_enp", "code"),
    [
        (make_draft(passport=Passport("4510", "654321")), ENP, RejectionReason.PASSPORT_MISMATCH),
        (make_draft(enp=OTHER_ENP), OTHER_ENP, RejectionReason.NOT_IN_REGISTER),
        (make_draft(), OTHER_ENP, RejectionReason.ENP_MISMATCH),
        (make_draft(), None, RejectionReason.IDENTITY_NOT_CONFIRMED),
    ],
    ids=["passport-mismatch", "enp-unknown", "enp-not-the-confirmed-one", "not-confirmed"],
)
async def test_the_register_check_rejects_with_a_reason_code(
    env: Env, draft: ApplicationDraft, citizen_enp: str | None, code: RejectionReason
) -> None:
    await env.confirm_citizen(enp=citizen_enp)
    application = await env.service.submit(draft)

    assert await env.run_until_quiet() == [S.PROCESSING, S.REJECTED]

    rejected = await env.service.get(application.id)
    assert rejected.rejection_reason == code.value
    assert rejection_code(rejected.rejection_reason) is code
    assert rejected.next_action_at is None
    last_change = env.db.audit(application.id)[-1]
    assert (last_change.to_status, last_change.reason, last_change.actor) == (
        S.REJECTED,
        code.value,
        "system",
    )
    last = env.db.notifications()[-1]
    assert last.kind is NotificationKind.STATUS_CHANGED
    assert last.payload == {"application_id": application.id, "status": "rejected"}


async def test_an_automatic_rejection_calls_the_operators_in_the_same_transaction() -> None:
    env = Env(desk_enabled=True)
    await env.confirm_citizen()
    await env.service.submit(make_draft(passport=Passport("4510", "654321")))

    await env.run_until_quiet()

    [conversation] = env.db.committed.conversations.values()
    assert conversation.status is ConversationStatus.WAITING
    desk_rows = [n for n in env.db.notifications() if n.kind.audience.value == "desk"]
    assert [(n.kind, n.payload) for n in desk_rows][:1] == [
        (NotificationKind.DESK_NOTE, {"note": "desk.reason.rejected"})
    ]


async def test_a_citizen_who_deleted_their_data_is_not_approved(env: Env) -> None:
    env.db.committed.citizens.clear()
    await env.service.submit(make_draft())

    assert await env.run_until_quiet() == [S.PROCESSING, S.REJECTED]


async def test_process_due_twice_moves_each_application_once(env: Env) -> None:
    for n in range(3):
        await env.service.submit(make_draft(key=f"run-{n}"))
    env.clock.advance(TIMINGS.check_delay)

    assert await env.service.process_due() == 3
    assert await env.service.process_due() == 0
    assert [a.status for a in env.db.applications()] == [S.PROCESSING] * 3
    assert len(env.db.audit()) == 6


async def test_two_concurrent_background_runs_move_each_application_once(env: Env) -> None:
    for n in range(4):
        await env.service.submit(make_draft(key=f"run-{n}"))
    env.clock.advance(TIMINGS.check_delay)
    twin = RestorationService(
        uow_factory=env.db, register=env.register, clock=env.clock, timings=TIMINGS
    )

    moved = await asyncio.gather(env.service.process_due(), twin.process_due())

    assert sum(moved) == 4
    assert len(env.db.audit()) == 8
    assert len(env.db.notifications()) == 4


async def test_process_due_respects_its_limit(env: Env) -> None:
    for n in range(3):
        await env.service.submit(make_draft(key=f"run-{n}"))
    env.clock.advance(TIMINGS.check_delay)

    assert await env.service.process_due(limit=2) == 2
    assert await env.service.process_due(limit=2) == 1


async def test_one_failing_application_does_not_stop_the_others(
    env: Env, caplog: pytest.LogCaptureFixture
) -> None:
    class BrokenForOne(FakeRegister):
        def by_enp(self, enp: str) -> InsuredPerson | None:
            if enp == OTHER_ENP:
                raise RuntimeError("register unavailable")
            return super().by_enp(enp)

    env.service = RestorationService(
        uow_factory=env.db, register=BrokenForOne([PERSON]), clock=env.clock, timings=TIMINGS
    )
    await env.confirm_citizen(user_id=200, enp=OTHER_ENP)
    broken = await env.service.submit(make_draft(key="a", user_id=200, enp=OTHER_ENP))
    fine = await env.service.submit(make_draft(key="b"))
    env.clock.advance(TIMINGS.check_delay)
    assert await env.service.process_due() == 2  # both to PROCESSING
    env.clock.advance(TIMINGS.check_delay)

    with caplog.at_level(logging.ERROR):
        assert await env.service.process_due() == 1

    assert (await env.service.get(broken.id)).status is S.PROCESSING
    assert (await env.service.get(fine.id)).status is S.APPROVED
    assert f"application {broken.id}" in caplog.text
    assert OTHER_ENP not in caplog.text


async def test_an_illegal_step_is_logged_and_skipped(
    env: Env, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    application = await env.service.submit(make_draft())
    env.clock.advance(TIMINGS.check_delay)

    def refuse(*args: object, **kwargs: object) -> None:
        raise IllegalTransition(S.SUBMITTED, S.PROCESSING)

    monkeypatch.setattr("core.restoration.apply_transition", refuse)
    with caplog.at_level(logging.WARNING):
        assert await env.service.process_due() == 0

    assert (await env.service.get(application.id)).status is S.SUBMITTED
    assert "skipped" in caplog.text


async def test_a_final_application_left_scheduled_is_unscheduled(env: Env) -> None:
    application = await env.service.submit(make_draft())
    await env.run_until_quiet()
    env.db.committed.applications[application.id].next_action_at = env.clock.now()

    assert await env.service.process_due() == 0

    assert (await env.service.get(application.id)).next_action_at is None
    assert len(env.db.audit(application.id)) == 4


# --- change_status --------------------------------------------------------------------------


async def test_an_operator_rejects_with_free_text(env: Env) -> None:
    application = await env.service.submit(make_draft())

    rejected = await env.service.change_status(
        application.id, S.REJECTED, actor=operator_actor(5), reason="blurred scan"
    )

    assert rejected.status is S.REJECTED
    assert rejected.rejection_reason == "blurred scan"
    assert rejection_code(rejected.rejection_reason) is None
    assert rejected.next_action_at is None
    assert await env.service.get(application.id) == rejected
    last_change = env.db.audit(application.id)[-1]
    assert (last_change.actor, last_change.reason) == ("operator:5", "blurred scan")
    assert env.db.notifications()[-1].payload == {
        "application_id": application.id,
        "status": "rejected",
    }
    assert await env.service.process_due() == 0


async def test_an_operator_hands_the_application_back_to_the_automatic_processing(
    env: Env,
) -> None:
    application = await env.service.submit(make_draft())
    await env.service.change_status(application.id, S.PROCESSING, actor=operator_actor(5))
    approved = await env.service.change_status(
        application.id,
        S.APPROVED,
        actor=operator_actor(5),
        next_action_at=env.service.scheduled_after(S.APPROVED, D.ELECTRONIC),
    )
    assert approved.next_action_at == env.clock.now() + TIMINGS.step_delay

    assert await env.run_until_quiet() == [S.READY]
    assert [c.actor for c in env.db.audit(application.id)] == [
        "citizen:100",
        "operator:5",
        "operator:5",
        "system",
    ]
    assert env.db.notifications()[-1].kind is NotificationKind.POLICY_DOCUMENT


async def test_without_a_next_action_the_background_leaves_the_application_alone(
    env: Env,
) -> None:
    application = await env.service.submit(make_draft())
    await env.service.change_status(application.id, S.PROCESSING, actor=operator_actor(5))
    env.clock.advance(timedelta(days=1))

    assert await env.service.process_due() == 0
    assert (await env.service.get(application.id)).status is S.PROCESSING


async def test_an_illegal_change_persists_nothing(env: Env) -> None:
    application = await env.service.submit(make_draft(D.POST))

    with pytest.raises(IllegalTransition):
        await env.service.change_status(application.id, S.READY, actor=operator_actor(5))

    assert env.db.applications() == [application]
    assert len(env.db.audit()) == 1
    assert env.db.notifications() == []


async def test_a_missing_application_is_reported(env: Env) -> None:
    with pytest.raises(ApplicationNotFound):
        await env.service.change_status(404, S.PROCESSING, actor=operator_actor(5))
    with pytest.raises(ApplicationNotFound):
        await env.service.get(404)
    with pytest.raises(ApplicationNotFound):
        await env.service.record_policy_file_id(404, "file")


# --- atomicity ------------------------------------------------------------------------------


async def test_a_failing_outbox_write_rolls_back_the_submit() -> None:
    env = Env(desk_enabled=True)
    await env.confirm_citizen()
    await env.desk_conversation()
    env.db.fail("outbox.add", RuntimeError("disk full"))

    with pytest.raises(RuntimeError, match="disk full"):
        await env.service.submit(make_draft())

    assert env.db.applications() == []
    assert env.db.audit() == []
    assert env.db.notifications() == []


@pytest.mark.parametrize("failing", ["outbox.add", "audit.record", "applications.update"])
async def test_a_failing_write_rolls_back_the_status_change(env: Env, failing: str) -> None:
    application = await env.service.submit(make_draft())
    env.db.fail(failing, RuntimeError("disk full"))

    with pytest.raises(RuntimeError):
        await env.service.change_status(application.id, S.PROCESSING, actor=operator_actor(5))

    env.db.heal()
    assert env.db.applications() == [application]
    assert len(env.db.audit()) == 1
    assert env.db.notifications() == []


async def test_a_failing_policy_notification_rolls_back_the_ready_status(env: Env) -> None:
    application = await env.service.submit(make_draft(D.ELECTRONIC))
    await env.service.change_status(application.id, S.PROCESSING, actor="system")
    await env.service.change_status(application.id, S.APPROVED, actor="system")
    before = env.db.applications()
    # The policy document's row (READY's only notification) cannot be queued.
    env.db.fail("outbox.add", RuntimeError("disk full"))

    with pytest.raises(RuntimeError):
        await env.service.change_status(application.id, S.READY, actor="system")

    assert env.db.applications() == before
    assert len(env.db.audit()) == 3
    assert len(env.db.notifications()) == 2


# --- queries --------------------------------------------------------------------------------


async def test_applications_of_lists_newest_first_with_history(env: Env) -> None:
    first = await env.service.submit(make_draft(key="run-1"))
    env.clock.advance(TIMINGS.check_delay)
    await env.service.process_due()
    second = await env.service.submit(make_draft(key="run-2"))
    await env.service.submit(make_draft(key="run-3", user_id=200))

    views = await env.service.applications_of(USER)

    assert [v.application.id for v in views] == [second.id, first.id]
    assert [c.to_status for c in views[1].history] == [S.SUBMITTED, S.PROCESSING]
    assert [c.to_status for c in views[0].history] == [S.SUBMITTED]
    assert await env.service.applications_of(999) == []


async def test_latest_policy_is_the_newest_completed_application(env: Env) -> None:
    assert await env.service.latest_policy(USER) is None
    paper = await env.service.submit(make_draft(D.POST, key="run-1"))
    assert await env.service.latest_policy(USER) is None  # not checked yet
    await env.run_until_quiet()
    latest = await env.service.latest_policy(USER)
    assert latest is not None
    assert latest.id == paper.id

    electronic = await env.service.submit(make_draft(D.ELECTRONIC, key="run-2"))
    await env.run_until_quiet()
    latest = await env.service.latest_policy(USER)

    assert latest is not None
    assert latest.id == electronic.id
    assert latest.status is S.READY


async def test_a_rejected_application_gives_no_policy(env: Env) -> None:
    await env.service.submit(make_draft(passport=Passport("0000", "000000")))
    await env.run_until_quiet()

    assert await env.service.latest_policy(USER) is None


async def test_the_policy_file_id_is_remembered(env: Env) -> None:
    application = await env.service.submit(make_draft())
    await env.run_until_quiet()

    await env.service.record_policy_file_id(application.id, "AgACAgIAAxkB")

    stored = await env.service.get(application.id)
    assert stored.policy_file_id == "AgACAgIAAxkB"
    assert stored.status is S.READY
    assert len(env.db.audit(application.id)) == 4  # not a status change


async def test_person_for_reads_the_register(env: Env) -> None:
    application = await env.service.submit(make_draft())
    assert await env.service.person_for(application) == PERSON

    stranger = replace(application, enp=OTHER_ENP)
    assert await env.service.person_for(stranger) is None


async def test_citizens_are_saved_and_read_back(env: Env) -> None:
    assert await env.service.get_citizen(300) is None
    citizen = Citizen(user_id=300, locale="en", phone="+79991234567")

    await env.service.save_citizen(citizen)
    citizen.email = "changed@example.org"  # the stored copy must not follow

    stored = await env.service.get_citizen(300)
    assert stored == Citizen(user_id=300, locale="en", phone="+79991234567")


async def test_a_new_scan_replaces_the_old_one_and_returns_it(env: Env) -> None:
    application = await env.service.submit(make_draft())
    new = StoredFile("new.jpg", "b" * 64, 10)
    old = await env.service.replace_scan(application.id, new, user_id=application.user_id)
    assert old == application.scan
    assert (await env.service.get(application.id)).scan == new


async def test_another_user_cannot_replace_a_scan(env: Env) -> None:
    application = await env.service.submit(make_draft())
    with pytest.raises(ApplicationNotFound):
        await env.service.replace_scan(
            application.id, StoredFile("x.jpg", "c" * 64, 1), user_id=application.user_id + 1
        )


# --- operators' decisions ---------------------------------------------------------------------


async def test_an_operator_approves_a_new_application_in_one_transaction(env: Env) -> None:
    application = await env.service.submit(make_draft(D.ELECTRONIC))

    approved = await env.service.approve(application.id, owner=USER, operator_id=5)

    assert approved.status is S.APPROVED
    assert approved.next_action_at == env.clock.now() + TIMINGS.step_delay
    history = env.db.audit(application.id)
    assert [(c.to_status, c.actor) for c in history[1:]] == [
        (S.PROCESSING, "operator:5"),
        (S.APPROVED, "operator:5"),
    ]
    assert history[1].at == history[2].at
    assert await env.run_until_quiet() == [S.READY]


async def test_a_failing_approval_leaves_the_application_as_it_was(env: Env) -> None:
    application = await env.service.submit(make_draft())
    before = env.db.applications()
    # The first status change is written; the second one's audit row fails.
    env.db.fail("audit.record", RuntimeError("disk full"), after=1)

    with pytest.raises(RuntimeError):
        await env.service.approve(application.id, owner=USER, operator_id=5)

    env.db.heal()
    assert env.db.applications() == before  # still submitted, still scheduled for the check
    assert len(env.db.audit()) == 1
    env.clock.advance(TIMINGS.check_delay)
    assert await env.service.process_due() == 1


async def test_an_operator_cannot_act_on_another_citizens_application(env: Env) -> None:
    application = await env.service.submit(make_draft())

    with pytest.raises(ApplicationNotFound):
        await env.service.approve(application.id, owner=USER + 1, operator_id=5)
    with pytest.raises(ApplicationNotFound):
        await env.service.reject(application.id, owner=USER + 1, operator_id=5, reason="no")
    assert env.db.applications() == [application]


@pytest.mark.parametrize("delivery", [D.POST, D.PICKUP])
async def test_an_operator_hands_over_a_paper_copy(env: Env, delivery: D) -> None:
    application = await env.service.submit(make_draft(delivery))
    await env.service.approve(application.id, owner=USER, operator_id=5)

    done = await env.service.hand_over(application.id, owner=USER, operator_id=5)

    assert done.status is JOURNEYS[delivery][0]
    assert done.next_action_at is None


async def test_an_electronic_policy_is_never_handed_over_by_an_operator(env: Env) -> None:
    application = await env.service.submit(make_draft(D.ELECTRONIC))
    await env.service.approve(application.id, owner=USER, operator_id=5)

    with pytest.raises(IllegalTransition):
        await env.service.hand_over(application.id, owner=USER, operator_id=5)


async def test_login_confirmation_creates_a_missing_profile(env: Env) -> None:
    await env.service.confirm_identity(300, locale="en", phone="+79991234567", enp=ENP)

    stored = await env.service.get_citizen(300)
    assert stored == Citizen(user_id=300, locale="en", phone="+79991234567", enp=ENP)


async def test_login_confirmation_keeps_the_rest_of_an_existing_profile(env: Env) -> None:
    await env.service.save_citizen(Citizen(user_id=300, locale="en", email="a@example.org"))

    await env.service.confirm_identity(300, locale="ru", phone="+79991234567", enp=ENP)

    stored = await env.service.get_citizen(300)
    assert stored is not None
    assert (stored.locale, stored.email, stored.enp) == ("en", "a@example.org", ENP)


# --- zero delays --------------------------------------------------------------------------------

NO_DELAYS = ProcessingTimings(
    check_delay=timedelta(0),
    step_delay=timedelta(0),
    paper_print_delay=timedelta(0),
    post_delay=timedelta(0),
    pickup_delay=timedelta(0),
)


class TickingClock(FakeClock):
    """Moves on a millisecond at every reading, as the system clock does between two reads."""

    def now(self) -> datetime:
        return self.advance(timedelta(milliseconds=1))


def zero_delay_env() -> Env:
    env = Env()
    env.clock = TickingClock()
    env.service = RestorationService(
        uow_factory=env.db, register=env.register, clock=env.clock, timings=NO_DELAYS
    )
    return env


async def test_zero_delay_steps_run_back_to_back_and_announce_the_last_status() -> None:
    env = zero_delay_env()
    await env.confirm_citizen()
    application = await env.service.submit(make_draft(D.ELECTRONIC))
    commits = env.db.commits

    assert await env.service.process_due() == 1

    assert (await env.service.get(application.id)).status is S.READY
    assert env.db.commits == commits + 1  # one transaction for the three steps
    history = env.db.audit(application.id)
    assert [c.to_status for c in history] == [S.SUBMITTED, S.PROCESSING, S.APPROVED, S.READY]
    # Statuses passed through in the same instant are not pushed one by one.
    kinds = [(n.kind, n.payload.get("status")) for n in env.db.notifications()]
    assert kinds == [(NotificationKind.POLICY_DOCUMENT, None)]
    assert await env.service.process_due() == 0


async def test_zero_delay_chain_stops_at_a_step_with_a_delay() -> None:
    env = zero_delay_env()
    env.service._timings = replace(NO_DELAYS, post_delay=timedelta(seconds=5))
    await env.confirm_citizen()
    application = await env.service.submit(make_draft(D.POST))

    assert await env.service.process_due() == 1

    moved = await env.service.get(application.id)
    assert moved.status is S.APPROVED
    assert moved.next_action_at is not None
    assert moved.updated_at + timedelta(seconds=5) == moved.next_action_at
    kinds = [(n.kind, n.payload.get("status")) for n in env.db.notifications()]
    assert kinds == [(NotificationKind.STATUS_CHANGED, "approved")]


async def test_zero_delay_rejection_is_announced_once() -> None:
    env = zero_delay_env()
    await env.confirm_citizen(enp=OTHER_ENP)
    await env.service.submit(make_draft(D.ELECTRONIC))

    assert await env.service.process_due() == 1

    assert [a.status for a in env.db.applications()] == [S.REJECTED]
    kinds = [(n.kind, n.payload.get("status")) for n in env.db.notifications()]
    assert kinds == [(NotificationKind.STATUS_CHANGED, "rejected")]


async def test_a_submit_due_at_once_wakes_the_background_step() -> None:
    env = zero_delay_env()
    woken: list[bool] = []
    env.service.after_due_submit = lambda: woken.append(True)

    await env.service.submit(make_draft(D.ELECTRONIC))
    await env.service.submit(make_draft(D.ELECTRONIC))  # a repeat creates nothing

    assert woken == [True]


async def test_a_submit_with_a_check_delay_leaves_the_background_step_to_its_tick(
    env: Env,
) -> None:
    woken: list[bool] = []
    env.service.after_due_submit = lambda: woken.append(True)

    await env.service.submit(make_draft(D.ELECTRONIC))

    assert woken == []


# --- consent --------------------------------------------------------------------------------


async def test_consent_is_recorded_in_one_unit_of_work_keeping_the_profile(env: Env) -> None:
    opened: list[int] = []
    open_uow = env.db.__call__

    class CountingFactory:
        def __call__(self, **options: Any) -> object:
            opened.append(1)
            return open_uow(**options)

    env.service._uow_factory = CountingFactory()  # type: ignore[assignment]

    await env.service.record_consent(USER, locale="en")

    assert len(opened) == 1
    citizen = await env.service.get_citizen(USER)
    assert citizen is not None
    assert citizen.consent_at == env.clock.now()
    assert (citizen.enp, citizen.locale) == (ENP, "ru")  # the profile kept, not replaced


async def test_consent_creates_a_missing_profile() -> None:
    env = Env()
    await env.service.record_consent(USER, locale="en")

    citizen = await env.service.get_citizen(USER)
    assert citizen is not None
    assert (citizen.locale, citizen.consent_at) == ("en", env.clock.now())
