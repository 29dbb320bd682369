"""Pieces of the benchmark (bench/) that decide its figures."""

from __future__ import annotations

import gc
import math

import pytest

from bench.baseline_bot import Call
from bench.calibration import signature, template
from bench.citizens import snippet
from bench.session import driver_collector_paused
from bench.stats import median_of_runs, percentile
from bench.tracker import update_chat
from sandbox.emulator import RecordedCall


def test_percentile_interpolates_between_ranks() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50.5
    assert percentile(values, 99) == 99.01
    assert percentile([3.0], 99) == 3.0
    assert math.isnan(percentile([], 50))


def test_median_of_runs_is_field_by_field() -> None:
    runs = [{"a": 1.0, "b": {"c": 10.0}}, {"a": 3.0, "b": {"c": 30.0}}, {"a": 2.0, "b": {"c": 5.0}}]
    assert median_of_runs(runs) == {"a": 2.0, "b": {"c": 10.0}}


def test_snippet_is_the_longest_literal_piece() -> None:
    template_text = "Заявление № <b>{number}</b> отправлено. Я сообщу здесь.\n\nСтатус: /status"
    assert snippet(template_text) == "отправлено. Я сообщу здесь."
    assert snippet("<b>Проверьте заявление</b>") == "Проверьте заявление"


def test_calibration_replaces_the_updates_ids() -> None:
    update = {
        "update_id": 5,
        "callback_query": {
            "id": "777",
            "data": "cs:y",
            "from": {"id": 42},
            "message": {"message_id": 9, "chat": {"id": 42}},
        },
    }
    assert signature(update) == "callback:cs:y"
    assert update_chat(update) == 42
    call = RecordedCall(
        seq=1,
        method="editMessageReplyMarkup",
        params={"chat_id": 42, "message_id": 9},
        files={},
        ok=True,
    )
    recorded = template(call, 42, update)
    assert recorded == {
        "method": "editMessageReplyMarkup",
        "params": {"chat_id": "$chat", "message_id": "$message"},
    }
    rebuilt = Call(recorded).build({"$chat": 1001, "$message": 3})
    assert (rebuilt.chat_id, rebuilt.message_id) == (1001, 3)


def test_signatures_of_messages() -> None:
    assert signature({"message": {"text": "/start x"}}) == "command:/start"
    assert signature({"message": {"text": "45 08 123456"}}) == "text"
    assert signature({"message": {"contact": {}}}) == "contact"
    assert signature({"message": {"photo": []}}) == "file"


def test_the_driver_collects_garbage_between_measured_phases_not_during_them() -> None:
    assert gc.isenabled()
    with driver_collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(RuntimeError), driver_collector_paused():
        raise RuntimeError("a phase that fails")
    assert gc.isenabled()  # a failed phase leaves the driver collecting again
