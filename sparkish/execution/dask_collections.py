"""Hand an RDD's partitions to plain Dask collections (``RDD.toDaskBag``)."""

from __future__ import annotations

from dask.delayed import Delayed
from dask.highlevelgraph import HighLevelGraph
from dask.task_spec import Task, TaskRef

from ..serialization import Block
from ..worker.finishers import materialize
from ..worker.plan import Node
from .jobs import JobRunner

__all__ = ["partition_delayed"]


def _records(block: Block) -> list:
    return list(block.records)


def partition_delayed(runner: JobRunner, node: Node, name: str, description: str) -> list[Delayed]:
    """One ``Delayed`` per partition of ``node``, each computing that partition as a list.

    The graph of every ``Delayed`` holds the tasks that compute its partition (and whatever they
    read); nothing runs until the Dask collection is computed.
    """
    builder = runner.new_graph()
    key_prefix = f"{name}-job{builder.job_id}-{runner.application_id}"
    for split in range(node.num_partitions):
        builder.add_task((key_prefix, split), node, materialize, split, description)
    delayed = []
    for split in range(node.num_partitions):
        key = f"{key_prefix}-list-{split}"
        graph = dict(builder.graph)
        graph[key] = Task(key, _records, TaskRef((key_prefix, split)))
        delayed.append(Delayed(key, HighLevelGraph({key: graph}, {key: set()})))
    return delayed
