"""RDD partitions as Dask collections, and Dask collections as RDD partitions.

Going out (``toDaskBag``, ``toDF``): one ``Delayed`` per partition whose graph holds the RDD's
tasks, so the collection computes the partitions on the cluster when it is computed, and its
partitions stay on the workers. Coming in (``fromDaskBag``, ``fromDelayed``,
``fromDaskDataFrame``): the collection's optimized graph is merged into each job's graph and its
output keys feed the RDD's tasks, so nothing passes through the driver.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import dask
from dask.core import flatten
from dask.delayed import Delayed
from dask.highlevelgraph import HighLevelGraph
from dask.task_spec import TaskRef

from ..worker.plan import Node
from .graph import Finisher, GraphBuilder, Provider
from .jobs import JobRunner

__all__ = ["DaskGraphProvider", "collection_graph", "partition_delayed"]


def partition_delayed(
    runner: JobRunner, node: Node, finisher: Finisher, name: str, description: str
) -> list[Delayed]:
    """One ``Delayed`` per partition of ``node``, each computing ``finisher`` of that partition.

    The graph shared by the ``Delayed`` objects holds the tasks that compute the partitions (and
    whatever they read); nothing runs until the Dask collection is computed.
    """
    builder = runner.new_graph()
    key_prefix = f"{name}-job{builder.job_id}-{runner.application_id}"
    keys = [
        builder.add_task((key_prefix, split), node, finisher, split, description).key
        for split in range(node.num_partitions)
    ]
    graph = HighLevelGraph({key_prefix: dict(builder.graph)}, {key_prefix: set()})
    return [Delayed(key, graph, layer=key_prefix) for key in keys]


def _optimized(collection: Any) -> Any:
    if not isinstance(collection, Delayed) and type(collection).__module__.startswith(
        "dask.dataframe"
    ):
        return collection.optimize()  # a DataFrame expression is lowered before it has a graph
    (optimized,) = dask.optimize(collection)
    return optimized


def collection_graph(collections: Sequence[Any], operation: str) -> tuple[dict, list]:
    """The merged, optimized task graph of Dask collections and their output keys, in order.

    >>> import dask.bag as db
    >>> graph, keys = collection_graph([db.from_sequence([1, 2, 3], npartitions=2)], "fromDaskBag")
    >>> len(keys), all(key in graph for key in keys)
    (2, True)
    """
    graph: dict = {}
    keys: list = []
    for collection in collections:
        if not dask.is_dask_collection(collection):
            raise TypeError(
                f"{operation}: expected a Dask collection, got {type(collection).__name__}"
            )
        optimized = _optimized(collection)
        graph.update(optimized.__dask_graph__())
        keys.extend(flatten(optimized.__dask_keys__()))
    return graph, keys


class DaskGraphProvider(Provider):
    """Partitions computed by the tasks of a Dask graph, added to every job that reads them.

    Parameters
    ----------
    graph : mapping
        The collection's tasks.
    keys : list
        The key of each partition's task.
    """

    def __init__(self, graph: Mapping, keys: list) -> None:
        self.graph = graph
        self.keys = keys

    def graph_input(
        self,
        split: int,
        builder: GraphBuilder,
        exclusive: bool = True,
        within: range | None = None,
    ) -> Any:
        key = self.keys[split]
        if key not in builder.graph:
            builder.graph.update(self.graph)
        return TaskRef(key)
