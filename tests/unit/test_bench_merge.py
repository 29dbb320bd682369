"""`python -m bench --only ...` keeps the saved run's other items (bench/__main__.py merge)."""

from __future__ import annotations

import argparse
from typing import Any

from bench.__main__ import command, merge


def test_a_partial_run_replaces_its_items_and_keeps_the_rest() -> None:
    saved: dict[str, Any] = {
        "mode": "full",
        "machine": {"cores": 2},
        "pdf": {"qr_ratio": 1.5},
        "scaleout": {"old": True},
        "errors": {"scaleout": "TimeoutError()", "parked": "boom"},
        "targets": [],
    }
    run: dict[str, Any] = {
        "mode": "full",
        "command": 'make bench BENCH_ARGS="--only scaleout"',
        "started": "now",
        "machine": {"cores": 4},
        "seconds": 1.0,
        "scaleout": {"new": True},
    }
    merged = merge(saved, run)
    assert merged["scaleout"] == {"new": True} and merged["pdf"] == {"qr_ratio": 1.5}
    assert merged["machine"] == {"cores": 2}  # the full run's, as its items are
    assert merged["errors"] == {"parked": "boom"}  # the old failure of scaleout is gone
    [partial] = merged["partial_runs"]
    assert partial["items"] == ["scaleout"] and partial["machine"] == {"cores": 4}
    again = merge(merged, {**run, "started": "later"})
    assert [r["started"] for r in again["partial_runs"]] == ["later"]


def test_the_command_that_reproduces_a_run() -> None:
    args = argparse.Namespace(quick=True, only="scaleout", runs=None)
    assert command(args) == 'make bench BENCH_ARGS="--quick --only scaleout"'
    assert command(argparse.Namespace(quick=False, only=None, runs=None)) == "make bench"
