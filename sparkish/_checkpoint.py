"""Reliable checkpoints: an RDD's partitions written under the checkpoint directory.

After the first job that computes a checkpoint-marked RDD, a second job writes each partition
to ``<checkpoint dir>/rdd-<id>/part-NNNNN`` (through fsspec, so any file system works) and the
RDD's lineage is replaced by a source reading those files, as in Spark.
"""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from functools import partial
from typing import TYPE_CHECKING

import fsspec

from ._serialize import dumps

if TYPE_CHECKING:
    from .rdd import RDD


class CheckpointPart:
    """One partition file of a checkpoint; iterating reads its records."""

    __slots__ = ("url",)

    def __init__(self, url: str) -> None:
        self.url = url

    def __iter__(self) -> Iterator:
        try:
            with fsspec.open(self.url, "rb") as f:
                return iter(pickle.load(f))
        except FileNotFoundError:
            raise FileNotFoundError(f"checkpoint file {self.url} is missing") from None


def _write_part(directory: str, split: int, records: Iterator) -> str:
    url = f"{directory}/part-{split:05d}"
    fs, path = fsspec.core.url_to_fs(url)
    temporary = f"{path}.tmp"
    with fs.open(temporary, "wb") as f:
        f.write(dumps(list(records)))
    fs.mv(temporary, path)
    return url


def write_checkpoint(rdd: RDD) -> None:
    """Write ``rdd``'s partitions to the checkpoint directory and cut its lineage."""
    from ._execution import LiteralProvider

    root = rdd.ctx.getCheckpointDir()
    if root is None:
        raise RuntimeError("Checkpoint directory has not been set in the SparkContext")
    directory = f"{root}/rdd-{rdd.id()}"
    fs, path = fsspec.core.url_to_fs(directory)
    fs.makedirs(path, exist_ok=True)
    urls = rdd.ctx._job_runner.run(
        rdd._node(), partial(_write_part, directory), None, f"checkpoint of {rdd!r}"
    )
    rdd._checkpoint_source = LiteralProvider([CheckpointPart(url) for url in urls])
    rdd._checkpoint_file = directory
    rdd._checkpoint_requested = None
