"""Micro-benchmarks of sparkish's fixed costs, each in a fresh process.

    python -m benchmarks.micro

- ``startup``: ``SparkContext("local[2]")`` until usable (target: at most 2 s).
- ``collect_1m``: ``collect()`` of 1,000,000 small tuples already persisted on the workers, i.e.
  the cost of moving results to the driver (target: well under a second).
- ``empty_job``: one action over 2 empty partitions (the per-job overhead).
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time

CHILD = r"""
import json, sys, time
t0 = time.perf_counter()
from sparkish import SparkContext, SparkConf
sc = SparkContext("local[2]", "micro", conf=SparkConf().set("spark.ui.port", "0"))
startup = time.perf_counter() - t0
rdd = sc.parallelize(range(1_000_000), 4).map(lambda i: (i, i % 7)).cache()
rdd.count()
t = time.perf_counter(); items = rdd.collect(); collect = time.perf_counter() - t
assert len(items) == 1_000_000 and items[-1] == (999_999, 999_999 % 7)
t = time.perf_counter(); sc.parallelize([], 2).count(); empty = time.perf_counter() - t
sc.stop()
print(json.dumps({"startup": startup, "collect_1m": collect, "empty_job": empty}))
"""


def run(repeats: int = 3) -> dict[str, list[float]]:
    samples: dict[str, list[float]] = {}
    for _ in range(repeats):
        output = subprocess.run(
            [sys.executable, "-c", CHILD], capture_output=True, text=True, check=True
        ).stdout
        for name, value in json.loads(output.strip().splitlines()[-1]).items():
            samples.setdefault(name, []).append(value)
    return samples


def main() -> None:
    started = time.perf_counter()
    samples = run()
    for name, values in samples.items():
        print(
            f"{name:12s} median {statistics.median(values):.3f} s  (min {min(values):.3f}, "
            f"max {max(values):.3f})"
        )
    print(f"({time.perf_counter() - started:.0f} s in all)")


if __name__ == "__main__":
    main()
