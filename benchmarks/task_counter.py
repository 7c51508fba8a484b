"""Count the tasks a Dask scheduler ran during a job, from the scheduler itself.

A :class:`TaskCounter` is a scheduler plugin: the scheduler calls its ``transition`` hook for
every state change of every task, so the count does not depend on how a framework names,
groups or fuses its tasks, nor on a bounded log. A task counts once each time a worker finishes
running it (``processing`` to ``memory`` or ``erred``); a task run again after a worker was lost
counts again, because it cost again. The runner registers the plugin after start-up and reads
the count after the timed job, both through the public ``Client`` API, so neither the
registration nor the read is inside the timed region.

>>> counter = TaskCounter()
>>> counter.transition("x", "processing", "memory")
>>> counter.transition("x", "memory", "released")
>>> counter.finished
1
"""

from __future__ import annotations

from typing import Any

from distributed import Client
from distributed.diagnostics.plugin import SchedulerPlugin

PLUGIN_NAME = "benchmark-task-counter"
# The states a task leaves "processing" for when a worker has run it to its end.
_RAN_TO_AN_END = ("memory", "erred")


class TaskCounter(SchedulerPlugin):
    """Counts the tasks that workers ran to an end (``processing`` -> ``memory``/``erred``)."""

    name = PLUGIN_NAME

    def __init__(self) -> None:
        self.finished = 0

    def transition(self, key: Any, start: str, finish: str, *args: Any, **kwargs: Any) -> None:
        if start == "processing" and finish in _RAN_TO_AN_END:
            self.finished += 1


def _read_count(dask_scheduler: Any) -> int:
    return dask_scheduler.plugins[PLUGIN_NAME].finished


def _reset_count(dask_scheduler: Any) -> bool:
    counter = dask_scheduler.plugins.get(PLUGIN_NAME)
    if counter is None:
        return False
    counter.finished = 0
    return True


def start_counting(client: Client) -> None:
    """Count from zero on ``client``'s scheduler, registering a :class:`TaskCounter` if needed."""
    if not client.run_on_scheduler(_reset_count):
        client.register_plugin(TaskCounter(), name=PLUGIN_NAME)


def tasks_counted(client: Client) -> int:
    """Tasks that workers ran to an end since :func:`start_counting`."""
    return int(client.run_on_scheduler(_read_count))
