"""Graph inputs of plan leaves that are not shuffles: literal values and persisted partitions."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from dask.task_spec import TaskRef

from ..worker.finishers import materialize
from ..worker.plan import Node
from .graph import Finisher, GraphBuilder, HeldFutures, Provider

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

    def graph_input(self, split: int, builder: Any, exclusive: bool = True) -> Any:
        return self.values[split]


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

    def key(self, split: int) -> tuple[str, int]:
        return (f"{self.name}-{self.held.generation(split)}", split)

    def graph_input(self, split: int, builder: GraphBuilder, exclusive: bool = True) -> Any:
        future = self.held.live(split)
        if future is not None:
            builder.external_futures.append(future)
            return TaskRef(future.key)
        key = self.key(split)
        if key not in builder.graph:
            node = builder.node_of(self, self.node_factory)
            builder.add_task(key, node, self.finisher, split, self.description)
            builder.hold(self, split, key)
        return TaskRef(key)

    def attach(self, split: int, future: Future) -> None:
        self.held.hold(split, future)

    def is_complete(self, num_partitions: int) -> bool:
        """Whether every partition has been computed and is held."""
        return self.held.finished(range(num_partitions))

    def release(self) -> None:
        self.held.release()
