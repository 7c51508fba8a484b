"""``RDDBarrier``: the transformations of a barrier stage (``rdd.barrier()``)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import partial
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from ..validation import require_callable
from ..worker import steps

if TYPE_CHECKING:
    from . import RDD

__all__ = ["RDDBarrier"]

T = TypeVar("T")
U = TypeVar("U")


class RDDBarrier(Generic[T]):
    """An RDD whose next transformation runs in a barrier stage: all its tasks run together.

    Made by :meth:`~sparkish.RDD.barrier`. In the tasks, ``BarrierTaskContext.get()`` offers
    ``barrier()``, ``allGather()`` and ``getTaskInfos()``. A job whose barrier stage has more
    tasks than the cluster has worker threads fails at once; a failing task fails the stage and
    releases the tasks waiting at a barrier.

    Parameters
    ----------
    rdd : RDD
        The RDD transformed.
    pipe : callable
        Adds a narrow step to ``rdd`` in a barrier stage (``rdd._pipe`` with ``barrier=True``).

    Examples
    --------
    >>> from sparkish.taskcontext import BarrierTaskContext
    >>> def gather(iterator):
    ...     yield BarrierTaskContext.get().allGather(str(sum(iterator)))
    >>> sc.parallelize([1, 2, 3, 4], 2).barrier().mapPartitions(gather).collect()
    [['3', '7'], ['3', '7']]
    """

    def __init__(self, rdd: RDD[T], pipe: Callable[..., RDD[Any]]) -> None:
        self.rdd = rdd
        self._pipe = pipe

    def mapPartitions(
        self, f: Callable[[Iterable[T]], Iterable[U]], preservesPartitioning: bool = False
    ) -> RDD[U]:
        """Apply ``f`` to the iterator of each partition, all partitions at once.

        Parameters
        ----------
        f : callable
            Called once per partition with an iterator of its elements.
        preservesPartitioning : bool
            Whether ``f`` keeps the keys of a pair RDD.

        Returns
        -------
        RDD
        """
        require_callable(f, "RDDBarrier.mapPartitions")
        return self._pipe(
            partial(steps.map_partitions, f), "mapPartitions", f, preservesPartitioning
        )

    def mapPartitionsWithIndex(
        self, f: Callable[[int, Iterable[T]], Iterable[U]], preservesPartitioning: bool = False
    ) -> RDD[U]:
        """Apply ``f(partition index, iterator)`` to each partition, all partitions at once.

        Parameters
        ----------
        f : callable
            Called once per partition with its index and an iterator of its elements.
        preservesPartitioning : bool
            Whether ``f`` keeps the keys of a pair RDD.

        Returns
        -------
        RDD
        """
        require_callable(f, "RDDBarrier.mapPartitionsWithIndex")
        return self._pipe(
            partial(steps.map_partitions_with_index, f),
            "mapPartitionsWithIndex",
            f,
            preservesPartitioning,
        )
