"""What each narrow transformation does to one partition, as run inside a task.

Every function takes ``(split, iterator)`` last and returns the transformed records; the RDD
methods bind the leading arguments with :func:`functools.partial`. Being module-level functions,
they pickle by reference, so only the user's own function travels with each stage.

Generator expressions (rather than ``map``) turn a ``StopIteration`` escaping user code into a
``RuntimeError`` (PEP 479) instead of silently ending the partition, as PySpark's
``fail_on_stopiteration`` does.

>>> from functools import partial
>>> list(partial(map_partition, str)(0, iter([1, 2])))
['1', '2']
>>> list(filter_partition(lambda x: x > 1, 0, iter([1, 2, 3])))
[2, 3]
"""

from __future__ import annotations

import itertools
import shlex
import subprocess
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any

__all__ = [
    "flat_map_partition",
    "flat_map_values_partition",
    "filter_partition",
    "glom_partition",
    "key_by_partition",
    "key_equals",
    "keys_partition",
    "map_filter_partition",
    "map_partition",
    "map_partitions",
    "map_partitions_with_index",
    "map_values_partition",
    "pipe_partition",
    "values_partition",
    "zip_iterators",
    "zip_with_index_partition",
    "zip_with_unique_id_partition",
]


def map_partition(f: Callable, split: int, iterator: Iterator) -> Iterator:
    return (f(x) for x in iterator)


def flat_map_partition(f: Callable, split: int, iterator: Iterator) -> Iterator:
    return (y for x in iterator for y in f(x))


def filter_partition(f: Callable, split: int, iterator: Iterator) -> Iterator:
    return (x for x in iterator if f(x))


def map_filter_partition(
    functions: tuple[tuple[bool, Callable], ...], split: int, iterator: Iterator
) -> Iterator:
    """Consecutive ``map`` and ``filter`` steps in one loop; ``functions`` holds
    ``(is_filter, f)`` pairs in order.

    >>> list(map_filter_partition(((False, abs), (True, lambda x: x > 1)), 0, iter([-3, 1, 2])))
    [3, 2]
    """
    for record in iterator:
        for is_filter, function in functions:
            if not is_filter:
                record = function(record)
            elif not function(record):
                break
        else:
            yield record


def map_partitions(f: Callable, split: int, iterator: Iterator) -> Iterable:
    return _iterable_result(f(iterator), "mapPartitions")


def map_partitions_with_index(f: Callable, split: int, iterator: Iterator) -> Iterable:
    return _iterable_result(f(split, iterator), "mapPartitionsWithIndex")


def _iterable_result(result: Any, operation: str) -> Iterable:
    """A user function's partition result as an iterator (``None`` counts as no records).

    >>> _iterable_result(5, "mapPartitions")
    Traceback (most recent call last):
        ...
    TypeError: RDD.mapPartitions: the function must return an iterable of records, got int
    """
    if result is None:
        return ()
    try:
        return iter(result)
    except TypeError:
        raise TypeError(
            f"RDD.{operation}: the function must return an iterable of records, "
            f"got {type(result).__name__}"
        ) from None


def map_values_partition(f: Callable, split: int, iterator: Iterator) -> Iterator:
    return ((kv[0], f(kv[1])) for kv in iterator)


def flat_map_values_partition(f: Callable, split: int, iterator: Iterator) -> Iterator:
    return ((kv[0], x) for kv in iterator for x in f(kv[1]))


def key_by_partition(f: Callable, split: int, iterator: Iterator) -> Iterator:
    return ((f(x), x) for x in iterator)


def keys_partition(split: int, iterator: Iterator) -> Iterator:
    return (kv[0] for kv in iterator)


def values_partition(split: int, iterator: Iterator) -> Iterator:
    return (kv[1] for kv in iterator)


def key_equals(key: Any, kv: tuple) -> bool:
    """Whether a pair has ``key`` (the filter of ``lookup``)."""
    return kv[0] == key


def glom_partition(split: int, iterator: Iterator) -> list[list]:
    return [list(iterator)]


def zip_with_index_partition(starts: list[int], split: int, iterator: Iterator) -> Iterator:
    """Pair records with consecutive indexes starting where the partitions before end.

    >>> list(zip_with_index_partition([0, 2], 1, iter("ab")))
    [('a', 2), ('b', 3)]
    """
    return zip(iterator, itertools.count(starts[split]))


def zip_with_unique_id_partition(n: int, split: int, iterator: Iterator) -> Iterator:
    """Pair the i-th record of partition ``split`` of ``n`` with ``i * n + split``.

    >>> list(zip_with_unique_id_partition(3, 1, iter("ab")))
    [('a', 1), ('b', 4)]
    """
    return ((x, i * n + split) for i, x in enumerate(iterator))


def zip_iterators(left: Iterator, right: Iterator) -> Iterator[tuple]:
    """Pair two partitions element by element; their lengths must be equal.

    >>> list(zip_iterators(iter([1, 2]), iter("ab")))
    [(1, 'a'), (2, 'b')]
    >>> list(zip_iterators(iter([1, 2]), iter("a")))
    Traceback (most recent call last):
        ...
    ValueError: Can only zip RDDs with same number of elements in each partition
    """
    sentinel = object()
    for a, b in itertools.zip_longest(left, right, fillvalue=sentinel):
        if a is sentinel or b is sentinel:
            raise ValueError("Can only zip RDDs with same number of elements in each partition")
        yield (a, b)


def pipe_partition(
    command: str, env: dict[str, str], check_code: bool, split: int, iterator: Iterator
) -> Iterator[str]:
    """Feed a partition's records, one per line, to ``command`` and yield its output lines.

    >>> list(pipe_partition("cat", {}, True, 0, iter([1, "two"])))
    ['1', 'two']
    """
    process = subprocess.Popen(
        shlex.split(command), env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    stdin, stdout = process.stdin, process.stdout
    assert stdin is not None and stdout is not None

    def feed() -> None:
        try:
            for obj in iterator:
                stdin.write((str(obj).rstrip("\n") + "\n").encode("utf-8"))
        except BrokenPipeError:
            pass
        finally:
            try:
                stdin.close()
            except BrokenPipeError:
                pass

    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    for line in iter(stdout.readline, b""):
        yield line.rstrip(b"\n").decode("utf-8")
    process.wait()
    feeder.join()
    if check_code and process.returncode:
        raise RuntimeError(
            f"Pipe function `{command}` exited with error code {process.returncode}."
        )
