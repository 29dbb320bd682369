"""`python -m bot` counting its SQLite statements, for bench/hops.py: SIGUSR1 starts counting,
SIGUSR2 writes what was counted since to $BENCH_HOPS_DIR/<n>.json (n = 1, 2, ...). Each statement
(storage.database's one door to sqlite3) is recorded by where it ran, "loop" (handling updates)
or "thread" (aiosqlite's, for background work), and its first words; any other round trip to
aiosqlite's thread (opening, closing) by its function's name.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

OUT = Path(os.environ.get("BENCH_HOPS_DIR", "."))
_state: dict[str, Any] = {"on": False, "count": 0, "hops": Counter()}


def hop_label(fn: Any, args: tuple[Any, ...]) -> str:
    """What a call ran: the SQL's first words when it carries a statement, else the function;
    `fn` may be a name already."""
    name = fn if isinstance(fn, str) else getattr(fn, "__name__", type(fn).__name__)
    texts = [arg for arg in args if isinstance(arg, str)]
    if texts:  # the statement comes last (storage.database's _run takes BEGIN before it)
        return f"{name}: {' '.join(texts[-1].split()[:4])}"
    return name


def count_statements(record: Callable[[str], None]) -> Callable[[], None]:
    """Call `record` with each SQLite statement's label (where it ran, "loop" or "thread", and
    its first words) and with any other call on aiosqlite's thread; returns the undo."""
    import aiosqlite.core

    import storage.database

    run = storage.database._run
    thread_call = aiosqlite.core.Connection._execute

    def counted_run(*args: Any) -> Any:
        where = "loop" if threading.current_thread() is threading.main_thread() else "thread"
        record(hop_label(where, args))
        return run(*args)

    async def counted_call(self: Any, fn: Any, *args: Any, **kwargs: Any) -> Any:
        if fn is not counted_run:
            record(hop_label(fn, args))
        return await thread_call(self, fn, *args, **kwargs)

    storage.database._run = counted_run  # type: ignore[assignment]
    aiosqlite.core.Connection._execute = counted_call  # type: ignore[method-assign]

    def undo() -> None:
        storage.database._run = run  # type: ignore[assignment]
        aiosqlite.core.Connection._execute = thread_call  # type: ignore[method-assign]

    return undo


def _count(label: str) -> None:
    if _state["on"]:
        _state["hops"][label] += 1


def _start(*_: object) -> None:
    _state["hops"] = Counter()
    _state["on"] = True


def _stop(*_: object) -> None:
    _state["on"] = False
    _state["count"] += 1
    path = OUT / f"{_state['count']}.json"
    path.with_suffix(".tmp").write_text(json.dumps(dict(_state["hops"])), encoding="utf-8")
    path.with_suffix(".tmp").rename(path)


def main() -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    signal.signal(signal.SIGUSR1, _start)
    signal.signal(signal.SIGUSR2, _stop)
    count_statements(_count)
    from bot.__main__ import main as bot_main

    return bot_main()


if __name__ == "__main__":
    sys.exit(main())
