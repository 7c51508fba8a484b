"""Transitive closure of a generated graph: join paths with edges until nothing new appears.

sparkish-submit examples/pyspark/transitive_closure.py
"""

import random

from pyspark.sql import SparkSession


def generated_graph(vertices, edges):
    rng = random.Random(23)
    graph = set()
    while len(graph) < edges:
        source, target = rng.randrange(vertices), rng.randrange(vertices)
        if source != target:
            graph.add((source, target))
    return sorted(graph)


#: Each round's union doubles the partitions unless the shuffles bring them back.
PARTITIONS = 4


def main():
    spark = SparkSession.builder.appName("PythonTransitiveClosure").getOrCreate()
    paths = spark.sparkContext.parallelize(generated_graph(60, 90), PARTITIONS).cache()
    # Edges reversed, so joining with paths extends each path by one edge.
    edges = paths.map(lambda edge: (edge[1], edge[0]))
    count, rounds = paths.count(), 0
    while True:
        rounds += 1
        longer = paths.join(edges, PARTITIONS).map(lambda triple: (triple[1][1], triple[1][0]))
        paths = paths.union(longer).distinct(PARTITIONS).cache()
        next_count = paths.count()
        if next_count == count:
            break
        count = next_count
    print(f"TC has {count} edges after {rounds} rounds")
    spark.stop()


if __name__ == "__main__":
    main()
