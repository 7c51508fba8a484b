"""Word count: the most frequent words of text files (or of a generated text).

sparkish-submit examples/pyspark/wordcount.py [PATH]
spark-submit examples/pyspark/wordcount.py [PATH]       # the same program on PySpark
"""

import random
import sys
from operator import add

from pyspark.sql import SparkSession


def generated_lines(count):
    rng = random.Random(7)
    words = ["spark", "dask", "rdd", "shuffle", "task", "worker", "driver", "partition"]
    return [" ".join(rng.choices(words, k=rng.randint(1, 12))) for _ in range(count)]


def main():
    spark = SparkSession.builder.appName("PythonWordCount").getOrCreate()
    if len(sys.argv) > 1:
        lines = spark.read.text(sys.argv[1]).rdd.map(lambda row: row[0])
    else:
        lines = spark.sparkContext.parallelize(generated_lines(20_000), 8)
    counts = lines.flatMap(lambda line: line.split()).map(lambda word: (word, 1)).reduceByKey(add)
    for word, count in sorted(counts.collect(), key=lambda pair: (-pair[1], pair[0]))[:20]:
        print(f"{word}\t{count}")
    spark.stop()


if __name__ == "__main__":
    main()
