"""``RDD.saveAsTextFile`` / ``saveAsPickleFile``: tasks write attempt files, the driver commits.

Each task writes its partition under the output's temporary attempt directory; only when every
task has succeeded does the driver promote exactly one attempt per partition to ``part-NNNNN``
and write ``_SUCCESS``. A failed or cancelled job is aborted: nothing it wrote remains.

Writing into an existing path fails like Spark, unless ``sparkish.output.overwrite`` is true
(or Spark's ``spark.hadoop.validateOutputSpecs`` is false).
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from ._context_readers import storage_options_for
from .writers import OutputCommitter, WriteJobSpec, write_task

if TYPE_CHECKING:
    from ..rdd import RDD


def _write_partition(spec: WriteJobSpec, kind: str, compression, batch_size, split, records):
    return write_task(spec, split, None, records, kind, compression, batch_size)


def _save(rdd: RDD, path: str, kind: str, compression: str | None, batch_size: int, operation: str):
    sc = rdd.ctx
    sc._check_active()
    overwrite = sc._conf._get_bool("sparkish.output.overwrite", False) or not sc._conf._get_bool(
        "spark.hadoop.validateOutputSpecs", True
    )
    committer = OutputCommitter(
        path, storage_options_for(sc, path, operation), overwrite=overwrite, operation=operation
    )
    spec = committer.setup_job()
    finisher = partial(_write_partition, spec, kind, compression, batch_size)
    try:
        # On failure, wait until no task of the job still writes before removing its files.
        messages = rdd._run(finisher, None, operation, drain_on_failure=True)
    except BaseException:
        committer.abort_job()
        raise
    committer.commit_job(messages, rdd.getNumPartitions())


def save_as_text_file(rdd: RDD, path: str, compression_codec_class: str | None) -> None:
    _save(rdd, path, "text", compression_codec_class, 10, "saveAsTextFile")


def save_as_pickle_file(rdd: RDD, path: str, batch_size: int) -> None:
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 0:
        raise ValueError(
            f"saveAsPickleFile: batchSize must be a non-negative int, got {batch_size!r}"
        )
    _save(rdd, path, "pickle", None, batch_size or 1024, "saveAsPickleFile")
