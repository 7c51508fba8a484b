"""K-means clustering of generated 2-D points, iterated with map and reduceByKey.

sparkish-submit examples/pyspark/kmeans.py [K] [ITERATIONS]
"""

import random
import sys

from pyspark.sql import SparkSession


def generated_points(count):
    rng = random.Random(3)
    centres = [(0.0, 0.0), (5.0, 5.0), (-4.0, 6.0), (6.0, -3.0)]
    points = []
    for _ in range(count):
        cx, cy = rng.choice(centres)
        points.append((cx + rng.gauss(0, 1), cy + rng.gauss(0, 1)))
    return points


def closest(point, centers):
    distances = [(point[0] - c[0]) ** 2 + (point[1] - c[1]) ** 2 for c in centers]
    return distances.index(min(distances))


def main():
    spark = SparkSession.builder.appName("PythonKMeans").getOrCreate()
    k = int(sys.argv[1]) if len(sys.argv) > 1 else 4
    iterations = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    points = spark.sparkContext.parallelize(generated_points(8_000), 8).cache()
    centers = points.take(k)
    for _ in range(iterations):
        assigned = points.map(lambda p, centers=centers: (closest(p, centers), (p[0], p[1], 1)))
        sums = assigned.reduceByKey(lambda a, b: (a[0] + b[0], a[1] + b[1], a[2] + b[2]))
        new_centers = dict(sums.mapValues(lambda s: (s[0] / s[2], s[1] / s[2])).collect())
        centers = [new_centers.get(i, centers[i]) for i in range(k)]
    for x, y in sorted(centers):
        print(f"center ({x:.4f}, {y:.4f})")
    spark.stop()


if __name__ == "__main__":
    main()
