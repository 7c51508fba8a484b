"""``countApproxDistinct``: a HyperLogLog sketch per partition, merged in the driver.

Each element is hashed with :func:`~sparkish.shuffle.hashing.portable_hash` (so equal keys
count once in every process) and mixed to 64 well-spread bits; the first ``p`` bits pick a
register, which keeps the longest run of leading zeros seen in the rest. Precision follows the
requested relative standard deviation as in Spark: ``p = ceil(2 * log2(1.054 / relativeSD))``.

>>> sketch = Sketch.for_relative_sd(0.05)
>>> sketch.add_all(str(i) for i in range(1000))
>>> 900 < sketch.estimate() < 1100
True
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from ..shuffle.hashing import portable_hash

__all__ = ["Sketch", "sketch_partition"]

_MASK64 = (1 << 64) - 1


def _mix64(value: int) -> int:
    """SplitMix64's finalizer: spreads structured hashes (like small ints) over 64 bits."""
    value &= _MASK64
    value = ((value ^ (value >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    value = ((value ^ (value >> 27)) * 0x94D049BB133111EB) & _MASK64
    return value ^ (value >> 31)


class Sketch:
    """A HyperLogLog sketch with ``2 ** precision`` registers."""

    __slots__ = ("precision", "registers")

    def __init__(self, precision: int) -> None:
        if not 4 <= precision <= 18:
            raise ValueError(f"HyperLogLog precision must be between 4 and 18, got {precision}")
        self.precision = precision
        self.registers = bytearray(1 << precision)

    @classmethod
    def for_relative_sd(cls, relative_sd: float) -> Sketch:
        if relative_sd < 1.7e-05:
            raise ValueError("relativeSD should be greater than 0.000017")
        precision = math.ceil(2.0 * math.log2(1.054 / relative_sd))
        return cls(min(max(precision, 4), 18))

    def add_all(self, elements: Iterable) -> None:
        registers = self.registers
        shift = 64 - self.precision
        rest_bits = shift
        for element in elements:
            hashed = _mix64(portable_hash(element))
            index = hashed >> shift
            rest = hashed & ((1 << shift) - 1)
            rank = rest_bits - rest.bit_length() + 1
            if rank > registers[index]:
                registers[index] = rank

    def merge(self, other: Sketch) -> Sketch:
        if other.precision != self.precision:
            raise ValueError("cannot merge sketches of different precision")
        self.registers = bytearray(map(max, self.registers, other.registers))
        return self

    def estimate(self) -> int:
        m = len(self.registers)
        alpha = 0.7213 / (1 + 1.079 / m) if m >= 128 else {16: 0.673, 32: 0.697, 64: 0.709}[m]
        harmonic = sum(2.0**-register for register in self.registers)
        raw = alpha * m * m / harmonic
        zeros = self.registers.count(0)
        if raw <= 2.5 * m and zeros:
            return round(m * math.log(m / zeros))
        return round(raw)


def sketch_partition(precision: int, split: int, iterator: Iterable) -> list[Sketch]:
    """A partition's elements as a one-sketch list (the partial result of
    ``countApproxDistinct``)."""
    sketch = Sketch(precision)
    sketch.add_all(iterator)
    return [sketch]
