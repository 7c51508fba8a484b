"""Lowering one job to a Dask task graph.

A job computes a *finisher* (``count``, ``collect``, a partial ``reduce``...) over some
partitions of an RDD. The RDD's narrow lineage is one plan tree (:mod:`sparkish.worker.plan`),
pickled once per stage; each group of consecutive partitions (see
:mod:`sparkish.execution.grouping`) becomes one task running
:func:`~sparkish.worker.task.run_task`. A plan's :class:`~sparkish.worker.plan.Source` leaves are
connected to the graph by their *provider* (:class:`Provider`): a literal value, the tasks of
a persisted RDD, or a shuffle's map side and barrier, added to the same graph or pointing at
results still held from an earlier job. Building a graph never executes anything.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import cloudpickle
from dask.task_spec import Task, TaskRef
from dask.utils import key_split

from ..broadcast import shipping_broadcasts
from ..errors import SerializationError
from ..shuffle.hashing import DEFAULT_KEY_HASHING, KeyHashing
from ..worker.plan import Node, Step
from ..worker.task import StageInfo, run_task
from .grouping import GroupingPolicy, aligned_groups, consecutive_runs

if TYPE_CHECKING:
    from distributed import Future

__all__ = ["Finisher", "GraphBuilder", "HeldFutures", "Provider", "group_key", "serialize_stage"]

#: ``finisher(split, records)``: what a task returns for its partition.
Finisher = Callable[[int, Any], Any]

_DEAD_FUTURE_STATES = frozenset({"error", "cancelled", "lost"})


class Provider:
    """Turns a partition of a :class:`~sparkish.worker.plan.Source` leaf into a task input."""

    #: Whether the partitions come out of a shuffle (read by at most one partition per task).
    is_shuffle = False

    def graph_input(
        self,
        split: int,
        builder: GraphBuilder,
        exclusive: bool = True,
        within: range | None = None,
    ) -> Any:
        """A literal or a ``TaskRef`` giving partition ``split`` to the task being built.

        Parameters
        ----------
        split : int
            The partition of the source.
        builder : GraphBuilder
            The job's graph, to which the provider may add the tasks computing the input.
        exclusive : bool
            Whether the task reads nothing else from any shuffle, and only partitions of one
            group of this one.
        within : range or None
            The partitions of this source the task reads (it may compute them together).
        """
        raise NotImplementedError

    def note_reader(self, key: Any, partition: int, builder: GraphBuilder) -> None:
        """Called by the builder when task ``key`` reads one group of this provider's
        partitions, starting at ``partition``; a shuffle records it so that the scheduler can
        send the task to that group's worker (see
        :class:`~sparkish.execution.shuffle.ShuffleProvider`). Other providers ignore it."""

    def partition_sizes(self, builder: GraphBuilder) -> list[int] | None:
        """Estimated bytes of each partition, or None when unknown (then nothing is grouped)."""
        return None

    def fixed_groups(self, builder: GraphBuilder) -> list[range] | None:
        """The groups readers must use, when the partitions are laid out in groups."""
        return None

    def attach(self, split: int, future: Future) -> None:
        """Keep the future of a result this provider asked the job to hold (see
        :meth:`GraphBuilder.hold`)."""


class HeldFutures:
    """Futures that keep results alive on the workers between jobs, one per slot.

    A failed, cancelled or lost future is dropped, and its slot moves to a new *generation*:
    Dask remembers a key's outcome, so the next attempt must compute under a new key. Releasing
    everything also starts new generations.
    """

    def __init__(self) -> None:
        self._futures: dict[int, Future] = {}
        self._generations: dict[int, int] = {}
        self._lock = threading.Lock()

    def live(self, slot: int) -> Future | None:
        """The slot's future unless there is none or it is dead (then it is dropped)."""
        with self._lock:
            future = self._futures.get(slot)
            if future is None or future.status not in _DEAD_FUTURE_STATES:
                return future
            del self._futures[slot]
            self._generations[slot] = self._generations.get(slot, 0) + 1
        future.release()
        return None

    def generation(self, slot: int) -> int:
        """How many times the slot's result was lost or released."""
        return self._generations.get(slot, 0)

    def hold(self, slot: int, future: Future) -> None:
        with self._lock:
            self._futures[slot] = future

    def finished(self, slots: range) -> bool:
        """Whether every slot holds a computed result."""
        with self._lock:
            return all(
                slot in self._futures and self._futures[slot].status == "finished" for slot in slots
            )

    def futures(self) -> list[Future]:
        with self._lock:
            return list(self._futures.values())

    def release(self) -> None:
        with self._lock:
            futures, self._futures = self._futures, {}
            for slot in futures:
                self._generations[slot] = self._generations.get(slot, 0) + 1
        for future in futures.values():
            future.release()


class GraphBuilder:
    """Accumulates the tasks of one job.

    Parameters
    ----------
    application_id : str
        Prefix of the stage information every task carries.
    job_id : int
        The job being built.
    stage_ids : Iterator[int]
        Where new stage ids come from (shared by the jobs of one context).
    local_properties : dict
        The driver's local properties, visible to tasks through ``TaskContext``.
    barrier_timeout : float
        How long the tasks of a barrier stage wait for each other, in seconds.
    collect_metrics : bool
        Whether tasks count their metrics (``sparkish.metrics.enabled``).
    key_hashing : KeyHashing
        How tasks hash shuffle keys (``sparkish.shuffle.hash`` and the hash seed).
    grouping : GroupingPolicy
        How partitions are grouped into tasks (default: one task per partition).
    """

    def __init__(
        self,
        application_id: str,
        job_id: int,
        stage_ids: Iterator[int],
        local_properties: dict[str, str] | None = None,
        barrier_timeout: float = 300.0,
        collect_metrics: bool = True,
        key_hashing: KeyHashing = DEFAULT_KEY_HASHING,
        grouping: GroupingPolicy | None = None,
    ) -> None:
        self.application_id = application_id
        self.key_hashing = key_hashing
        self.grouping = grouping or GroupingPolicy(enabled=False)
        self.barrier_timeout = barrier_timeout
        self.job_id = job_id
        self.collect_metrics = collect_metrics
        self.graph: dict = {}
        self.external_futures: list[Future] = []
        self.held: list[tuple[Provider, int, Any]] = []
        self.key_descriptions: dict[Any, tuple[str, int]] = {}
        self._stage_ids = stage_ids
        self._local_properties = dict(local_properties or {})
        self._stages: dict[tuple[int, int], tuple[bytes, StageInfo]] = {}
        self._keep_alive: list = []
        self._provider_nodes: dict[int, Node] = {}
        self._planned: dict[tuple[int, int], Any] = {}

    def stage(
        self, node: Node, finisher: Finisher, description: str, operation: str = ""
    ) -> tuple[bytes, StageInfo]:
        """The pickled (plan, finisher) of a stage and its info, made once per job; ``operation``
        names the stage (the prefix of its task keys)."""
        identity = (id(node), id(finisher))
        cached = self._stages.get(identity)
        if cached is not None:
            return cached
        blob = serialize_stage(node, finisher, description)
        stage_id = next(self._stage_ids)
        barrier = any(step.barrier for step in node.steps())
        info = StageInfo(
            self.application_id,
            self.job_id,
            stage_id,
            description,
            self._local_properties,
            f"{self.application_id}-job{self.job_id}-stage{stage_id}" if barrier else None,
            barrier_timeout=self.barrier_timeout,
            operation=operation,
            collect_metrics=self.collect_metrics,
            key_hashing=self.key_hashing,
        )
        self._stages[identity] = (blob, info)
        self._keep_alive.append((node, finisher))  # keep ids unique while the job is built
        return blob, info

    def add_task(
        self, key: Any, node: Node, finisher: Finisher, splits: int | range, description: str
    ) -> TaskRef:
        """Add the task that computes partition ``splits`` of ``node`` (or the group of
        consecutive partitions ``splits``) and applies ``finisher``.

        The key's Dask prefix (``collect``, ``reduceByKey-map``...) names the stage in the
        dashboard and in sparkish's metrics."""
        group = range(splits, splits + 1) if isinstance(splits, int) else splits
        blob, info = self.stage(node, finisher, description, key_split(key))
        slot_ids: list = []
        sources: list = []
        seen: set = set()
        for split in group:
            for source, leaf_split in node.sources(split):
                if source.provider is None:
                    raise RuntimeError(f"source {source.uid} has no provider in the driver")
                slot = (source.uid, leaf_split)
                if slot not in seen:
                    seen.add(slot)
                    slot_ids.append(slot)
                    sources.append((source, leaf_split))
        exclusive = _reads_one_shuffle_group(sources, self)
        within = _leaf_ranges(sources)
        slot_values = [
            source.provider.graph_input(leaf_split, self, exclusive, within[source.uid])
            for source, leaf_split in sources
        ]
        if exclusive:  # the task reads one group of one shuffle: say where its reads start
            shuffle = next(source for source, _ in sources if source.provider.is_shuffle)
            shuffle.provider.note_reader(key, within[shuffle.uid].start, self)
        task_split = group.start if len(group) == 1 else (group.start, group.stop - 1)
        self.graph[key] = Task(key, run_task, blob, info, task_split, tuple(slot_ids), *slot_values)
        self.key_descriptions[key] = (description, group.start)
        return TaskRef(key)

    def group_splits(self, node: Node, splits: list[int] | range) -> list[range]:
        """The task groups computing ``splits`` of ``node``: the node's aligned groups, cut to
        the partitions asked for (an action over one partition computes only that one)."""
        ascending = all(a < b for a, b in zip(splits, splits[1:]))
        if not ascending or not self.can_group(node):  # results come back in the order asked
            return [range(split, split + 1) for split in splits]
        wanted = set(splits)
        if len(wanted) == node.num_partitions:
            return aligned_groups(node, self)
        groups = []
        for group in aligned_groups(node, self):
            groups.extend(consecutive_runs([split for split in group if split in wanted]))
        return groups

    def can_group(self, node: Node) -> bool:
        """Whether tasks may compute several partitions of ``node``: not in a barrier stage,
        whose tasks are one per partition and meet each other."""
        return self.grouping.enabled and not any(step.barrier for step in node.steps())

    def planned(self, provider: Provider, split: int) -> Any:
        """The key of the task this job added to compute ``provider``'s partition, if any."""
        return self._planned.get((id(provider), split))

    def plan(self, provider: Provider, split: int, key: Any) -> None:
        self._planned[(id(provider), split)] = key

    def stage_summary(self) -> dict[int, tuple[str, int]]:
        """Stage id -> (description, number of tasks) for the stages of this job."""
        counts: dict[int, int] = {}
        for task in self.graph.values():
            info = getattr(task, "args", (None, None))[1:2]
            if info and isinstance(info[0], StageInfo):
                counts[info[0].stage_id] = counts.get(info[0].stage_id, 0) + 1
        return {
            info.stage_id: (info.description, counts.get(info.stage_id, 0))
            for _, info in self._stages.values()
        }

    def barrier_stages(self) -> dict[str, int]:
        """Barrier id -> number of tasks, for the barrier stages of this job; tells each stage's
        tasks how many of them must meet (call once the graph is complete)."""
        counts = {stage: tasks for stage, (_, tasks) in self.stage_summary().items()}
        barriers = {}
        for _, info in self._stages.values():
            if info.barrier_id is not None:
                info.barrier_tasks = counts.get(info.stage_id, 0)
                barriers[info.barrier_id] = info.barrier_tasks
        return barriers

    def node_of(self, provider: Provider, factory: Callable[[], Node]) -> Node:
        """The plan of a provider's upstream stage, built once per job."""
        node = self._provider_nodes.get(id(provider))
        if node is None:
            node = self._provider_nodes[id(provider)] = factory()
            self._keep_alive.append(provider)
        return node

    def hold(self, provider: Provider, split: int, key: Any) -> None:
        """Ask the job to keep ``key``'s result after it ends and hand its future to
        ``provider.attach``."""
        self.held.append((provider, split, key))


def group_key(name: str, group: range) -> tuple:
    """The key of the task computing ``group``: ``(name, split)`` for one partition,
    ``(name, first, last)`` for several.

    >>> group_key("collect", range(3, 4)), group_key("collect", range(3, 7))
    (('collect', 3), ('collect', 3, 6))
    """
    if len(group) == 1:
        return (name, group.start)
    return (name, group.start, group.stop - 1)


def _reads_one_shuffle_group(sources: list, builder: GraphBuilder) -> bool:
    """Whether the shuffle partitions a task reads all lie in one group of one shuffle, which
    the shuffle places on one worker: the task can then read them where they are."""
    groups = {
        (id(source.provider), source.provider.group_index(leaf_split, builder))
        for source, leaf_split in sources
        if source.provider.is_shuffle
    }
    return len(groups) == 1


def _leaf_ranges(sources: list) -> dict[str, range]:
    """Per source leaf, the range covering the partitions a task reads from it."""
    bounds: dict[str, tuple[int, int]] = {}
    for source, leaf_split in sources:
        low, high = bounds.get(source.uid, (leaf_split, leaf_split))
        bounds[source.uid] = (min(low, leaf_split), max(high, leaf_split))
    return {uid: range(low, high + 1) for uid, (low, high) in bounds.items()}


def serialize_stage(node: Node, finisher: Finisher, description: str) -> bytes:
    """Pickle a stage's plan and finisher once, naming the operation whose closure fails.

    The broadcast variables the plan captures are installed on the workers first.
    """
    with shipping_broadcasts():
        try:
            return cloudpickle.dumps((node, finisher), 5)
        except Exception as error:
            culprit = _find_unpicklable_step(node)
            where = culprit.describe() if culprit is not None else description
            raise SerializationError(
                f"{where}: could not serialize the function or the values it captures for the "
                f"workers: {type(error).__name__}: {error}"
            ) from error


def _find_unpicklable_step(node: Node) -> Step | None:
    for step in node.steps():
        try:
            cloudpickle.dumps(step.function)
        except Exception:
            return step
    return None
