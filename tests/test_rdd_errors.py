"""Errors from the core RDD API: bad arguments, failing or unpicklable user functions.

Every error must name the problem (which operation, which partition) and leave the context
usable: each test runs a job afterwards.
"""

from __future__ import annotations

import operator
import re
import threading
from collections.abc import Callable

import pytest

from sparkish import SerializationError, SparkConf, SparkContext, StorageLevel

# parallelize(range(12), 4) has partitions [0, 1, 2], [3, 4, 5], [6, 7, 8], [9, 10, 11]:
# user functions below fail on TRIGGER, which is in partition 2.
TRIGGER = 7
TRIGGER_PARTITION = 2


def _numbers(sc: SparkContext):
    return sc.parallelize(range(12), 4)


def _assert_context_usable(sc: SparkContext) -> None:
    assert sc.parallelize(range(10), 3).map(lambda x: x * 2).sum() == 90
    assert sc.parallelize([3, 1, 2], 2).takeOrdered(2) == [1, 2]


def _full_text(error: BaseException) -> str:
    """The exception's message plus its notes (where details go when args are not a string)."""
    return "\n".join([str(error), *getattr(error, "__notes__", [])])


def _names(message: str, operation: str) -> bool:
    """Whether ``message`` names ``operation`` as a word ("map" is not named by "mapValues")."""
    return re.search(rf"\b{operation}\b", message) is not None


# Each entry: (operation name the user called, action that passes f where a function goes).
# The action runs a whole job, so it does not matter whether the error comes eagerly or lazily.
FunctionUse = Callable[[object, Callable], object]

FUNCTION_USES: list[tuple[str, FunctionUse]] = [
    ("map", lambda rdd, f: rdd.map(f).collect()),
    ("flatMap", lambda rdd, f: rdd.flatMap(f).collect()),
    ("filter", lambda rdd, f: rdd.filter(f).collect()),
    ("mapPartitions", lambda rdd, f: rdd.mapPartitions(f).collect()),
    ("mapPartitionsWithIndex", lambda rdd, f: rdd.mapPartitionsWithIndex(f).collect()),
    ("keyBy", lambda rdd, f: rdd.keyBy(f).collect()),
    ("mapValues", lambda rdd, f: rdd.map(lambda x: (x, x)).mapValues(f).collect()),
    ("flatMapValues", lambda rdd, f: rdd.map(lambda x: (x, x)).flatMapValues(f).collect()),
    ("foreach", lambda rdd, f: rdd.foreach(f)),
    ("foreachPartition", lambda rdd, f: rdd.foreachPartition(f)),
    ("reduce", lambda rdd, f: rdd.reduce(f)),
    ("treeReduce", lambda rdd, f: rdd.treeReduce(f)),
    ("fold", lambda rdd, f: rdd.fold(0, f)),
    ("aggregate", lambda rdd, f: rdd.aggregate(0, f, operator.add)),
    ("treeAggregate", lambda rdd, f: rdd.treeAggregate(0, f, operator.add)),
    ("max", lambda rdd, f: rdd.max(key=f)),
    ("min", lambda rdd, f: rdd.min(key=f)),
    ("top", lambda rdd, f: rdd.top(2, key=f)),
    ("takeOrdered", lambda rdd, f: rdd.takeOrdered(2, key=f)),
    ("runJob", lambda rdd, f: rdd.context.runJob(rdd, f)),
]

# combOp merges the per-partition results in the driver (as in PySpark), so it is only checked
# for being callable.
COMBINE_USES: list[tuple[str, FunctionUse]] = [
    ("aggregate", lambda rdd, f: rdd.aggregate(0, operator.add, f)),
    ("treeAggregate", lambda rdd, f: rdd.treeAggregate(0, operator.add, f)),
]


def _function_use_params(uses: list[tuple[str, FunctionUse]], suffix: str = "") -> list:
    return [pytest.param(operation, use, id=operation + suffix) for operation, use in uses]


# --------------------------------------------------------------------------- bad arguments


@pytest.mark.parametrize("num_slices", [0, -1, -100])
def test_non_positive_numSlices_is_rejected(sc, num_slices):
    for create in (
        lambda: sc.parallelize([1, 2, 3], num_slices),
        lambda: sc.parallelize(range(3), num_slices),
        lambda: sc.range(10, numSlices=num_slices),
    ):
        with pytest.raises(ValueError, match="numSlices") as info:
            create()
        assert str(num_slices) in str(info.value)
    _assert_context_usable(sc)


@pytest.mark.parametrize(
    "operation, use",
    _function_use_params(FUNCTION_USES) + _function_use_params(COMBINE_USES, "-combOp"),
)
@pytest.mark.parametrize("not_a_function", [42, "not a function"], ids=["int", "str"])
def test_non_callable_function_is_rejected(sc, operation, use, not_a_function):
    with pytest.raises(TypeError) as info:
        use(_numbers(sc), not_a_function)
    message = _full_text(info.value)
    assert _names(message, operation)
    assert "callable" in message
    _assert_context_usable(sc)


@pytest.mark.parametrize(
    "operation",
    ["map", "flatMap", "filter", "mapPartitions", "mapPartitionsWithIndex", "keyBy", "foreach"],
)
def test_none_as_function_is_rejected(sc, operation):
    with pytest.raises(TypeError, match="callable") as info:
        dict(FUNCTION_USES)[operation](_numbers(sc), None)
    assert _names(str(info.value), operation)
    _assert_context_usable(sc)


@pytest.mark.parametrize(
    "call, error, pattern",
    [
        (lambda rdd: rdd.coalesce(0), ValueError, "positive"),
        (lambda rdd: rdd.coalesce(-2, shuffle=False), ValueError, "positive"),
        (lambda rdd: rdd.sample(False, -0.1), ValueError, "[Ff]raction"),
        (lambda rdd: rdd.sample(True, -1.0, 3), ValueError, "[Ff]raction"),
        (lambda rdd: rdd.randomSplit([-1.0, 2.0]), ValueError, "[Ww]eights"),
        (lambda rdd: rdd.randomSplit([0, 0]), ValueError, "[Ww]eights"),
        (lambda rdd: rdd.takeSample(False, -1), ValueError, "negative"),
        (lambda rdd: rdd.takeSample(True, -5, 1), ValueError, "negative"),
        (lambda rdd: rdd.takeOrdered(-1), ValueError, "negative"),
        (lambda rdd: rdd.treeReduce(operator.add, 0), ValueError, "[Dd]epth"),
        (lambda rdd: rdd.treeAggregate(0, operator.add, operator.add, 0), ValueError, "[Dd]epth"),
        (lambda rdd: rdd.histogram(0), ValueError, "buckets"),
        (lambda rdd: rdd.histogram([1]), ValueError, "buckets"),
        (lambda rdd: rdd.histogram([3, 1, 2]), ValueError, "sorted"),
        (lambda rdd: rdd.histogram([1, 1, 2]), ValueError, "duplicated"),
        (lambda rdd: rdd.histogram([None, 1]), ValueError, "None"),
        (lambda rdd: rdd.histogram([float("nan"), 1.0]), ValueError, "NaN"),
        (lambda rdd: rdd.histogram("ten"), TypeError, "buckets"),
        (lambda rdd: rdd.persist("MEMORY_ONLY"), TypeError, "StorageLevel"),
        (lambda rdd: rdd.zip([1, 2]), TypeError, "RDD"),
        (lambda rdd: rdd.union([1, 2]), TypeError, "RDD"),
        (lambda rdd: rdd.cartesian([1, 2]), TypeError, "RDD"),
        (lambda rdd: rdd.pipe(""), ValueError, "command"),
        (lambda rdd: rdd.context.runJob(rdd, list, [4]), IndexError, "partition 4"),
        (lambda rdd: rdd.context.runJob(rdd, list, [-1]), IndexError, "partition -1"),
    ],
)
def test_bad_arguments_raise_clear_errors(sc, call, error, pattern):
    with pytest.raises(error, match=pattern):
        call(_numbers(sc))
    _assert_context_usable(sc)


def test_persist_after_a_failed_persist_still_works(sc):
    rdd = _numbers(sc)
    with pytest.raises(TypeError):
        rdd.persist("MEMORY_ONLY")
    assert rdd.getStorageLevel() == StorageLevel.NONE
    assert rdd.persist(StorageLevel.DISK_ONLY).sum() == 66
    rdd.unpersist()


# --------------------------------------------------------------------------- empty RDDs


EMPTY_RDDS = [
    pytest.param(lambda sc: sc.emptyRDD(), id="emptyRDD"),
    pytest.param(lambda sc: sc.parallelize([], 3), id="empty-partitions"),
    pytest.param(lambda sc: sc.parallelize(range(10), 4).filter(lambda x: x > 99), id="filtered"),
]


@pytest.mark.parametrize("build", EMPTY_RDDS)
def test_reducing_an_empty_rdd_raises(sc, build):
    rdd = build(sc)
    with pytest.raises(ValueError, match=r"Can not reduce\(\) empty RDD"):
        rdd.reduce(operator.add)
    with pytest.raises(ValueError, match="Cannot reduce empty RDD"):
        rdd.treeReduce(operator.add)
    with pytest.raises(ValueError, match="empty"):
        rdd.max()
    with pytest.raises(ValueError, match="empty"):
        rdd.min(key=abs)
    with pytest.raises(ValueError, match="RDD is empty"):
        rdd.first()
    with pytest.raises(ValueError, match="empty"):
        rdd.histogram(3)
    _assert_context_usable(sc)


# --------------------------------------------------------------------------- unpicklable closures


_DRIVER_ONLY_LOCK = threading.Lock()


def _capturing_lock(operation: str) -> Callable:
    """A function of the right shape for ``operation`` whose closure holds a lock."""
    lock = _DRIVER_ONLY_LOCK
    if operation in ("reduce", "treeReduce", "fold", "aggregate", "treeAggregate"):
        return lambda a, b: (lock, a)[1]
    if operation == "mapPartitionsWithIndex":
        return lambda index, iterator: (lock, iterator)[1]
    if operation in ("mapPartitions", "foreachPartition", "runJob"):
        return lambda iterator: (lock, iterator)[1]
    if operation in ("flatMap", "flatMapValues"):
        return lambda x: (lock, [x])[1]
    return lambda x: (lock, x)[1]


@pytest.mark.parametrize("operation, use", _function_use_params(FUNCTION_USES))
def test_unpicklable_closure_raises_serialization_error_naming_the_operation(sc, operation, use):
    with pytest.raises(SerializationError) as info:
        use(_numbers(sc), _capturing_lock(operation))
    assert isinstance(info.value, TypeError)
    message = str(info.value)
    assert _names(message, operation)
    assert "lock" in message
    _assert_context_usable(sc)


def test_serialization_error_names_the_failing_step_of_a_chain(sc):
    lock = threading.Lock()
    chain = _numbers(sc).map(lambda x: x + 1).filter(lambda x: (lock, x)[1]).map(str)
    with pytest.raises(SerializationError, match="filter"):
        chain.collect()
    with pytest.raises(SerializationError, match="filter"):
        chain.count()
    _assert_context_usable(sc)


def test_referencing_an_rdd_or_the_context_in_a_closure_is_rejected(sc):
    rdd = _numbers(sc)
    other = sc.parallelize([1])
    with pytest.raises(Exception, match="SPARK-5063") as info:
        rdd.map(lambda x: other.count() + x).collect()
    assert "map" in str(info.value)
    with pytest.raises(Exception, match="SPARK-5063"):
        rdd.map(lambda x: sc.parallelize([x])).collect()
    _assert_context_usable(sc)


def test_unpicklable_data_in_parallelize_is_rejected(sc):
    with pytest.raises(TypeError, match="pickle"):
        sc.parallelize([1, threading.Lock()], 2)
    _assert_context_usable(sc)


def _make_lock(x):
    return threading.Lock()


def test_unpicklable_records_returned_to_the_driver_raise_a_clear_error(sc):
    with pytest.raises(TypeError) as info:
        _numbers(sc).map(_make_lock).collect()
    message = _full_text(info.value)
    assert "pickle" in message or "serialize" in message
    assert "lock" in message
    assert "collect" in message or "map" in message
    # Records that never leave the worker are fine.
    assert _numbers(sc).map(_make_lock).count() == 12
    _assert_context_usable(sc)


# --------------------------------------------------------------------------- user exceptions


class UserError(Exception):
    """An exception class of the user's own."""


class TwoArgumentError(Exception):
    def __init__(self, code: str, number: int) -> None:
        super().__init__(code, number)


def _failing(operation: str, error_factory: Callable[[], BaseException]) -> Callable:
    """A function of the right shape for ``operation`` that raises on TRIGGER's partition."""

    def check(x):
        if x == TRIGGER:
            raise error_factory()

    if operation in ("reduce", "treeReduce", "fold", "aggregate", "treeAggregate"):
        return lambda a, b: (check(b), a + b)[1]
    if operation == "mapPartitionsWithIndex":

        def per_partition(index, iterator):
            items = list(iterator)
            for x in items:
                check(x)
            return items

        return per_partition
    if operation in ("mapPartitions", "foreachPartition", "runJob"):

        def whole_partition(iterator):
            items = list(iterator)
            for x in items:
                check(x)
            return items

        return whole_partition
    if operation in ("flatMap", "flatMapValues"):
        return lambda x: (check(x), [x])[1]
    return lambda x: (check(x), x)[1]


@pytest.mark.parametrize("operation, use", _function_use_params(FUNCTION_USES))
def test_user_exception_keeps_its_type_and_names_operation_and_partition(sc, operation, use):
    with pytest.raises(UserError) as info:
        use(_numbers(sc), _failing(operation, lambda: UserError("user code failed")))
    message = str(info.value)
    assert "user code failed" in message
    assert _names(message, operation)
    assert f"partition {TRIGGER_PARTITION}" in message
    _assert_context_usable(sc)


@pytest.mark.parametrize(
    "error_type, factory",
    [
        (ZeroDivisionError, lambda: ZeroDivisionError("division by zero")),
        (KeyError, lambda: KeyError("missing-key")),
        (ValueError, lambda: ValueError()),
        (OSError, lambda: OSError(2, "No such file", "/nowhere")),
        (TwoArgumentError, lambda: TwoArgumentError("E42", 42)),
    ],
    ids=["ZeroDivisionError", "KeyError", "no-message", "OSError", "two-arguments"],
)
def test_builtin_and_multi_argument_exceptions_keep_type_and_details(sc, error_type, factory):
    with pytest.raises(error_type) as info:
        _numbers(sc).map(_failing("map", factory)).collect()
    error = info.value
    assert type(error) is type(factory())  # OSError(2, ...) is a FileNotFoundError
    text = _full_text(error)
    assert "RDD.map" in text
    assert f"partition {TRIGGER_PARTITION}" in text
    original = factory()
    if len(original.args) > 1:
        assert error.args == original.args
    for arg in original.args:
        assert str(arg) in text
    _assert_context_usable(sc)


def test_exception_in_a_later_step_names_that_step(sc):
    chain = (
        _numbers(sc)
        .map(lambda x: x * 1)
        .filter(_failing("filter", lambda: UserError("in filter")))
        .map(str)
    )
    with pytest.raises(UserError) as info:
        chain.collect()
    message = str(info.value)
    assert "RDD.filter" in message
    assert "RDD.map" not in message
    assert f"partition {TRIGGER_PARTITION}" in message
    _assert_context_usable(sc)


def test_exception_raised_while_iterating_a_mapPartitions_generator(sc):
    def lazy(iterator):
        for x in iterator:
            if x == TRIGGER:
                raise UserError("lazily")
            yield x

    with pytest.raises(UserError) as info:
        _numbers(sc).mapPartitions(lazy).count()
    assert _names(str(info.value), "mapPartitions")
    assert f"partition {TRIGGER_PARTITION}" in str(info.value)
    _assert_context_usable(sc)


class _FailingCallable:
    def __call__(self, x):
        if x == TRIGGER:
            raise UserError("from a callable object")
        return x


def test_exception_from_a_callable_object_names_the_operation(sc):
    with pytest.raises(UserError) as info:
        _numbers(sc).keyBy(_FailingCallable()).collect()
    assert "RDD.keyBy" in str(info.value)
    assert f"partition {TRIGGER_PARTITION}" in str(info.value)
    _assert_context_usable(sc)


def _int_instead_of_list_in_partition_2(iterator):
    items = list(iterator)
    return len(items) if 3 in items else items


_PAIRS_BUT_ONE = [(1, 1), (2, 2), 3, (4, 4)]  # one element per partition; partition 2 not a pair


@pytest.mark.parametrize(
    "operation, data, use",
    [
        ("flatMap", [[1], [2], 3, [4]], lambda rdd: rdd.flatMap(lambda x: x).collect()),
        (
            "mapPartitions",
            [1, 2, 3, 4],
            lambda rdd: rdd.mapPartitions(_int_instead_of_list_in_partition_2).collect(),
        ),
        ("keys", _PAIRS_BUT_ONE, lambda rdd: rdd.keys().collect()),
        ("values", _PAIRS_BUT_ONE, lambda rdd: rdd.values().count()),
        ("mapValues", _PAIRS_BUT_ONE, lambda rdd: rdd.mapValues(str).collect()),
    ],
    ids=["flatMap-scalar", "mapPartitions-scalar", "keys", "values", "mapValues"],
)
def test_misused_step_errors_name_the_step(sc, operation, data, use):
    with pytest.raises(TypeError) as info:
        use(sc.parallelize(data, 4))
    message = str(info.value)
    assert f"RDD.{operation}" in message
    assert "partition 2" in message
    _assert_context_usable(sc)


def test_failed_job_leaves_no_broken_persisted_partitions(sc, tmp_path):
    recovered = tmp_path / "recovered"

    def flaky(x):
        if x == TRIGGER and not recovered.exists():
            raise UserError("not yet")
        return x * 3

    rdd = _numbers(sc).map(flaky).cache()
    with pytest.raises(UserError):
        rdd.collect()
    recovered.touch()
    assert rdd.collect() == [x * 3 for x in range(12)]
    assert rdd.sum() == 3 * 66
    rdd.unpersist()
    _assert_context_usable(sc)


class _UnpicklableError(Exception):
    def __init__(self) -> None:
        super().__init__("cannot travel")
        self.lock = threading.Lock()


def _raise_unpicklable(x):
    if x == TRIGGER:
        raise _UnpicklableError()
    return x


def test_unpicklable_user_exception_still_names_operation_and_partition(sc):
    with pytest.raises(Exception) as info:
        _numbers(sc).map(_raise_unpicklable).collect()
    text = _full_text(info.value)
    assert "_UnpicklableError" in text
    assert "cannot travel" in text
    assert "RDD.map" in text
    assert f"partition {TRIGGER_PARTITION}" in text
    _assert_context_usable(sc)


_STOP_ITERATION_BUG = (
    "BUG: StopIteration from user code fails without operation/partition: from reduce/fold/"
    "foreach/key functions it escapes run_task and becomes RuntimeError('coroutine raised "
    "StopIteration'); in map/filter the PEP 479 RuntimeError is attributed to the action"
)


def _stop_iteration_uses(known_bug: str | None = None) -> list:
    uses = {
        "map": lambda rdd, f: rdd.map(f).collect(),
        "flatMap": lambda rdd, f: rdd.flatMap(lambda x: [f(x)]).collect(),
        "filter": lambda rdd, f: rdd.filter(f).collect(),
        "keyBy": lambda rdd, f: rdd.keyBy(f).collect(),
        "mapValues": lambda rdd, f: rdd.map(lambda x: (x, x)).mapValues(f).collect(),
        "foreach": lambda rdd, f: rdd.foreach(f),
        "reduce": lambda rdd, f: rdd.reduce(lambda a, b: f(b) + a),
        "fold": lambda rdd, f: rdd.fold(0, lambda a, b: f(b) + a),
        "aggregate": lambda rdd, f: rdd.aggregate(0, lambda a, b: f(b) + a, operator.add),
        "top": lambda rdd, f: rdd.top(2, key=f),
        "max": lambda rdd, f: rdd.max(key=f),
    }
    return [pytest.param(name, use, id=name) for name, use in uses.items()]


def _stop_on_trigger(x):
    if x == TRIGGER:
        raise StopIteration
    return x


@pytest.mark.parametrize("operation, use", _stop_iteration_uses(_STOP_ITERATION_BUG))
def test_stop_iteration_in_user_function_fails_the_task(sc, operation, use):
    # A StopIteration must not silently end the partition; it fails the task (a RuntimeError,
    # as in PySpark) that names the operation and the partition.
    with pytest.raises(RuntimeError) as info:
        use(_numbers(sc), _stop_on_trigger)
    message = _full_text(info.value)
    assert _names(message, operation)
    assert f"partition {TRIGGER_PARTITION}" in message
    _assert_context_usable(sc)


@pytest.mark.parametrize("operation, use", _stop_iteration_uses())
def test_stop_iteration_in_user_function_is_an_error_not_truncation(sc, operation, use):
    with pytest.raises(RuntimeError):
        use(_numbers(sc), _stop_on_trigger)
    _assert_context_usable(sc)


def _stop_always(*args):
    raise StopIteration


@pytest.mark.parametrize(
    "use",
    [
        lambda sc: sc.parallelize([1, 2], 2).reduce(_stop_always),
        lambda sc: sc.parallelize([1, 2], 2).treeReduce(_stop_always),
        lambda sc: sc.parallelize([], 2).fold(0, _stop_always),
        lambda sc: sc.parallelize([1, 2], 2).aggregate(0, operator.add, _stop_always),
    ],
    ids=["reduce", "treeReduce", "fold", "aggregate-combOp"],
)
def test_stop_iteration_while_merging_in_the_driver_is_an_error(sc, use):
    # Escaping as StopIteration would silently end the caller's loop, e.g. in
    # list(map(lambda rdd: rdd.reduce(f), rdds)); PySpark raises a RuntimeError instead.
    with pytest.raises(RuntimeError):
        use(sc)
    _assert_context_usable(sc)


# --------------------------------------------------------------------------- fresh contexts
# These stop the shared context (the next test that needs it starts a new one), so they run last.


def test_checkpoint_without_a_directory_raises(no_context):
    sc = SparkContext("local[1]", "checkpoint-dir-test", conf=SparkConf().set("spark.ui.port", "0"))
    rdd = sc.parallelize([1, 2, 3])
    with pytest.raises(Exception, match="Checkpoint directory has not been set"):
        rdd.checkpoint()
    assert rdd.isCheckpointed() is False
    assert rdd.collect() == [1, 2, 3]


def test_jobs_on_a_stopped_context_raise(no_context):
    sc = SparkContext("local[1]", "stopped-test", conf=SparkConf().set("spark.ui.port", "0"))
    rdd = sc.parallelize(range(5), 2).map(lambda x: x + 1)
    assert rdd.sum() == 15
    sc.stop()
    actions = (rdd.collect, rdd.count, lambda: rdd.take(1), lambda: list(rdd.toLocalIterator()))
    for action in actions:
        with pytest.raises(RuntimeError, match="stopped"):
            action()
    with pytest.raises(RuntimeError, match="stopped"):
        sc.parallelize([1])
