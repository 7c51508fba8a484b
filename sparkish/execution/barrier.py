"""Barrier stages: all tasks of a stage run together and can wait for each other.

``rdd.barrier().mapPartitions(f)`` marks a stage as a barrier stage (as in Spark, for
distributed training launchers). Before such a job is submitted, the driver checks that the
cluster has a thread for every task of the stage, and fails at once otherwise. The tasks meet
through a handler on the Dask scheduler (:class:`BarrierSchedulerPlugin`): a task calling
``BarrierTaskContext.barrier()`` or ``allGather()`` waits there until every task of the stage has
arrived. When the job fails, its barriers are aborted, so no task keeps waiting.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from distributed.diagnostics.plugin import SchedulerPlugin

from ..taskcontext import BARRIER_SYNC_HANDLER

if TYPE_CHECKING:
    from distributed import Client

__all__ = ["BARRIER_ABORT_HANDLER", "BarrierCoordinator", "BarrierSchedulerPlugin"]

BARRIER_ABORT_HANDLER = "sparkish_barrier_abort"
_PLUGIN_NAME = "sparkish-barriers"
#: Aborted barriers remembered, so late tasks of a failed stage fail too.
_ABORTED_KEPT = 1000


class _Round:
    """The tasks that reached one barrier call, and whether all of them did."""

    def __init__(self) -> None:
        self.messages: dict[int, Any] = {}
        self.complete = asyncio.Event()
        self.released = 0


class BarrierSchedulerPlugin(SchedulerPlugin):
    """Scheduler side of barrier stages: the meeting point of their tasks."""

    idempotent = True
    name = _PLUGIN_NAME

    def __init__(self) -> None:
        self.rounds: dict[tuple[str, int], _Round] = {}
        self.aborted: OrderedDict[str, str] = OrderedDict()

    async def start(self, scheduler: Any) -> None:
        scheduler.handlers[BARRIER_SYNC_HANDLER] = self.sync
        scheduler.handlers[BARRIER_ABORT_HANDLER] = self.abort

    async def sync(
        self,
        barrier_id: str,
        round: int,
        partition: int,
        message: Any,
        count: int,
        timeout: float,
    ) -> dict:
        """Wait until ``count`` tasks reached round ``round`` of a barrier; their messages."""
        if barrier_id in self.aborted:
            return {"error": self.aborted[barrier_id]}
        key = (barrier_id, round)
        state = self.rounds.setdefault(key, _Round())
        state.messages[partition] = message
        if len(state.messages) >= count:
            state.complete.set()
        try:
            await asyncio.wait_for(state.complete.wait(), timeout)
        except asyncio.TimeoutError:
            self._abort(
                barrier_id,
                f"only {len(state.messages)} of the stage's {count} tasks reached barrier "
                f"call {round} within {timeout:g} s (spark.barrier.sync.timeout)",
            )
        if barrier_id in self.aborted:
            self.rounds.pop(key, None)
            return {"error": self.aborted[barrier_id]}
        state.released += 1
        if state.released == count:
            del self.rounds[key]
        return {"messages": [state.messages[p] for p in sorted(state.messages)]}

    def abort(self, barrier_ids: list[str], reason: str) -> None:
        """Release every task waiting at these barriers with an error."""
        for barrier_id in barrier_ids:
            self._abort(barrier_id, reason)

    def _abort(self, barrier_id: str, reason: str) -> None:
        self.aborted[barrier_id] = f"the barrier stage was aborted: {reason}"
        while len(self.aborted) > _ABORTED_KEPT:
            self.aborted.popitem(last=False)
        for (waiting_id, _), state in self.rounds.items():
            if waiting_id == barrier_id:
                state.complete.set()


class BarrierCoordinator:
    """Driver side of barrier stages for one client.

    Parameters
    ----------
    client : distributed.Client
        The client whose scheduler hosts the barriers.
    """

    def __init__(self, client: Client) -> None:
        self.client = client
        self._installed = False

    def prepare(self, tasks: int) -> None:
        """Check that a barrier stage of ``tasks`` tasks can run all at once; install the
        scheduler handler on first use."""
        workers = self.client.scheduler_info(n_workers=-1)["workers"].values()
        slots = sum(worker.get("nthreads", 1) for worker in workers)
        if tasks > slots:
            raise RuntimeError(
                f"A barrier stage needs all its {tasks} tasks to run at once, but the cluster "
                f"has {slots} task slots (worker threads) now. Start more workers or threads, "
                "or repartition the input to fewer partitions (Spark's "
                "BarrierJobSlotsNumberCheckFailed)."
            )
        if not self._installed:
            self.client.register_plugin(BarrierSchedulerPlugin())
            self._installed = True

    def abort(self, barrier_ids: list[str], reason: str) -> None:
        """Release the tasks waiting at these barriers (the job failed or was cancelled)."""
        if not barrier_ids or not self._installed:
            return
        handler = getattr(self.client.scheduler, BARRIER_ABORT_HANDLER)
        self.client.sync(handler, barrier_ids=barrier_ids, reason=reason)
