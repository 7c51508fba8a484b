"""Random sampling of partitions, with PySpark's seeding so seeded samples match PySpark's.

Each partition draws from ``random.Random(seed ^ partition)``, warmed up by ten draws because
the per-partition seeds are close to each other; with replacement, each element is repeated a
Poisson-distributed number of times (Knuth's method below a mean of 20, exponential gaps above).

>>> sampler = BernoulliOrPoissonSampler(False, 0.5, seed=7)
>>> kept = list(sampler.sample_partition(0, range(1000)))
>>> 400 < len(kept) < 600
True
>>> kept == list(BernoulliOrPoissonSampler(False, 0.5, seed=7).sample_partition(0, range(1000)))
True
"""

from __future__ import annotations

import math
import random
import sys
from collections.abc import Iterable, Iterator
from typing import Any


class _SeededSampler:
    def __init__(self, with_replacement: bool, seed: int | None) -> None:
        self.seed = seed if seed is not None else random.randint(0, sys.maxsize)
        self.with_replacement = with_replacement

    def generator(self, split: int) -> random.Random:
        generator = random.Random(self.seed ^ split)
        for _ in range(10):
            generator.randint(0, 1)
        return generator


def _poisson(generator: random.Random, mean: float) -> int:
    if mean < 20.0:
        threshold = math.exp(-mean)
        product = generator.random()
        count = 0
        while product > threshold:
            count += 1
            product *= generator.random()
        return count
    total = generator.expovariate(mean)
    count = 0
    while total < 1.0:
        count += 1
        total += generator.expovariate(mean)
    return count


class BernoulliOrPoissonSampler(_SeededSampler):
    """``RDD.sample``: keep each element with probability ``fraction`` or repeat it."""

    def __init__(self, with_replacement: bool, fraction: float, seed: int | None = None) -> None:
        super().__init__(with_replacement, seed)
        self.fraction = fraction

    def sample_partition(self, split: int, iterator: Iterable) -> Iterator:
        generator = self.generator(split)
        fraction = self.fraction
        if self.with_replacement:
            for element in iterator:
                for _ in range(_poisson(generator, fraction)):
                    yield element
        else:
            draw = generator.random
            for element in iterator:
                if draw() < fraction:
                    yield element


class RangeSampler(_SeededSampler):
    """``RDD.randomSplit``: keep the elements whose uniform draw falls in ``[low, high)``."""

    def __init__(self, low: float, high: float, seed: int | None = None) -> None:
        super().__init__(False, seed)
        self.low = low
        self.high = high

    def sample_partition(self, split: int, iterator: Iterable) -> Iterator:
        draw = self.generator(split).random
        low, high = self.low, self.high
        for element in iterator:
            if low <= draw() < high:
                yield element


class StratifiedSampler(_SeededSampler):
    """``RDD.sampleByKey``: a fraction per key."""

    def __init__(
        self, with_replacement: bool, fractions: dict[Any, float], seed: int | None = None
    ):
        super().__init__(with_replacement, seed)
        self.fractions = fractions

    def sample_partition(self, split: int, iterator: Iterable) -> Iterator:
        generator = self.generator(split)
        fractions = self.fractions
        if self.with_replacement:
            for key, value in iterator:
                for _ in range(_poisson(generator, fractions[key])):
                    yield key, value
        else:
            for key, value in iterator:
                if generator.random() < fractions[key]:
                    yield key, value


def fraction_for_sample_size(lower_bound: int, total: int, with_replacement: bool) -> float:
    """A sampling fraction that yields at least ``lower_bound`` of ``total`` elements w.h.p.

    >>> fraction = fraction_for_sample_size(10, 1000, False)
    >>> 10 / 1000 < fraction < 0.05
    True
    """
    fraction = float(lower_bound) / total
    if with_replacement:
        deviations = 9 if lower_bound < 12 else 5
        return fraction + deviations * math.sqrt(fraction / total)
    delta = 5e-05
    gamma = -math.log(delta) / total
    return min(1, fraction + gamma + math.sqrt(gamma * gamma + 2 * gamma * fraction))
