"""Counters of one worker process, served with Dask's own on the worker's ``/metrics``.

What happens outside tasks (a worker receiving shuffle buckets on its event loop and buffering
them on disk) cannot travel in task metadata; the worker counts it itself. The counters are
created on first use, so processes that never receive shuffle data (the driver of a local
cluster, which hosts the scheduler) do not publish them.

>>> count_spilled_bytes(0)
"""

from __future__ import annotations

import threading

from prometheus_client import REGISTRY, Counter

from .catalog import SHUFFLE_SPILLED_BYTES

__all__ = ["count_spilled_bytes"]

_lock = threading.Lock()
_spilled: Counter | None = None


def _spilled_counter() -> Counter:
    global _spilled
    with _lock:
        if _spilled is None:
            _spilled = Counter(
                SHUFFLE_SPILLED_BYTES.name, SHUFFLE_SPILLED_BYTES.help, registry=REGISTRY
            )
        return _spilled


def count_spilled_bytes(amount: int) -> None:
    """Count shuffle bytes this worker buffered on its local disk."""
    if amount > 0:
        (_spilled or _spilled_counter()).inc(amount)
