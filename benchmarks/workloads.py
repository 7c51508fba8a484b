"""Workload definitions of WORKLOADS.md: parameters per size, and the expected results.

A :class:`WorkloadParams` is everything a runner needs to run one workload at one size; it is
passed to the runner process as JSON. The expected result of every workload is derived without
running any job: the wordcount counts come from the corpus generator's manifest, the shuffle
results from a closed form (the key function is a bijection modulo 10**6), and pi from the
statistical bound. At the full size the published WORKLOADS.md checksums are used directly, and
the tests check that the derivations reproduce them.

>>> params = workload_params("reduce", size="tiny")
>>> params.name, params.n, params.map_partitions, params.reduce_partitions
('reduce', 50000, 32, 32)
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from benchmarks.corpus import (
    FULL_BYTES_PER_FILE,
    FULL_FILE_COUNT,
    TINY_BYTES_PER_FILE,
    items_digest,
)

WORKLOAD_NAMES = ("wordcount", "pi", "pi_large", "reduce", "group", "bucket", "bucket-xl")
#: The workloads whose job is ``reduceByKey(add)`` over ``make_pair`` records.
REDUCE_WORKLOADS = ("reduce", "bucket", "bucket-xl")
SIZES = ("full", "tiny")

KEY_MULTIPLIER = 2654435761
KEY_SPACE = 1_000_000
VALUE_MODULUS = 1000

# (workload, n) -> (len(items), sum of values, digest) as published in WORKLOADS.md.
PUBLISHED_PAIR_CHECKS: dict[tuple[str, int], tuple[int, int, str]] = {
    ("wordcount", 13_097_105): (50_000, 13_097_105, "47f380346f3ca0f7"),
    ("reduce", 10_000_000): (1_000_000, 4_995_000_000, "1155c05e931c1996"),
    ("group", 10_000_000): (1_000_000, 10_000_000, "c71b8caaf0df5da4"),
    ("bucket", 2_000_000): (1_000_000, 999_000_000, "5fbace6ca516b2b6"),
    ("bucket-xl", 20_000_000): (1_000_000, 9_990_000_000, "2c72f8376e9a04ce"),
}

# Seconds a run of the workload may take before its process tree is killed, where the harness's
# --timeout is not meant to apply: bucket-xl gives the peers issue 13's 600 s.
WORKLOAD_TIMEOUTS_S: dict[str, float] = {"bucket-xl": 600.0}

# name -> (n, M, R) at full size and at tiny size. wordcount's n is unused (the corpus decides).
_SHAPES: dict[str, dict[str, tuple[int, int, int]]] = {
    "full": {
        "wordcount": (0, FULL_FILE_COUNT, 8),
        "pi": (10_000_000, 8, 0),
        "pi_large": (50_000_000, 8, 0),
        "reduce": (10_000_000, 32, 32),
        "group": (10_000_000, 32, 32),
        "bucket": (2_000_000, 1000, 1000),
        "bucket-xl": (20_000_000, 4472, 4472),
    },
    "tiny": {
        "wordcount": (0, FULL_FILE_COUNT, 8),
        "pi": (100_000, 8, 0),
        "pi_large": (500_000, 8, 0),
        "reduce": (50_000, 32, 32),
        "group": (50_000, 32, 32),
        "bucket": (20_000, 50, 50),
        "bucket-xl": (40_000, 100, 100),
    },
}


@dataclass(frozen=True)
class WorkloadParams:
    """One workload at one size and data scale, as handed to a runner process."""

    name: str
    size: str = "full"
    scale: int = 1
    n: int = 0
    map_partitions: int = 0
    reduce_partitions: int = 0
    corpus_dir: str = ""
    corpus_bytes_per_file: int = FULL_BYTES_PER_FILE

    def to_json(self) -> dict[str, Any]:
        """A JSON-serialisable dict; :meth:`from_json` reverses it.

        >>> WorkloadParams.from_json(WorkloadParams("pi", n=5).to_json()).n
        5
        """
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> WorkloadParams:
        """Rebuild parameters written by :meth:`to_json`."""
        return cls(**data)


def workload_params(name: str, size: str = "full", scale: int = 1) -> WorkloadParams:
    """Parameters of workload ``name`` at ``size`` ("full" or "tiny") and data ``scale``.

    ``scale`` multiplies the amount of data (n, or the number of corpus files); the number of
    partitions of the generated-data workloads stays as WORKLOADS.md defines it.

    >>> workload_params("bucket").n
    2000000
    >>> workload_params("pi", scale=2).n
    20000000
    >>> workload_params("wordcount", size="tiny", scale=4).map_partitions
    32
    """
    if name not in WORKLOAD_NAMES:
        raise ValueError(f"unknown workload {name!r}; known: {', '.join(WORKLOAD_NAMES)}")
    if size not in SIZES:
        raise ValueError(f"unknown size {size!r}; known: {', '.join(SIZES)}")
    if scale < 1:
        raise ValueError(f"data scale must be a positive integer, got {scale}")
    n, map_partitions, reduce_partitions = _SHAPES[size][name]
    if name == "wordcount":
        bytes_per_file = FULL_BYTES_PER_FILE if size == "full" else TINY_BYTES_PER_FILE
        return WorkloadParams(
            name,
            size,
            scale,
            map_partitions=map_partitions * scale,
            reduce_partitions=reduce_partitions,
            corpus_bytes_per_file=bytes_per_file,
        )
    return WorkloadParams(name, size, scale, n * scale, map_partitions, reduce_partitions)


def shuffle_expected_items(name: str, n: int) -> dict[int, int]:
    """Expected ``{key: value}`` of a reduceByKey workload or of the group job, for any n.

    ``key = (i * 2654435761) % 10**6`` is a bijection on residues modulo 10**6 (the multiplier is
    coprime to 10**6), so the records with key ``k`` are exactly the ``i < n`` congruent to
    ``i0 = k * inverse % 10**6``; they all share the value ``i0 % 1000`` because 1000 divides
    10**6. No record is enumerated, which keeps this independent of the jobs.

    >>> shuffle_expected_items("group", 3)
    {0: 1, 435761: 1, 871522: 1}
    >>> shuffle_expected_items("reduce", 2)
    {0: 0, 435761: 1}
    """
    if name not in (*REDUCE_WORKLOADS, "group"):
        raise ValueError(f"{name!r} is not a shuffle workload")
    inverse = pow(KEY_MULTIPLIER, -1, KEY_SPACE)
    expected = {}
    for key in range(KEY_SPACE):
        first_index = key * inverse % KEY_SPACE
        if first_index >= n:
            continue
        occurrences = (n - first_index + KEY_SPACE - 1) // KEY_SPACE
        if name == "group":
            expected[key] = occurrences
        else:
            expected[key] = occurrences * (first_index % VALUE_MODULUS)
    return expected


def pair_summary(items: list[tuple[Any, int]]) -> dict[str, Any]:
    """The WORKLOADS.md checksum triple of a list of key/value result pairs.

    >>> pair_summary([("a", 2), ("b", 3)])["total"]
    5
    """
    return {
        "count": len(items),
        "total": sum(value for _, value in items),
        "digest": items_digest(items),
    }


def expected_pairs(params: WorkloadParams, word_counts: dict[str, int] | None = None) -> dict:
    """Expected :func:`pair_summary` of the wordcount or shuffle workload ``params``.

    Published WORKLOADS.md values are used when ``params`` is the published size; otherwise
    the value is derived (``word_counts`` from the corpus manifest for wordcount).

    >>> expected_pairs(workload_params("bucket"))["digest"]
    '5fbace6ca516b2b6'
    """
    if params.name == "wordcount":
        if word_counts is None:
            raise ValueError("wordcount needs the corpus word counts to derive its expected result")
        base_total = sum(word_counts.values())
        published = PUBLISHED_PAIR_CHECKS.get(("wordcount", base_total))
        if params.scale == 1 and published and params.size == "full":
            count, total, digest = published
            return {"count": count, "total": total, "digest": digest}
        scaled = [(word, count * params.scale) for word, count in word_counts.items()]
        return pair_summary(scaled)
    published = PUBLISHED_PAIR_CHECKS.get((params.name, params.n))
    if published:
        count, total, digest = published
        return {"count": count, "total": total, "digest": digest}
    items = list(shuffle_expected_items(params.name, params.n).items())
    return pair_summary(items)


def pi_bound(n: int) -> float:
    """The tolerance WORKLOADS.md allows on the pi estimate from ``n`` samples.

    >>> round(pi_bound(10_000_000), 5)
    0.00519
    """
    p = math.pi / 4
    return 10 * 4 * math.sqrt(p * (1 - p) / n)


def check_observed(
    params: WorkloadParams, observed: dict, expected: dict | None
) -> tuple[bool, str]:
    """Compare what a runner observed with the expectation; returns ``(passed, explanation)``.

    >>> check_observed(WorkloadParams("pi", n=1000), {"hits": 785, "n": 1000}, None)[0]
    True
    >>> check_observed(WorkloadParams("reduce", n=1), {"count": 1, "total": 0, "digest": "x"},
    ...                {"count": 1, "total": 0, "digest": "y"})
    (False, 'digest x != expected y')
    """
    if params.name in ("pi", "pi_large"):
        hits, n = observed.get("hits"), observed.get("n")
        if not isinstance(hits, int) or n != params.n:
            return False, f"malformed pi result {observed!r} for n={params.n}"
        estimate = 4 * hits / n
        error = abs(estimate - math.pi)
        bound = pi_bound(n)
        verdict = "within" if error < bound else "outside"
        return error < bound, f"pi~{estimate:.6f}, error {error:.2g} {verdict} bound {bound:.2g}"
    if expected is None:
        return False, "no expected result"
    mismatches = [
        f"{field_name} {observed.get(field_name)} != expected {expected[field_name]}"
        for field_name in ("count", "total", "digest")
        if observed.get(field_name) != expected[field_name]
    ]
    if mismatches:
        return False, "; ".join(mismatches)
    return True, f"{expected['count']} keys, total {expected['total']}, digest {expected['digest']}"


def _short_count(count: int) -> str:
    for divisor, suffix in ((1_000_000, "M"), (1_000, "k")):
        if count >= divisor and count % (divisor // 10) == 0:
            return f"{count / divisor:g}{suffix}"
    return f"{count:,}"


def workload_label(name: str, size: str = "full", scale: int = 1) -> str:
    """A short description of a workload's size for tables: records, map x reduce partitions.

    >>> workload_label("bucket-xl"), workload_label("pi", "tiny"), workload_label("wordcount")
    ('bucket-xl (20M, 4472 x 4472)', 'pi (100k)', 'wordcount (100 MB, 8 files)')
    """
    params = workload_params(name, size, scale)
    if name == "wordcount":
        megabytes = params.corpus_bytes_per_file * params.map_partitions / 1e6
        return f"{name} ({megabytes:g} MB, {params.map_partitions} files)"
    if not params.reduce_partitions:
        return f"{name} ({_short_count(params.n)})"
    shape = f"{params.map_partitions} x {params.reduce_partitions}"
    return f"{name} ({_short_count(params.n)}, {shape})"
