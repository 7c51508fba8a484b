"""Word count, the classic PySpark RDD job, on sparkish's embedded local cluster.

    python examples/wordcount.py                 # generates a small corpus first
    python examples/wordcount.py 'data/*.txt'    # counts words in your own files

The only line that differs from the PySpark version is the import.
"""

import os
import random
import string
import sys
import tempfile
from operator import add

from sparkish import SparkContext


def generate_corpus(directory: str, files: int = 4, lines_per_file: int = 20_000) -> str:
    """Write a few text files of Zipf-distributed words and return a glob matching them."""
    rng = random.Random(42)
    vocabulary = sorted(
        {
            "".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(3, 9)))
            for _ in range(5_000)
        }
    )
    weights = [1.0 / rank for rank in range(1, len(vocabulary) + 1)]
    for index in range(files):
        with open(os.path.join(directory, f"part-{index:05d}.txt"), "w") as f:
            for _ in range(lines_per_file):
                f.write(" ".join(rng.choices(vocabulary, weights, k=rng.randint(5, 15))) + "\n")
    return os.path.join(directory, "*.txt")


sc = SparkContext("local[*]", "wordcount")
print(f"Dask dashboard: {sc.uiWebUrl}")

path = sys.argv[1] if len(sys.argv) > 1 else generate_corpus(tempfile.mkdtemp(prefix="words-"))
counts = sc.textFile(path).flatMap(lambda line: line.split()).map(lambda w: (w, 1)).reduceByKey(add)

print(f"{counts.count()} distinct words; the 10 most frequent:")
for word, count in counts.takeOrdered(10, key=lambda pair: -pair[1]):
    print(f"{count:>8}  {word}")
sc.stop()
