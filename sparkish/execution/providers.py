"""Graph inputs of plan leaves that are not shuffles: literal values and persisted partitions."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from dask.task_spec import TaskRef

from ..worker.finishers import materialize
from ..worker.plan import Node
from .graph import Finisher, GraphBuilder, HeldFutures, Provider, group_key
from .grouping import consecutive_runs, estimated_sizes

if TYPE_CHECKING:
    from distributed import Future

__all__ = ["LiteralProvider", "MaterializedProvider"]


class LiteralProvider(Provider):
    """Partitions embedded in the graph as literal values (parallelize slices, file splits).

    >>> LiteralProvider(["a", "b"]).graph_input(1, None)
    'b'
    """

    def __init__(self, values: list) -> None:
        self.values = values

    def graph_input(
        self, split: int, builder: Any, exclusive: bool = True, within: range | None = None
    ) -> Any:
        return self.values[split]

    def partition_sizes(self, builder: GraphBuilder) -> list[int] | None:
        """The values' ``num_bytes`` (pickled slices, file splits), None if one has none.

        >>> LiteralProvider(["a"]).partition_sizes(None) is None
        True
        """
        sizes = [getattr(value, "num_bytes", None) for value in self.values]
        if any(size is None for size in sizes):
            return None
        return sizes  # type: ignore[return-value]


class MaterializedProvider(Provider):
    """Partitions computed by their own tasks and kept on the workers after the job.

    Used for persisted RDDs: the first job that needs a partition adds a task computing it and
    holds on to its future; later jobs refer to the held result, which Dask recomputes from the
    same task if the worker holding it is lost.

    Parameters
    ----------
    name : str
        Prefix of the tasks' keys, unique per persisted RDD.
    node_factory : callable
        Builds the plan computing the RDD's partitions (called once per job that needs it).
    description : str
        What the tasks compute, for errors and the dashboard.
    finisher : callable
        Turns a partition's records into the held result (in memory or on disk).
    """

    def __init__(
        self,
        name: str,
        node_factory: Callable[[], Node],
        description: str,
        finisher: Finisher = materialize,
    ) -> None:
        self.name = name
        self.node_factory = node_factory
        self.description = description
        self.finisher = finisher
        self.held = HeldFutures()

    def graph_input(
        self,
        split: int,
        builder: GraphBuilder,
        exclusive: bool = True,
        within: range | None = None,
    ) -> Any:
        future = self.held.live(split)
        if future is not None:
            builder.external_futures.append(future)
            return TaskRef(future.key)
        key = builder.planned(self, split)
        if key is None:
            self._plan_tasks(split, builder, within or range(split, split + 1))
            key = builder.planned(self, split)
        return TaskRef(key)

    def _plan_tasks(self, split: int, builder: GraphBuilder, within: range) -> None:
        """Add tasks computing the partitions in ``within`` that are neither held nor planned
        in this job, one per run of consecutive partitions: a group of readers gets its input
        from one task, and a partition is computed once per job."""
        missing = [
            member
            for member in within
            if member == split
            or (builder.planned(self, member) is None and self.held.live(member) is None)
        ]
        node = builder.node_of(self, self.node_factory)
        runs = consecutive_runs(missing)
        if not builder.can_group(node):
            runs = [range(member, member + 1) for member in missing]
        for run in runs:
            key = group_key(f"{self.name}-{self.held.generation(run.start)}", run)
            builder.add_task(key, node, self.finisher, run, self.description)
            for member in run:
                builder.plan(self, member, key)
                builder.hold(self, member, key)

    def partition_sizes(self, builder: GraphBuilder) -> list[int] | None:
        return estimated_sizes(builder.node_of(self, self.node_factory), builder)

    def attach(self, split: int, future: Future) -> None:
        self.held.hold(split, future)

    def is_complete(self, num_partitions: int) -> bool:
        """Whether every partition has been computed and is held."""
        return self.held.finished(range(num_partitions))

    def release(self) -> None:
        self.held.release()
