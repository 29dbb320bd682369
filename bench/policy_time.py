"""Item 3: time from submit to the policy PDF in the chat, every processing delay at 0, against
the emulator enforcing Telegram's flood limits (30 messages/s, 1/s per chat, with 429s).

* one at a time: a citizen submits, the PDF arrives, the next citizen submits;
* at once: N citizens, each at the summary, press Submit together; when does the last PDF come,
  beside the floor the sending rate sets (the issue's 200 at 25/s = 8 s, and the floor of the
  messages this bot actually sends per policy at 30/s).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

from bench.citizens import JOURNEY, Citizen
from bench.processes import BotUnderTest
from bench.session import Session, driver_collector_paused, settle
from bench.stats import latency_ms
from bench.tracker import Wait
from sandbox.emulator import actions
from sandbox.emulator.ratelimit import RateLimits

SUBMIT = JOURNEY[-1]
TO_SUMMARY = JOURNEY[:-1]
ISSUE_FLOOR_RATE = 25.0  # the issue's "200 at 25 per second is 8 s"


@dataclass(frozen=True)
class PolicyConfig:
    one_at_a_time: int = 50
    at_once: int = 200
    timeout: float = 60.0
    # Caps that keep `make bench` bounded when the bot is slow: one at a time stops after this
    # long (at least `min_samples` taken); the crowd is given up on after `crowd_cap` seconds.
    budget: float = 75.0
    min_samples: int = 10
    crowd_cap: float = 40.0


def _pdf_arrived(call: Any) -> bool:
    return call.method == "sendDocument" and call.ok


async def _to_summary(citizens: list[Citizen], batch: int = 100) -> None:
    for start in range(0, len(citizens), batch):
        await asyncio.gather(*(c.journey(TO_SUMMARY) for c in citizens[start : start + batch]))


async def submit_and_wait_pdf(
    session: Session, citizen: Citizen, timeout: float
) -> tuple[float, float, Wait]:
    """Press Submit and wait for the PDF: (the submit handed out, the PDF arrived, its wait).

    The wait is on the PDF alone: under the flood limits the submit's own answer may be refused
    (a 429 the bot does not retry for a direct reply), yet the policy still comes.
    """
    driver = session.driver
    wait = session.tracker.expect(citizen.user_id, _pdf_arrived)
    world = driver.world
    label = driver.labels[SUBMIT.arg]
    chat, user = world.chats[citizen.user_id], world.users[citizen.user_id]
    try:
        await actions.press(world, chat, user, label, wait_seconds=timeout)
        await asyncio.wait_for(wait.future, timeout)
    except BaseException:
        session.tracker.forget(citizen.user_id)
        raise
    assert wait.handed is not None and wait.answered is not None
    return wait.handed, wait.answered, wait


async def one_at_a_time(
    session: Session, process: BotUnderTest, register_size: int, config: PolicyConfig
) -> dict[str, Any]:
    citizens = session.citizens(config.one_at_a_time, register_size)
    session.emulator.rate_limits = None  # the way to the summary is item 1's business
    await _to_summary(citizens)
    await settle(process)
    session.emulator.rate_limits = limits = RateLimits()
    seconds = []
    messages_before_pdf = []
    started = time.perf_counter()
    with driver_collector_paused():
        for citizen in citizens:
            if len(seconds) >= config.min_samples and time.perf_counter() - started > config.budget:
                break
            handed, arrived, wait = await submit_and_wait_pdf(session, citizen, config.timeout)
            seconds.append(arrived - handed)
            messages_before_pdf.append(wait.methods.count("sendMessage"))
    return {
        "seconds": latency_ms(seconds),
        "planned": len(citizens),
        "messages_before_pdf": max(messages_before_pdf),
        "refused_429": limits.stats.refused,
    }


async def at_once(
    session: Session, process: BotUnderTest, register_size: int, config: PolicyConfig
) -> dict[str, Any]:
    citizens = session.citizens(config.at_once, register_size)
    session.emulator.rate_limits = None
    await _to_summary(citizens)
    await settle(process)
    session.emulator.rate_limits = limits = RateLimits()
    sends_before = session.tracker.methods.copy()
    refused_before = session.tracker.errors[429]
    with driver_collector_paused():
        started = time.perf_counter()
        tasks = [
            asyncio.ensure_future(submit_and_wait_pdf(session, c, config.crowd_cap + 5))
            for c in citizens
        ]
        done, pending = await asyncio.wait(tasks, timeout=config.crowd_cap)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    results = [task.result() for task in done if task.exception() is None]
    count = len(citizens)
    first_handed = min(handed for handed, _, _ in results)
    arrivals = sorted(arrived - first_handed for _, arrived, _ in results)
    sent = session.tracker.methods - sends_before
    messages = sent["sendMessage"] + sent["sendDocument"]
    complete = len(results) == count
    # When the cap cut it short: the pace so far, carried on to the last PDF.
    pace = len(arrivals) / arrivals[-1] if arrivals and arrivals[-1] > 0 else float("nan")
    return {
        "citizens": count,
        "pdfs": len(results),
        "complete": complete,
        "last_pdf_s": arrivals[-1] if complete else float("nan"),
        "projected_last_pdf_s": arrivals[-1] if complete else count / pace,
        "median_pdf_s": arrivals[len(arrivals) // 2] if complete else float("nan"),
        "pdfs_per_s": pace,
        "issue_floor_s": count / ISSUE_FLOOR_RATE,
        "messages_sent": messages,
        "refused_429": session.tracker.errors[429] - refused_before,
        "refused_by_limit": {
            "overall": limits.stats.refused_overall,
            "chat": limits.stats.refused_chat,
        },
        "wall_s": time.perf_counter() - started,
    }


async def run_policy_time(
    session: Session, process: BotUnderTest, register_size: int, config: PolicyConfig
) -> dict[str, Any]:
    single = await one_at_a_time(session, process, register_size, config)
    crowd = await at_once(session, process, register_size, config) if config.at_once else {}
    if crowd:
        # Each policy takes the submit's answer, the status messages and the PDF: at 30/s
        # that many messages for every citizen is the floor this bot's flow sets.
        per_policy = single["messages_before_pdf"] + 1
        crowd["messages_per_policy"] = per_policy
        crowd["messages_floor_s"] = crowd["citizens"] * per_policy / 30.0
    return {"one_at_a_time": single, "at_once": crowd}
