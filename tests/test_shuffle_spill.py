"""A shuffle several times larger than a worker's memory limit spills to disk and completes."""

from __future__ import annotations

import pytest

from sparkish import SparkConf, SparkContext

WORKER_MEMORY_MIB = 300
RECORDS = 900_000  # x 1 KiB values = about 3 times one worker's memory limit
VALUE_BYTES = 1000


def _record(i: int) -> tuple[int, bytes]:
    return (i % 5000, bytes([i % 251]) * VALUE_BYTES)


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_group_by_key_larger_than_worker_memory(no_context):
    conf = SparkConf().set("spark.ui.enabled", "false")
    sc = SparkContext(f"local-cluster[2, 1, {WORKER_MEMORY_MIB}]", "spill", conf=conf)
    try:
        pids = dict(sc._runtime.cluster.worker_pids)
        grouped = sc.parallelize(range(RECORDS), 90).map(_record).groupByKey(64)
        sizes = dict(grouped.mapValues(lambda values: sum(len(v) for v in values)).collect())
        assert len(sizes) == 5000
        assert sum(sizes.values()) == RECORDS * VALUE_BYTES
        per_key = RECORDS // 5000
        assert set(sizes.values()) == {per_key * VALUE_BYTES}
        # No worker was lost to memory pressure: the same processes did all the work.
        assert sc._runtime.cluster.worker_pids == pids
        assert sc._runtime.cluster.restarts == 0
    finally:
        sc.stop()
