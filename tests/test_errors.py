"""How failures in user code reach the driver.

An exception raised by a user function must come back with its type and message, plus the RDD
operation and partition that failed; deterministic failures are not retried; the failure is
reported without waiting for slow tasks; and the context stays usable afterwards. Bad arguments
(unpicklable closures, non-callables, ``numSlices=0``) fail early with a clear error.
"""

from __future__ import annotations

import os
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from sparkish import SerializationError, SparkConf, SparkContext


# --------------------------------------------------------------------------- helpers
def error_text(error: BaseException) -> str:
    """The message as printed, with any notes (Python 3.11+)."""
    return "".join(traceback.format_exception_only(error))


def record_attempt(directory: Path, label: object) -> None:
    (directory / f"{label}-{os.getpid()}-{uuid.uuid4().hex[:8]}").touch()


def attempts(directory: Path, label: object) -> int:
    return sum(1 for path in directory.iterdir() if path.name.startswith(f"{label}-"))


def assert_usable(sc: SparkContext) -> None:
    assert sc.parallelize(range(10), 2).map(lambda x: x * 3).sum() == 135


def own_context() -> SparkContext:
    return SparkContext("local[2]", conf=SparkConf(loadDefaults=False).set("spark.ui.port", "0"))


def raise_on_five(x: Any) -> Any:
    value = x[1] if isinstance(x, tuple) else x
    if value == 5:
        raise ValueError(f"cannot handle {value}")
    return x


def generator_of(function: Callable) -> Callable:
    def each(iterator):
        for x in iterator:
            yield function(x)

    return each


# range(8) in 4 partitions: [0, 1] [2, 3] [4, 5] [6, 7]; 5 is in partition 2.
OPERATIONS = {
    "map": lambda rdd: rdd.map(raise_on_five).collect(),
    "filter": lambda rdd: rdd.filter(raise_on_five).collect(),
    "flatMap": lambda rdd: rdd.flatMap(lambda x: [raise_on_five(x)]).collect(),
    "mapPartitions": lambda rdd: rdd.mapPartitions(generator_of(raise_on_five)).collect(),
    "mapPartitionsWithIndex": lambda rdd: rdd.mapPartitionsWithIndex(
        lambda index, part: [raise_on_five(x) for x in part]
    ).collect(),
    "foreach": lambda rdd: rdd.foreach(raise_on_five),
    "foreachPartition": lambda rdd: rdd.foreachPartition(
        lambda part: list(map(raise_on_five, part))
    ),
    "reduce": lambda rdd: rdd.reduce(lambda a, b: raise_on_five(b) + a),
    "fold": lambda rdd: rdd.fold(0, lambda a, b: raise_on_five(b) + a),
    "aggregate": lambda rdd: rdd.aggregate(0, lambda a, b: raise_on_five(b) + a, max),
    "keyBy": lambda rdd: rdd.keyBy(raise_on_five).collect(),
    "mapValues": lambda rdd: rdd.map(lambda x: (x, x)).mapValues(raise_on_five).count(),
}


# --------------------------------------------------------------------------- user exceptions
@pytest.mark.parametrize("operation", OPERATIONS)
def test_user_exception_keeps_type_and_message_and_names_operation_and_partition(
    sc: SparkContext, operation: str
) -> None:
    with pytest.raises(ValueError, match="cannot handle 5") as raised:
        OPERATIONS[operation](sc.parallelize(range(8), 4))
    text = error_text(raised.value)
    assert f"RDD.{operation} " in text
    assert "partition 2" in text
    assert_usable(sc)


WRAPPED_OPERATIONS = {
    "sortBy": lambda rdd: rdd.sortBy(raise_on_five).collect(),
    "groupBy": lambda rdd: rdd.groupBy(raise_on_five).collect(),
    "mapPartitions": lambda rdd: rdd.mapPartitions(
        lambda part: (raise_on_five(x) for x in part)
    ).collect(),
}


@pytest.mark.parametrize("operation", WRAPPED_OPERATIONS)
def test_error_names_the_operation_the_user_called(sc: SparkContext, operation: str) -> None:
    with pytest.raises(ValueError, match="cannot handle 5") as raised:
        WRAPPED_OPERATIONS[operation](sc.parallelize(range(8), 4))
    assert f"RDD.{operation} " in error_text(raised.value)


def test_error_in_a_later_step_of_a_chain_names_that_step(sc: SparkContext) -> None:
    chain = sc.parallelize(range(8), 4).map(lambda x: x + 0).filter(bool).map(raise_on_five)
    with pytest.raises(ValueError) as raised:
        chain.collect()
    text = error_text(raised.value)
    assert "RDD.map " in text and "RDD.filter" not in text
    assert f"RDD {chain.id()}" in text


def test_deterministic_failures_are_not_retried(sc: SparkContext, tmp_path: Path) -> None:
    def fail_in_partition_one(index: int, part):
        record_attempt(tmp_path, f"p{index}")
        if index == 1:
            raise RuntimeError("partition one always fails")
        return part

    with pytest.raises(RuntimeError, match="partition one always fails"):
        sc.parallelize(range(8), 4).mapPartitionsWithIndex(fail_in_partition_one).collect()
    assert_usable(sc)  # anything still queued for the failed job has run by now
    assert attempts(tmp_path, "p1") == 1


@pytest.mark.timeout(60)
def test_failure_is_reported_while_other_tasks_still_run(sc: SparkContext, tmp_path: Path) -> None:
    release = tmp_path / "release"

    def fail_fast_or_wait(index: int, part):
        if index == 0:
            raise KeyError("fast failure")
        record_attempt(tmp_path, "slow")
        deadline = time.monotonic() + 120
        while not release.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        record_attempt(tmp_path, "slow-done")
        return part

    try:
        with pytest.raises(KeyError, match="fast failure"):
            sc.parallelize(range(4), 2).mapPartitionsWithIndex(fail_fast_or_wait).collect()
        # Raised although the slow partition cannot finish before the test releases it.
        assert attempts(tmp_path, "slow-done") == 0
    finally:
        release.touch()
    assert_usable(sc)


class NeedsTwoArguments(Exception):
    def __init__(self, code: int, detail: str) -> None:
        super().__init__(code, detail)
        self.code = code
        self.detail = detail


class KeywordOnly(Exception):
    def __init__(self, *, reason: str) -> None:
        super().__init__(f"because {reason}")
        self.reason = reason


@pytest.mark.parametrize(
    "make, check",
    [
        (
            lambda: NeedsTwoArguments(7, "seven"),
            lambda e: isinstance(e, NeedsTwoArguments) and (e.code, e.detail) == (7, "seven"),
        ),
        (
            lambda: KeywordOnly(reason="testing"),
            lambda e: isinstance(e, KeywordOnly) and "because testing" in str(e),
        ),
    ],
    ids=["two-positional-arguments", "keyword-only"],
)
def test_exceptions_with_custom_constructors_keep_their_type(
    sc: SparkContext, make: Callable, check: Callable
) -> None:
    def fail(x: int) -> int:
        if x == 3:
            raise make()
        return x

    with pytest.raises(Exception) as raised:
        sc.parallelize(range(4), 2).map(fail).collect()
    assert check(raised.value), repr(raised.value)
    text = error_text(raised.value)
    assert "RDD.map" in text and "partition 1" in text
    assert_usable(sc)


# --------------------------------------------------------------------------- StopIteration
def stop_at_five(x: int) -> int:
    if x == 5:
        raise StopIteration("stopped at five")
    return x


STOP_OPERATIONS = {
    "map": lambda rdd: rdd.map(stop_at_five).collect(),
    "flatMap": lambda rdd: rdd.flatMap(lambda x: [stop_at_five(x)]).collect(),
    "filter": lambda rdd: rdd.filter(stop_at_five).collect(),
    "keyBy": lambda rdd: rdd.keyBy(stop_at_five).collect(),
    "mapPartitions": lambda rdd: rdd.mapPartitions(generator_of(stop_at_five)).collect(),
    "count-after-map": lambda rdd: rdd.map(stop_at_five).count(),
    "foreach": lambda rdd: rdd.foreach(stop_at_five),
    "reduce": lambda rdd: rdd.reduce(lambda a, b: a + stop_at_five(b)),
    # one key: partition 1 merges 4 with 5
    "reduceByKey": lambda rdd: (
        rdd.map(lambda x: ("key", x)).reduceByKey(lambda a, b: a + stop_at_five(b)).collect()
    ),
}


@pytest.mark.parametrize("operation", STOP_OPERATIONS)
def test_stop_iteration_in_user_code_fails_instead_of_truncating(
    sc: SparkContext, operation: str
) -> None:
    # PySpark turns it into "Caught StopIteration thrown from user's code; failing the task".
    with pytest.raises(Exception) as raised:
        STOP_OPERATIONS[operation](sc.parallelize(range(8), 2))
    assert "StopIteration" in error_text(raised.value) or isinstance(raised.value, StopIteration)
    assert_usable(sc)


def test_stop_iteration_in_map_names_the_map(sc: SparkContext) -> None:
    with pytest.raises(RuntimeError) as raised:
        sc.parallelize(range(8), 2).map(stop_at_five).collect()
    text = error_text(raised.value)
    assert "StopIteration" in text and "partition 1" in text
    assert "RDD.map " in text


@pytest.mark.parametrize("operation", ["foreach", "reduce"])
def test_stop_iteration_in_an_action_function_names_operation_and_partition(
    sc: SparkContext, operation: str
) -> None:
    with pytest.raises(Exception) as raised:
        STOP_OPERATIONS[operation](sc.parallelize(range(8), 2))
    text = error_text(raised.value)
    assert "stopped at five" in text
    assert f"RDD.{operation} " in text and "partition 1" in text


# --------------------------------------------------------------------------- BaseExceptions
class CustomBaseException(BaseException):
    """Not an Exception: like KeyboardInterrupt, not caught by ``except Exception``."""


@pytest.mark.parametrize(
    "exception_type", [KeyboardInterrupt, SystemExit, CustomBaseException], ids=lambda t: t.__name__
)
@pytest.mark.timeout(120)
def test_base_exceptions_fail_the_job_once_with_their_name(
    no_context: None, tmp_path: Path, exception_type: type
) -> None:
    sc = own_context()
    marker = f"marker-{uuid.uuid4().hex[:6]}"

    def interrupt(x: int) -> int:
        record_attempt(tmp_path, "attempt")
        raise exception_type(marker)

    outcome: dict[str, BaseException] = {}

    def run() -> None:
        try:
            sc.parallelize([1], 1).map(interrupt).collect()
        except BaseException as error:  # noqa: BLE001 - inspected below
            outcome["error"] = error

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(20)
    assert not thread.is_alive(), "the action hangs"
    text = f"{type(outcome['error']).__name__}: {error_text(outcome['error'])}"
    assert exception_type.__name__ in text and marker in text
    assert attempts(tmp_path, "attempt") == 1
    assert_usable(sc)


@pytest.mark.timeout(120)
def test_a_task_that_kills_its_worker_fails_the_job_clearly(no_context: None) -> None:
    sc = own_context()

    def crash(x: int) -> int:
        os._exit(3)

    with pytest.raises(Exception) as raised:
        sc.parallelize([1, 2], 1).map(crash).collect()
    text = error_text(raised.value)
    assert "partition 0" in text and "died" in text
    assert_usable(sc)


# --------------------------------------------------------------------------- bad arguments
SERIALIZATION_CASES = {
    "map": lambda rdd, lock: rdd.map(lambda x: (lock, x)).collect(),
    "filter": lambda rdd, lock: rdd.filter(lambda x: lock is not None).collect(),
    "flatMap": lambda rdd, lock: rdd.flatMap(lambda x: [lock]).collect(),
    "foreach": lambda rdd, lock: rdd.foreach(lambda x: lock),
    "mapPartitions": lambda rdd, lock: rdd.mapPartitions(lambda part: [lock]).collect(),
}


@pytest.mark.parametrize("operation", SERIALIZATION_CASES)
def test_unpicklable_closure_raises_serialization_error_naming_the_operation(
    sc: SparkContext, operation: str
) -> None:
    lock = threading.Lock()
    rdd = sc.parallelize(range(4), 2).map(lambda x: x + 1)
    with pytest.raises(SerializationError) as raised:
        SERIALIZATION_CASES[operation](rdd, lock)
    text = str(raised.value)
    assert f"RDD.{operation} " in text
    assert "lock" in text
    assert_usable(sc)


NON_CALLABLE_CASES = {
    "map": lambda rdd, value: rdd.map(value).collect(),
    "filter": lambda rdd, value: rdd.filter(value).collect(),
    "flatMap": lambda rdd, value: rdd.flatMap(value).collect(),
    "mapPartitions": lambda rdd, value: rdd.mapPartitions(value).collect(),
    "foreach": lambda rdd, value: rdd.foreach(value),
    "reduce": lambda rdd, value: rdd.reduce(value),
    "keyBy": lambda rdd, value: rdd.keyBy(value).collect(),
    "runJob": lambda rdd, value: rdd.context.runJob(rdd, value),
}


@pytest.mark.parametrize("operation", NON_CALLABLE_CASES)
@pytest.mark.parametrize("value", [5, "text", None], ids=["int", "str", "None"])
def test_non_callable_function_is_refused_by_name(
    sc: SparkContext, operation: str, value: object
) -> None:
    with pytest.raises(TypeError, match=f"{operation}.*callable"):
        NON_CALLABLE_CASES[operation](sc.parallelize(range(4), 2), value)
    assert_usable(sc)


@pytest.mark.parametrize("num_slices", [0, -3])
def test_non_positive_num_slices_is_refused(sc: SparkContext, num_slices: int) -> None:
    for create in (
        lambda: sc.parallelize([1, 2, 3], num_slices),
        lambda: sc.parallelize(range(3), num_slices),
        lambda: sc.range(0, 10, 1, num_slices),
    ):
        with pytest.raises(ValueError, match=f"numSlices must be positive, got {num_slices}"):
            create()


def test_non_integer_num_slices_is_refused(sc: SparkContext) -> None:
    with pytest.raises(TypeError, match="numSlices"):
        sc.parallelize([1, 2, 3], "two")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="numSlices"):
        sc.parallelize([1, 2, 3], 1.5)  # type: ignore[arg-type]
    assert sc.parallelize([1, 2, 3], 2.0).getNumPartitions() == 2  # type: ignore[arg-type]
