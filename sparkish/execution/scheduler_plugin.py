"""The scheduler-side half of accumulators.

A task that updated accumulators leaves ``[app_id, pickled updates]`` in its metadata. The
scheduler forwards a task's metadata to plugins only when the task's result is accepted (its
transition to "memory"), so failed and superseded attempts never count. The plugin buffers the
updates per application until the driver pops them at the end of each job.
"""

from __future__ import annotations

from collections import defaultdict

from distributed.diagnostics.plugin import SchedulerPlugin

from ..worker.task import ACCUMULATOR_METADATA_KEY

PLUGIN_NAME = "sparkish-accumulators"
POP_HANDLER = "sparkish_pop_accumulator_updates"


class AccumulatorSchedulerPlugin(SchedulerPlugin):
    idempotent = True
    name = PLUGIN_NAME

    def __init__(self) -> None:
        self.pending: dict[str, list[bytes]] = defaultdict(list)
        # Keys whose updates were counted: a result recomputed after its worker died (the key
        # was never released) must not count again.
        self.counted: set = set()

    async def start(self, scheduler) -> None:
        scheduler.handlers[POP_HANDLER] = self.pop

    def transition(self, key, start, finish, *args, **kwargs) -> None:
        if finish == "forgotten":
            self.counted.discard(key)
            return
        if finish != "memory":
            return
        metadata = kwargs.get("metadata")
        if metadata and ACCUMULATOR_METADATA_KEY in metadata and key not in self.counted:
            app_id, payload = metadata[ACCUMULATOR_METADATA_KEY]
            self.counted.add(key)
            self.pending[app_id].append(payload)

    def pop(self, app_id: str) -> list[bytes]:
        return self.pending.pop(app_id, [])
