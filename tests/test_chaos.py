"""Chaos: a pipeline keeps giving exact results while its local workers are killed at random.

A background thread SIGKILLs a random worker process of a ``local[2]`` cluster every few
seconds while a pipeline with two shuffles, a join, a cached RDD and a ``saveAsTextFile`` runs
again and again. Every run must equal the plain-Python reference, and every output directory
must be complete (all parts and ``_SUCCESS``, nothing else).

CI runs it short. A longer run: ``SPARKISH_CHAOS_RUNS=100 SPARKISH_CHAOS_RECORDS=2000000
python -m pytest tests/test_chaos.py``.
"""

from __future__ import annotations

import operator
import os
import random
import signal
import threading
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from sparkish import SparkConf, SparkContext

RUNS = int(os.environ.get("SPARKISH_CHAOS_RUNS", "10"))
RECORDS = int(os.environ.get("SPARKISH_CHAOS_RECORDS", "200000"))
KILL_EVERY_SECONDS = float(os.environ.get("SPARKISH_CHAOS_KILL_EVERY", "2"))
KEYS = 101


class WorkerKiller(threading.Thread):
    """SIGKILLs a random running worker process of ``sc``'s local cluster (one that joined the
    scheduler) about every ``interval`` seconds."""

    def __init__(self, sc: SparkContext, interval: float, seed: int) -> None:
        super().__init__(name="chaos-worker-killer", daemon=True)
        self.client = sc.dask_client
        self.cluster = sc._runtime.cluster
        self.interval = interval
        self.random = random.Random(seed)
        self.stopped = threading.Event()
        self.kills = 0

    def run(self) -> None:
        while not self.stopped.wait(self.interval * self.random.uniform(0.5, 1.5)):
            workers = self.client.scheduler_info(n_workers=-1)["workers"].values()
            joined = {worker["name"] for worker in workers}
            pids = sorted(pid for name, pid in self.cluster.worker_pids.items() if name in joined)
            if not pids:
                continue
            try:
                os.kill(self.random.choice(pids), signal.SIGKILL)
                self.kills += 1
            except ProcessLookupError:  # already dead and being replaced
                pass


def reference(records: int) -> tuple[list, list[str], int]:
    """The pipeline below in plain Python."""
    sums: dict[int, int] = defaultdict(int)
    counts: Counter = Counter()
    for x in range(records):
        sums[x % KEYS] += x
        counts[x % KEYS] += 1
    joined = sorted((key, (sums[key], counts[key])) for key in sums)
    lines = sorted(f"{key}\t{total}\t{count}" for key, (total, count) in joined)
    return joined, lines, len(counts)


def run_pipeline(sc: SparkContext, records: int, output: Path) -> tuple[list, int]:
    pairs = sc.parallelize(range(records), 16).map(lambda x: (x % KEYS, x))
    sums = pairs.reduceByKey(operator.add, 8)  # shuffle 1
    counts = pairs.map(lambda kv: (kv[0], 1)).reduceByKey(operator.add, 4).cache()  # shuffle 2
    joined = sums.join(counts, 6)  # a third shuffle
    joined.map(lambda kv: f"{kv[0]}\t{kv[1][0]}\t{kv[1][1]}").saveAsTextFile(str(output))
    result = sorted(joined.collect())
    cached_keys = counts.count()
    counts.unpersist()
    return result, cached_keys


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_a_pipeline_survives_workers_killed_at_random(no_context: None, tmp_path: Path) -> None:
    expected, expected_lines, expected_keys = reference(RECORDS)
    conf = SparkConf().set("spark.ui.enabled", "false")
    sc = SparkContext("local[2]", "chaos", conf=conf)
    killer = WorkerKiller(sc, KILL_EVERY_SECONDS, seed=12)
    killer.start()
    try:
        for run in range(RUNS):
            output = tmp_path / f"run-{run}"
            result, cached_keys = run_pipeline(sc, RECORDS, output)
            assert result == expected, f"run {run}"
            assert cached_keys == expected_keys, f"run {run}"
            names = sorted(path.name for path in output.iterdir())
            assert names == ["_SUCCESS"] + [f"part-{index:05d}" for index in range(6)], names
            lines = [
                line
                for part in names[1:]
                for line in (output / part).read_text().split("\n")
                if line
            ]
            assert sorted(lines) == expected_lines, f"run {run}"
    finally:
        killer.stopped.set()
        killer.join()
        sc.stop()
    print(f"{RUNS} runs of {RECORDS} records, {killer.kills} workers killed")
    assert killer.kills >= 1, "no worker was killed: the test proved nothing"
