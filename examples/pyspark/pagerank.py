"""PageRank over a generated web graph, iterated with joins and reduceByKey.

sparkish-submit examples/pyspark/pagerank.py [ITERATIONS]
"""

import random
import sys
from operator import add

from pyspark.sql import SparkSession


def generated_links(pages, links_per_page):
    rng = random.Random(11)
    edges = set()
    for page in range(pages):
        for target in rng.sample(range(pages), links_per_page):
            if target != page:
                edges.add((f"page{page}", f"page{target}"))
    return sorted(edges)


def contributions(urls_and_rank):
    urls, rank = urls_and_rank
    urls = list(urls)
    for url in urls:
        yield url, rank / len(urls)


def main():
    spark = SparkSession.builder.appName("PythonPageRank").getOrCreate()
    iterations = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    edges = spark.sparkContext.parallelize(generated_links(200, 4), 4)
    links = edges.distinct().groupByKey().cache()
    ranks = links.map(lambda url_neighbors: (url_neighbors[0], 1.0))
    for _ in range(iterations):
        contribs = links.join(ranks).flatMap(lambda pair: contributions(pair[1]))
        ranks = contribs.reduceByKey(add).mapValues(lambda rank: rank * 0.85 + 0.15)
    top = sorted(ranks.collect(), key=lambda pair: (-round(pair[1], 6), pair[0]))[:10]
    for url, rank in top:
        print(f"{url} has rank {rank:.6f}")
    spark.stop()


if __name__ == "__main__":
    main()
