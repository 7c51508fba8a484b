"""Estimate pi by throwing darts at the unit square (seeded, so the result is reproducible).

sparkish-submit examples/pyspark/pi.py [PARTITIONS]
"""

import random
import sys
from operator import add

from pyspark.sql import SparkSession


def darts_inside(index, iterator):
    rng = random.Random(1000 + index)
    hits = 0
    for _ in iterator:
        x, y = rng.random() * 2 - 1, rng.random() * 2 - 1
        hits += x * x + y * y <= 1
    yield hits


def main():
    spark = SparkSession.builder.appName("PythonPi").getOrCreate()
    partitions = int(sys.argv[1]) if len(sys.argv) > 1 else 8
    n = 100_000 * partitions
    hits = (
        spark.sparkContext.parallelize(range(n), partitions)
        .mapPartitionsWithIndex(darts_inside)
        .reduce(add)
    )
    print(f"darts inside: {hits} of {n}")
    print(f"Pi is roughly {4.0 * hits / n:.6f}")
    spark.stop()


if __name__ == "__main__":
    main()
