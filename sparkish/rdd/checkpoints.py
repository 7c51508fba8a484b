"""When an RDD marked by ``checkpoint()`` or ``localCheckpoint()`` is checkpointed: Spark's rules.

PySpark's checkpoint flags come from Spark's own RDD objects, and a PySpark program sees their
rules through ``isCheckpointed()``, ``isLocallyCheckpointed()`` and ``getCheckpointFile()``:

- ``checkpoint()`` marks an RDD for a reliable checkpoint unless it is already marked (a local
  mark stays); ``localCheckpoint()`` persists it with disk added to its storage level and marks
  it local, replacing a reliable mark that was not carried out yet.
- After every job, Spark walks the job's final RDD and its dependencies; the first RDD found
  marked on each path is checkpointed (reliably: written to files; locally: all its partitions
  kept), and the walk does not go past it. Every RDD is walked at most once in its life: an RDD
  that took part in a job before it was marked is never checkpointed.
- Which of PySpark's RDDs take part in a job follows PySpark's pipelining: a narrow
  transformation of a *PipelinedRDD* (``map``, ``filter``... of anything but a cached or
  ``checkpoint()``-marked RDD) fuses with it, so the parent's own Spark RDD is not in the jobs
  of the child. An action other than ``collect`` and ``toLocalIterator`` runs on such a fused
  child, so a job run by ``count()`` on a pipelinable RDD does not include that RDD.

:class:`CheckpointState` is that bookkeeping for one RDD; :func:`spark_dependencies` gives the
RDDs a new RDD's Spark RDD depends on, and :func:`walk_after_job` the walk.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from .kinds import Pipelined, RDDKind, Shuffled

if TYPE_CHECKING:
    from .core import RDDCore

__all__ = [
    "OWN_RDD_ACTIONS",
    "CheckpointState",
    "final_rdds_of_job",
    "pipelinable",
    "spark_dependencies",
    "walk_after_job",
]

#: The actions PySpark runs on the RDD's own Spark RDD; every other one runs on a narrow child.
OWN_RDD_ACTIONS = frozenset({"collect", "toLocalIterator"})


class CheckpointState:
    """Spark's checkpoint bookkeeping of one RDD.

    Attributes
    ----------
    mark : str or None
        ``"reliable"``, ``"local"`` or ``None``: what the RDD is marked for.
    done : bool
        Whether the marked checkpoint was carried out (``isCheckpointed()``).
    walked : bool
        Whether a job's walk has reached the RDD (Spark's ``doCheckpointCalled``).
    """

    __slots__ = ("done", "mark", "walked")

    def __init__(self) -> None:
        self.mark: str | None = None
        self.done = False
        self.walked = False

    def mark_reliable(self) -> None:
        """``checkpoint()``: a reliable mark, unless the RDD is marked already."""
        if self.mark is None:
            self.mark = "reliable"

    def mark_local(self) -> None:
        """``localCheckpoint()``: a local mark, unless a checkpoint was carried out already."""
        if not self.done:
            self.mark = "local"


def pipelinable(rdd: RDDCore) -> bool:
    """Whether a narrow transformation of ``rdd`` fuses with it in PySpark (a PipelinedRDD that
    is neither cached nor marked by ``checkpoint()``)."""
    return rdd._kind.fusable and not rdd.is_cached and not rdd.is_checkpointed


def _fused(parent: RDDCore) -> tuple[RDDCore, ...]:
    return parent._spark_dependencies if pipelinable(parent) else (parent,)


def spark_dependencies(kind: RDDKind) -> tuple[RDDCore, ...]:
    """The RDDs whose Spark RDDs a new RDD of ``kind`` depends on, decided when it is made.

    A narrow transformation, and the map side of a shuffle, fuse with a pipelinable parent and
    depend on what the parent depends on; every other kind depends on its parents.
    """
    if isinstance(kind, (Pipelined, Shuffled)):
        return _fused(kind.parents[0])
    return kind.parents


def final_rdds_of_job(rdd: RDDCore, action: str) -> tuple[RDDCore, ...]:
    """Where the walk after a job run by ``action`` on ``rdd`` starts."""
    if action in OWN_RDD_ACTIONS:
        return (rdd,)
    return _fused(rdd)


def walk_after_job(starts: tuple[RDDCore, ...], carry_out: Callable[[RDDCore], None]) -> None:
    """Spark's walk after a job: ``carry_out`` the first marked RDD on each path, once."""
    pending = list(reversed(starts))
    while pending:
        rdd = pending.pop()
        state = rdd._checkpoint
        if state.walked:
            continue
        state.walked = True
        if state.mark is not None:
            carry_out(rdd)
        else:
            pending.extend(reversed(rdd._spark_dependencies))
