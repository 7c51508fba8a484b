"""Hand an RDD's partitions to plain Dask collections."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dask.delayed import Delayed

if TYPE_CHECKING:
    from .rdd import RDD


def _records(block) -> list:
    return list(block.records)


def rdd_partition_delayed(rdd: RDD) -> list[Delayed]:
    """One ``Delayed`` per partition, each computing that partition's records as a list."""
    from dask._task_spec import Task, TaskRef
    from dask.highlevelgraph import HighLevelGraph

    from ._execution import GraphBuilder
    from ._plan import materialize

    runner = rdd.ctx._job_runner
    builder = GraphBuilder(runner, next(runner.job_ids))
    node = rdd._node()
    name = f"sparkish-rdd{rdd.id()}-job{builder.job_id}-{rdd.ctx.applicationId}"
    delayed = []
    for split in range(node.num_partitions):
        builder.add_task((name, split), node, materialize, split, f"toDaskBag of {rdd!r}")
    for split in range(node.num_partitions):
        key = f"{name}-list-{split}"
        graph = dict(builder.graph)
        graph[key] = Task(key, _records, TaskRef((name, split)))
        delayed.append(Delayed(key, HighLevelGraph({key: graph}, {key: set()})))
    return delayed
