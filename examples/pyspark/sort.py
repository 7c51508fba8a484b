"""Sort generated records by key across partitions (a range-partitioned shuffle).

sparkish-submit examples/pyspark/sort.py [PATH]
"""

import random
import sys

from pyspark.sql import SparkSession


def main():
    spark = SparkSession.builder.appName("PythonSort").getOrCreate()
    if len(sys.argv) > 1:
        numbers = spark.read.text(sys.argv[1]).rdd.map(lambda row: int(row[0]))
    else:
        rng = random.Random(5)
        numbers = spark.sparkContext.parallelize([rng.randrange(10**6) for _ in range(50_000)], 8)
    ordered = numbers.map(lambda n: (n, 1)).sortByKey(numPartitions=4).keys()
    values = ordered.collect()
    assert values == sorted(values)
    print(f"sorted {len(values)} numbers into {ordered.getNumPartitions()} partitions")
    print("smallest:", values[:5])
    print("largest:", values[-5:])
    spark.stop()


if __name__ == "__main__":
    main()
