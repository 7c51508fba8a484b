"""Logistic regression by batch gradient descent over generated labelled points (numpy).

sparkish-submit examples/pyspark/logistic_regression.py [ITERATIONS]
"""

import sys

import numpy as np
from pyspark.sql import SparkSession

DIMENSIONS = 5


def generated_points(count):
    rng = np.random.default_rng(17)
    truth = np.array([1.5, -2.0, 0.5, 0.0, 3.0])
    features = rng.normal(size=(count, DIMENSIONS))
    labels = (features @ truth + rng.normal(scale=0.5, size=count) > 0).astype(float)
    return [(float(label), row.tolist()) for label, row in zip(labels, features)]


def gradient(point, weights):
    label, features = point
    x = np.array(features)
    y = 2 * label - 1
    return x * (1 / (1 + np.exp(-y * weights.dot(x))) - 1) * y


def main():
    spark = SparkSession.builder.appName("PythonLR").getOrCreate()
    iterations = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    points = spark.sparkContext.parallelize(generated_points(10_000), 8).cache()
    count = points.count()
    weights = np.zeros(DIMENSIONS)
    for _ in range(iterations):
        gradients = points.map(lambda p, w=weights: gradient(p, w))
        total = gradients.reduce(lambda a, b: a + b)
        weights = weights - total / count
    print("final weights:", " ".join(f"{w:.5f}" for w in weights))
    spark.stop()


if __name__ == "__main__":
    main()
