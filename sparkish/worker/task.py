"""What runs inside every sparkish task on a worker.

:func:`run_task` unpickles the stage (a plan node plus a finisher), computes one partition and
reports accumulator updates through the task's metadata. An exception raised by user code keeps
its type; its message gains the RDD operation, call site and partition that failed.
"""

from __future__ import annotations

import cProfile
import gc
import itertools
import os
import pickle
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import CodeType, TracebackType
from typing import Any

import cloudpickle

from .. import accumulators
from .._dask_compat import (
    current_task_key,
    is_scheduling_signal,
    log_task_event,
    set_current_task_metadata,
)
from ..errors import UserCodeError
from ..monitoring import task_metrics
from ..serialization import PartitionGroup
from ..shuffle.hashing import DEFAULT_KEY_HASHING, KeyHashing, use_key_hashing
from ..taskcontext import BarrierTaskContext, TaskContext, set_task_context
from . import running_tasks
from .plan import MAX_NESTED_STEPS, Node, Step

ACCUMULATOR_METADATA_KEY = "sparkish-accumulators"

_attempt_ids = itertools.count()


class StageInfo:
    """Small, per-stage facts a task needs besides its plan: who it belongs to, its name, the
    driver's local properties when the job was submitted (``TaskContext.getLocalProperty``),
    for a barrier stage its barrier's id, task count and timeout, the RDD operation that names
    the stage (its task key prefix), whether tasks count metrics and how keys are hashed
    (``sparkish.shuffle.hash`` and the hash seed: every process of a job must place keys alike).
    """

    __slots__ = (
        "app_id",
        "job_id",
        "stage_id",
        "description",
        "local_properties",
        "barrier_id",
        "barrier_tasks",
        "barrier_timeout",
        "operation",
        "collect_metrics",
        "key_hashing",
    )

    def __init__(
        self,
        app_id: str,
        job_id: int,
        stage_id: int,
        description: str,
        local_properties: dict[str, str] | None = None,
        barrier_id: str | None = None,
        barrier_tasks: int = 0,
        barrier_timeout: float = 0.0,
        operation: str = "",
        collect_metrics: bool = True,
        key_hashing: KeyHashing = DEFAULT_KEY_HASHING,
    ) -> None:
        self.app_id = app_id
        self.job_id = job_id
        self.stage_id = stage_id
        self.description = description
        self.local_properties = local_properties or {}
        self.barrier_id = barrier_id
        self.barrier_tasks = barrier_tasks
        self.barrier_timeout = barrier_timeout
        self.operation = operation
        self.collect_metrics = collect_metrics
        self.key_hashing = key_hashing

    def __reduce__(self) -> tuple:
        return (StageInfo, tuple(getattr(self, name) for name in self.__slots__))

    def task_context(self, split: int) -> TaskContext:
        """The context of this stage's task computing partition ``split``."""
        attempt = next(_attempt_ids)
        if self.barrier_id is None:
            return TaskContext(split, self.stage_id, 0, attempt, self.local_properties)
        return BarrierTaskContext(
            split,
            self.stage_id,
            0,
            attempt,
            self.local_properties,
            barrier_id=self.barrier_id,
            num_tasks=self.barrier_tasks,
            timeout=self.barrier_timeout,
        )


@contextmanager
def gc_paused() -> Iterator[None]:
    """Suspend the cyclic garbage collector while building many objects.

    Building a partition creates hundreds of thousands of tuples, lists and dicts that survive;
    CPython then runs full collections over the growing heap again and again (measured: a
    map-side groupByKey of 312k records took 0.37 s with the collector, 0.06 s without).
    Reference counting still frees everything that is not in a cycle.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def run_task(
    stage_blob: bytes, info: StageInfo, split: int | tuple[int, int], slot_ids: tuple, *slot_values
) -> Any:
    """Compute partition ``split`` of a stage and apply the stage's finisher to it.

    ``split`` may also be ``(first, last)``: the task then computes that group of consecutive
    partitions. Each partition gets the finisher and its own ``TaskContext``; the results come
    back as one :class:`~sparkish.serialization.PartitionGroup`, unless the finisher takes the
    group's partitions as one stream of ``(split, records)`` (``write_group``, as a shuffle's map
    output writer does).

    With ``SPARKISH_PROFILE_DIR`` set in the workers' environment, each task writes a cProfile
    dump ``<stage>-<split>.prof`` there (see the README's performance section).
    """
    # On a local worker, the supervisor can tell which task was running if the process dies.
    with gc_paused(), running_tasks.running(current_task_key) as describe:
        profile_directory = os.environ.get("SPARKISH_PROFILE_DIR")
        if not profile_directory:
            return _run_task(stage_blob, info, split, slot_ids, slot_values, describe)
        profiler = cProfile.Profile()
        try:
            return profiler.runcall(
                _run_task, stage_blob, info, split, slot_ids, slot_values, describe
            )
        finally:
            first = split if isinstance(split, int) else split[0]
            name = f"job{info.job_id}-stage{info.stage_id}-{first}.prof"
            profiler.dump_stats(os.path.join(profile_directory, name))


class _CurrentSplit:
    """The partition a task is computing now (a group task moves from one to the next), for
    its ``TaskContext`` and for error messages."""

    __slots__ = ("split", "info", "describe", "operations")

    def __init__(self, info: StageInfo, split: int, describe: running_tasks.Describe) -> None:
        self.info = info
        self.split = split
        self.describe = describe
        self.operations: tuple[str, ...] | None = None

    def enter(self, split: int) -> None:
        self.split = split
        set_task_context(self.info.task_context(split))
        if self.operations is not None:
            # If the process dies now, its supervisor blames this partition.
            self.describe(self.operations, split)

    def described(self, operations: tuple[str, ...]) -> None:
        self.operations = operations
        self.describe(operations, self.split)


def _partitions(
    node: Node, splits: range, inputs: dict, current: _CurrentSplit
) -> Iterator[tuple[int, Iterator]]:
    for split in splits:
        current.enter(split)
        yield split, node.compute(split, inputs)


def _compute(
    node: Node,
    finisher: Callable,
    split: int | tuple[int, int],
    inputs: dict,
    current: _CurrentSplit,
) -> Any:
    if isinstance(split, int):
        return finisher(split, node.compute(split, inputs))
    first, last = split
    splits = range(first, last + 1)
    write_group = getattr(finisher, "write_group", None)
    if write_group is not None:
        return write_group(_partitions(node, splits, inputs, current))
    parts = []
    for member in splits:
        current.enter(member)
        parts.append(finisher(member, node.compute(member, inputs)))
    return PartitionGroup(first, parts)


def _run_task(
    stage_blob: bytes,
    info: StageInfo,
    split: int | tuple[int, int],
    slot_ids: tuple,
    slot_values: tuple,
    describe: running_tasks.Describe,
) -> Any:
    use_key_hashing(info.key_hashing)
    accumulators.begin_task()
    task_metrics.begin_task(info.collect_metrics)
    # The scheduler learns which stage's task runs now (statusTracker's active tasks).
    log_task_event(
        task_metrics.TASK_START_TOPIC, [info.app_id, info.job_id, info.stage_id, info.operation]
    )
    current = _CurrentSplit(info, split if isinstance(split, int) else split[0], describe)
    current.enter(current.split)
    node: Node | None = None
    try:
        node, finisher = cloudpickle.loads(stage_blob)
        current.described((*(step.describe() for step in node.steps()), info.description))
        inputs = dict(zip(slot_ids, slot_values))
        result = _compute(node, finisher, split, inputs, current)
    except BaseException as error:
        accumulators.end_task()
        task_metrics.end_task()
        if isinstance(error, Exception) and is_scheduling_signal(error):
            raise
        if isinstance(error, RecursionError) and node is not None:
            depth = sum(1 for _ in node.steps())
            if depth > MAX_NESTED_STEPS:
                # The original's thousands of frames cannot be pickled: drop them.
                error.__traceback__ = error.__context__ = None
                raise RecursionError(
                    f"{error}: this task chains {depth} transformations; cut the lineage with "
                    "checkpoint() or localCheckpoint() on an intermediate RDD [sparkish: failed "
                    f"in {info.description}, partition {current.split}, stage {info.stage_id} "
                    f"of job {info.job_id}]"
                ) from None
        failure = _task_failure(error, node, current.split, info)
        if failure is None:
            raise
        raise failure from None
    finally:
        set_task_context(None)
    updates = accumulators.end_task()
    if updates:
        _report_accumulator_updates(info.app_id, updates)
    counts = task_metrics.end_task()
    if counts:
        set_current_task_metadata(task_metrics.METADATA_KEY, counts)
    return result


def _task_failure(
    error: BaseException, node: Node | None, split: int, info: StageInfo
) -> UserCodeError | None:
    """``None`` when ``error`` itself (annotated here) can travel back to the driver faithfully;
    otherwise the :class:`UserCodeError` to raise instead."""
    if isinstance(error, (StopIteration, StopAsyncIteration)) or not isinstance(error, Exception):
        context = describe_failure(node, split, info, error)
        detail = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
        if isinstance(error, StopIteration):
            detail = f"Caught StopIteration thrown from user's code; failing the task ({detail})"
        return UserCodeError(f"{detail} [sparkish: failed in {context}]")
    annotate_exception(error, node, split, info)
    if _pickles_faithfully(error):
        return None
    _rebuild_without_init(error)
    if _pickles_faithfully(error):
        return None
    context = describe_failure(node, split, info, error)
    return UserCodeError(
        f"{type(error).__name__}: {error} [sparkish: failed in {context}] (the exception "
        "itself could not be pickled to reach the driver)"
    )


def _report_accumulator_updates(app_id: str, updates: dict) -> None:
    # Task metadata reaches the scheduler only with a successful result: failed attempts
    # never count (see sparkish.execution.scheduler_plugin).
    payload = cloudpickle.dumps(updates, protocol=5)
    set_current_task_metadata(ACCUMULATOR_METADATA_KEY, [app_id, payload])


def _code_objects(function: Callable | None) -> list[CodeType]:
    """The code objects a function runs: its own and those nested in it (generator
    expressions), looking through ``functools.partial`` and callable objects."""
    while function is not None and not hasattr(function, "__code__"):
        inner = getattr(function, "func", None)  # functools.partial
        if inner is not None:
            function = inner
            continue
        function = type(function).__call__
        break
    code = getattr(function, "__code__", None)
    if code is None:
        return []
    found = [code]
    for constant in code.co_consts:
        if isinstance(constant, CodeType):
            found.append(constant)
    return found


def _partial_arguments(function: Callable) -> tuple:
    return tuple(getattr(function, "args", ()))


def _tracebacks(error: BaseException) -> Iterator[TracebackType]:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if current.__traceback__ is not None:
            yield current.__traceback__
        current = current.__cause__ or current.__context__


def failing_step(node: Node | None, error: BaseException) -> Step | None:
    """The step that raised ``error``: the innermost frame of the user's functions, or else of
    sparkish's own step code (then told apart by the function a frame is running)."""
    if node is None:
        return None
    user_steps: dict[CodeType, Step] = {}
    wrapper_steps: dict[CodeType, list[Step]] = {}
    for step in node.steps():
        for code in _code_objects(step.user_function):
            user_steps.setdefault(code, step)
        for code in _code_objects(step.function):
            wrapper_steps.setdefault(code, []).append(step)
    found_user: Step | None = None
    found_wrapper: Step | None = None
    for first in _tracebacks(error):
        traceback: TracebackType | None = first
        while traceback is not None:
            frame = traceback.tb_frame
            user_step = user_steps.get(frame.f_code)
            if user_step is not None:
                found_user = user_step
            candidates = wrapper_steps.get(frame.f_code)
            if candidates:
                found_wrapper = _pick_step(candidates, frame)
            traceback = traceback.tb_next
        if found_user is not None:
            return found_user
    return found_user or found_wrapper


def _pick_step(candidates: list[Step], frame) -> Step:
    if len(candidates) == 1:
        return candidates[0]
    local_values = [id(value) for value in frame.f_locals.values()]
    for step in reversed(candidates):
        if any(id(argument) in local_values for argument in _partial_arguments(step.function)):
            return step
    return candidates[-1]


def describe_failure(node: Node | None, split: int, info: StageInfo, error: BaseException) -> str:
    step = failing_step(node, error)
    if step is not None:
        where = step.describe()
        if step.rdd_id is not None:
            where += f" (RDD {step.rdd_id})"
    else:
        where = info.description
    return f"{where}, partition {split}, stage {info.stage_id} of job {info.job_id}"


def annotate_exception(error: Exception, node: Node | None, split: int, info: StageInfo) -> None:
    """Add the failing RDD operation and partition to ``error``'s message, keeping its type."""
    context = describe_failure(node, split, info, error)
    suffix = f" [sparkish: failed in {context}]"
    args = error.args
    if len(args) <= 1 and (not args or isinstance(args[0], str)):
        original = args[0] if args else ""
        candidate_args = (f"{original}{suffix}" if original else suffix.lstrip(),)
        saved = error.args
        error.args = candidate_args
        if not _pickles_faithfully(error):
            error.args = saved
        else:
            return
    if sys.version_info >= (3, 11):
        error.add_note(f"sparkish: failed in {context}")


def _rebuild_exception(cls: type, args: tuple, state: dict) -> BaseException:
    error = cls.__new__(cls, *args)
    error.args = args
    error.__dict__.update(state)
    return error


def _rebuild_without_init(error: Exception) -> None:
    """Let an exception whose ``__init__`` does not take its ``args`` back (keyword-only or
    extra parameters) be unpickled, by rebuilding it without calling ``__init__``."""
    state = {k: v for k, v in error.__dict__.items() if k != "__reduce_ex__"}
    error.__reduce_ex__ = lambda protocol: (  # type: ignore[method-assign]
        _rebuild_exception,
        (type(error), error.args, state),
    )


def _pickles_faithfully(error: Exception) -> bool:
    try:
        copy = pickle.loads(cloudpickle.dumps(error))
    except Exception:
        return False
    return type(copy) is type(error) and str(copy) == str(error)
