"""Helpers shared by several test modules: polling, one task on every worker thread, and
deterministic text lines for the I/O tests."""

from __future__ import annotations

import os
import random
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sparkish import SparkContext


def wait_until(condition: Callable[[], Any], what: str, timeout: float) -> None:
    """Poll ``condition``; fail (rather than hang) if it is not true within ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {timeout} s waiting until {what}")
        time.sleep(0.02)


def on_every_slot(sc: SparkContext, function: Callable[[], Any], tmp_path: Path) -> list:
    """``[(pid, function())]`` from one task per worker thread, all running at the same time.

    Each task waits until as many tasks run as the cluster has threads, so every thread (and
    therefore every worker process) runs exactly one of them.
    """
    # Asked of the scheduler directly: scheduler_info() can return the client's periodically
    # refreshed copy, which carries no per-worker entries.
    slots = sum(sc.dask_client.nthreads().values())
    barrier = tmp_path / f"barrier-{uuid.uuid4().hex[:8]}"
    barrier.mkdir()

    def task(index: int) -> tuple[int, Any]:
        (barrier / f"{index}-{os.getpid()}").touch()
        deadline = time.monotonic() + 30
        while len(list(barrier.iterdir())) < slots and time.monotonic() < deadline:
            time.sleep(0.02)
        return os.getpid(), function()

    return sc.parallelize(range(slots), slots).map(task).collect()


_LINE_POOL_RANDOM = random.Random(20260801)
_LINE_POOL = [
    "".join(_LINE_POOL_RANDOM.choices("abcdefghijklmnopqrstuvwxyz  0123456789éüß€中𝄞", k=n))
    for n in (_LINE_POOL_RANDOM.randint(0, 120) for _ in range(997))
]


def _numbered_line(i: int, salt: int) -> str:
    return f"{salt}:{i:08d} {_LINE_POOL[(i * 7919 + salt) % 997]}"


def numbered_lines(count: int, salt: int = 0) -> list[str]:
    """Distinct lines: a running number plus varied ASCII and multi-byte text."""
    return [_numbered_line(i, salt) for i in range(count)]


def lines_totalling(target_bytes: int, salt: int = 0) -> list[str]:
    """The first :func:`numbered_lines` that reach ``target_bytes`` of UTF-8 with newlines."""
    lines, total = [], 0
    while total < target_bytes:
        line = _numbered_line(len(lines), salt)
        lines.append(line)
        total += len(line.encode()) + 1
    return lines


@contextmanager
def ungrouped(sc: SparkContext) -> Iterator[None]:
    """Run the jobs of the block with one task per partition (``sparkish.task.grouping=false``
    for this thread), for tests that count tasks per partition."""
    previous = sc.getLocalProperty(GROUPING)
    sc.setLocalProperty(GROUPING, "false")
    try:
        yield
    finally:
        sc.setLocalProperty(GROUPING, previous)


GROUPING = "sparkish.task.grouping"
