"""How RDDs lower onto Dask: fused narrow stages, opaque partitions, O(M + R) shuffles."""

from __future__ import annotations

import operator

from distributed import get_task_stream

from sparkish.serialization import Block
from tests.helpers import ungrouped


def _ten_step_chain(sc):
    rdd = sc.parallelize(range(1000), 8)
    rdd = rdd.map(lambda x: x + 1).filter(lambda x: x % 3).map(lambda x: x * 2)
    rdd = rdd.flatMap(lambda x: (x, -x)).filter(lambda x: x > 0).mapPartitions(lambda it: it)
    rdd = rdd.keyBy(lambda x: x % 10).mapValues(lambda v: v + 1).values()
    return rdd.mapPartitionsWithIndex(lambda i, it: it)


def _model():
    values = [x + 1 for x in range(1000)]
    values = [x * 2 for x in values if x % 3]
    return [x + 1 for x in values]


def test_ten_step_narrow_chain_runs_one_task_per_partition(sc):
    chain = _ten_step_chain(sc)
    with ungrouped(sc), get_task_stream(client=sc.dask_client) as stream:
        result = chain.collect()
    assert result == _model()
    assert sc._runtime.jobs.completed[-1].task_count == 8
    executed = {task["key"] for task in stream.data}
    assert len(executed) == 8, sorted(executed)


def test_count_runs_in_the_tasks(sc):
    chain = _ten_step_chain(sc)
    with ungrouped(sc), get_task_stream(client=sc.dask_client) as stream:
        assert chain.count() == len(_model())
    assert len({task["key"] for task in stream.data}) == 8


def test_persisted_partitions_are_opaque_blocks_on_the_workers(sc):
    rdd = sc.parallelize(range(200_000), 2).map(lambda x: (x, str(x))).cache()
    assert rdd.count() == 200_000
    keys = [future.key for future in rdd._materialized.held.futures()]

    def stored_types(dask_worker, keys=keys):
        return [type(dask_worker.data[key]).__name__ for key in keys if key in dask_worker.data]

    found = [name for names in sc.dask_client.run(stored_types).values() for name in names]
    assert sorted(found) == [Block.__name__, Block.__name__]
    rdd.unpersist()


def test_shuffle_graph_is_linear_in_map_and_reduce_partitions(sc):
    pairs = sc.parallelize(range(20_000), 200).map(lambda x: (x % 997, 1))
    counts = pairs.reduceByKey(operator.add, 200)
    with ungrouped(sc):
        result = dict(counts.collect())
    assert result == {k: len(range(k, 20_000, 997)) for k in range(997)}
    tasks = sc._runtime.jobs.completed[-1].task_count
    assert tasks == 200 + 1 + 200  # map tasks, the barrier, reduce tasks (never 200 x 200)
