"""``rdd.map(to_pair).reduceByKey(add)``: the map step runs inside the map-side combine's loop.

The fusion (``sparkish.worker.plan.fuse_map_into_combine``) must change nothing a user sees:
the same partitions and records as the unfused pipeline (a ``filter`` that keeps everything
between the two steps prevents the fusion), and errors that name the same RDD operation and
partition. Both grouping modes run every test.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sparkish import SparkContext


def keep(_: object) -> bool:
    return True


def fused(rdd, mapper: Callable, func: Callable, partitions: int):
    return rdd.map(mapper).reduceByKey(func, partitions)


def unfused(rdd, mapper: Callable, func: Callable, partitions: int):
    return rdd.map(mapper).filter(keep).reduceByKey(func, partitions)


def word_pair(word: str) -> tuple[str, int]:
    return (word, 1)


def tagged_pair(value: int) -> tuple:
    # int keys and values (the int64 column path), str keys, float values, None values
    kind = value % 4
    if kind == 0:
        return (value % 7, value)
    if kind == 1:
        return (f"k{value % 5}", value)
    if kind == 2:
        return (value % 3, value / 2)
    return (("t", value % 2), [value])


def concatenate_or_add(left, right):
    return left + right


@given(
    values=st.lists(st.integers(-50, 50), max_size=80),
    slices=st.integers(1, 4),
    partitions=st.integers(1, 3),
)
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_fused_and_unfused_pipelines_give_the_same_partitions(
    sc_in_both_grouping_modes, values, slices, partitions
):
    sc = sc_in_both_grouping_modes
    rdd = sc.parallelize(values, slices)
    for func in (operator.add, concatenate_or_add):
        expected = unfused(rdd, tagged_pair, func, partitions).glom().collect()
        assert fused(rdd, tagged_pair, func, partitions).glom().collect() == expected


def test_wordcount_shape_over_many_records(sc_in_both_grouping_modes):
    # More records per partition than the combine samples (20,000) before it decides.
    sc = sc_in_both_grouping_modes
    words = [f"w{i % 997}" for i in range(120_000)]
    rdd = sc.parallelize(words, 3)
    expected = unfused(rdd, word_pair, operator.add, 4).glom().collect()
    assert fused(rdd, word_pair, operator.add, 4).glom().collect() == expected
    assert dict(fused(rdd, word_pair, operator.add, 4).collect())["w0"] == 121


def fail_on_record(trigger: int) -> Callable[[int], tuple[int, int]]:
    def to_pair(value: int) -> tuple[int, int]:
        if value == trigger:
            raise ValueError(f"bad record {value}")
        return (value % 3, value)

    return to_pair


@pytest.mark.parametrize("trigger", [5, 25_005], ids=["in-the-sample", "after-the-sample"])
def test_an_error_in_the_map_function_names_the_map(sc: SparkContext, trigger: int) -> None:
    rdd = sc.parallelize(range(40_000), 2)  # partition 1 holds 20,000-39,999
    partition = 0 if trigger < 20_000 else 1
    with pytest.raises(ValueError) as raised:
        fused(rdd, fail_on_record(trigger), operator.add, 2).collect()
    text = str(raised.value)
    assert f"bad record {trigger}" in text
    assert "RDD.map " in text and f"partition {partition}," in text, text


def not_a_pair(value: int) -> int:
    return value


def test_results_that_are_not_pairs_fail_as_without_the_fusion(sc: SparkContext) -> None:
    rdd = sc.parallelize(range(10), 2)
    messages = []
    for build in (fused, unfused):
        with pytest.raises(TypeError) as raised:
            build(rdd, not_a_pair, operator.add, 2).collect()
        messages.append(str(raised.value))
    for message in messages:  # either partition may fail first
        assert "cannot unpack non-iterable int object" in message, message
        assert re.search(r"failed in RDD\.reduceByKey .*, partition [01],", message), message


def stop_on_seven(value: int) -> tuple[int, int]:
    if value == 7:
        raise StopIteration
    return (value % 2, value)


def test_stop_iteration_in_the_map_function_fails_the_task(sc: SparkContext) -> None:
    with pytest.raises(RuntimeError) as raised:
        fused(sc.parallelize(range(10), 2), stop_on_seven, operator.add, 2).collect()
    text = str(raised.value) + "".join(getattr(raised.value, "__notes__", []))
    assert "StopIteration" in text and "partition 1," in text, text
