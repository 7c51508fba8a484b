"""What one task counts while it runs: shuffle records and bytes, input and output bytes.

Worker-side code adds to the running task's counts with :func:`add` (a thread-local dict, so
concurrent tasks of one worker never mix). When the task succeeds, its counts travel to the
scheduler in the task's metadata, which the scheduler hands to plugins only for accepted
results: a failed attempt never counts, and sparkish's scheduler plugin counts a key once even
when it is recomputed after a worker loss.

A labelled count is named ``<counter>:<label value>`` (e.g. ``input_bytes:hdfs``).

>>> begin_task(enabled=True)
>>> add(SHUFFLE_RECORDS_WRITTEN, 3); add(SHUFFLE_RECORDS_WRITTEN, 2)
>>> add_labelled(INPUT_BYTES, "file", 10)
>>> end_task()
{'shuffle_records_written': 5, 'input_bytes:file': 10}
>>> end_task() is None
True
"""

from __future__ import annotations

import threading

__all__ = [
    "INPUT_BYTES",
    "METADATA_KEY",
    "OUTPUT_BYTES",
    "OUTPUT_RECORDS",
    "SHUFFLE_BYTES_READ",
    "SHUFFLE_BYTES_WRITTEN",
    "SHUFFLE_RECORDS_READ",
    "SHUFFLE_RECORDS_WRITTEN",
    "TASK_START_TOPIC",
    "add",
    "add_labelled",
    "begin_task",
    "end_task",
]

#: Name of the task metadata entry holding a task's counts.
METADATA_KEY = "sparkish-metrics"
#: Topic of the event a worker logs when a sparkish task starts (the scheduler plugin's input
#: for "tasks running now").
TASK_START_TOPIC = "sparkish-task-start"

SHUFFLE_RECORDS_WRITTEN = "shuffle_records_written"
SHUFFLE_BYTES_WRITTEN = "shuffle_bytes_written"
SHUFFLE_RECORDS_READ = "shuffle_records_read"
SHUFFLE_BYTES_READ = "shuffle_bytes_read"
INPUT_BYTES = "input_bytes"
OUTPUT_BYTES = "output_bytes"
OUTPUT_RECORDS = "output_records"

_local = threading.local()


def begin_task(enabled: bool = True) -> None:
    """Start counting for the task running in this thread (``enabled=False``: count nothing)."""
    _local.counts = {} if enabled else None


def add(name: str, amount: int) -> None:
    """Add ``amount`` to the running task's counter ``name`` (nothing outside a task)."""
    counts = getattr(_local, "counts", None)
    if counts is not None and amount:
        counts[name] = counts.get(name, 0) + amount


def add_labelled(name: str, label: str, amount: int) -> None:
    """Add ``amount`` to counter ``name`` for one label value (a protocol, say)."""
    add(f"{name}:{label}", amount)


def end_task() -> dict[str, int] | None:
    """Stop counting; the task's counts, or None when it counted nothing."""
    counts = getattr(_local, "counts", None)
    _local.counts = None
    return counts or None
