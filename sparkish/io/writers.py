"""Writing partitions to files with an atomic, retry-safe commit (``saveAsTextFile`` & co.).

Protocol (the same shape as Hadoop's ``FileOutputCommitter``, one rename per part):

1. Driver: ``committer = OutputCommitter(path, storage_options, overwrite)`` and
   ``spec = committer.setup_job()``. Fails if ``path`` exists, even as an empty directory (as
   Spark does), unless ``overwrite=True``. Creates ``path/_temporary/<job id>/``.
2. Each task: ``message = write_task(spec, partition_index, attempt_id, records, ...)`` writes
   ``path/_temporary/<job id>/attempt-<attempt id>-part-NNNNN[.ext]`` and returns a small
   :class:`TaskCommitMessage`. A failed or retried attempt leaves at most a stray temporary
   file, never a visible part.
3. Driver, after every task succeeded: ``committer.commit_job(messages, num_partitions)`` keeps
   exactly one attempt per partition (the first message for it), renames it to
   ``path/part-NNNNN[.ext]``, writes ``path/_SUCCESS`` and deletes ``path/_temporary``.
   If anything fails, ``commit_job`` aborts the job and re-raises.
4. Driver, when the job failed: ``committer.abort_job()`` removes what the job wrote. If ``path``
   did not exist before the job, it does not exist afterwards.

With ``overwrite=True`` the previous contents of ``path`` stay in place until ``commit_job``,
which deletes them just before promoting the new parts; a job that fails before that point
leaves the old output untouched (a failure inside ``commit_job`` can lose it). An existing plain
file at ``path`` is deleted by ``setup_job``.

Text output is ``str(record)`` per line (``bytes`` records are decoded as UTF-8 with
replacement, as PySpark does), UTF-8, each line ending in ``\\n``; an empty partition gives an
empty part file. Pickle output uses sparkish's own framed format (see
``sparkish/io/_pickle_format.py``), not Hadoop's SequenceFile.
"""

from __future__ import annotations

import posixpath
import re
import uuid
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from itertools import islice
from typing import Any, BinaryIO

from fsspec.spec import AbstractFileSystem

from ..monitoring import task_metrics
from ..validation import require_int
from . import _pickle_format
from ._filesystems import display_url, fs_errors, join_path, resolve_url
from .compression import CompressingWriter, codec_for_name

__all__ = [
    "SUCCESS_MARKER",
    "TEMPORARY_DIR",
    "OutputCommitter",
    "TaskCommitMessage",
    "WriteJobSpec",
    "write_attempt",
    "write_pickle_frames",
    "write_task",
]

TEMPORARY_DIR = "_temporary"
SUCCESS_MARKER = "_SUCCESS"
_TEXT_RECORDS_PER_WRITE = 4096
_PICKLE_FLUSH_BYTES = 1024 * 1024
_AUTO_BATCH_TARGET_BYTES = 64 * 1024
_ATTEMPT_ID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_KINDS = ("text", "pickle")


@dataclass(frozen=True)
class WriteJobSpec:
    """What a write task needs to know about its job; small and picklable."""

    fs: AbstractFileSystem = field(repr=False, compare=False)
    path: str
    url: str
    job_id: str
    operation: str

    @property
    def temp_dir(self) -> str:
        """``<output>/_temporary/<job id>``, where this job's task attempts write."""
        return join_path(join_path(self.path, TEMPORARY_DIR), self.job_id)


@dataclass(frozen=True)
class TaskCommitMessage:
    """What a successful task attempt reports back to the driver."""

    partition_index: int
    attempt_id: str
    temp_path: str
    part_name: str
    num_records: int
    num_bytes: int


class OutputCommitter:
    """Driver-side half of the commit protocol for one output directory (see module docs).

    >>> import fsspec
    >>> committer = OutputCommitter("memory:///doc/out")
    >>> spec = committer.setup_job()
    >>> messages = [write_task(spec, i, None, [f"row {i}"]) for i in range(2)]
    >>> committer.commit_job(messages, num_partitions=2)
    ['memory:///doc/out/part-00000', 'memory:///doc/out/part-00001']
    >>> sorted(fsspec.filesystem("memory").ls("/doc/out", detail=False))
    ['/doc/out/_SUCCESS', '/doc/out/part-00000', '/doc/out/part-00001']
    """

    def __init__(
        self,
        path: str,
        storage_options: dict[str, Any] | None = None,
        overwrite: bool = False,
        *,
        operation: str = "saveAsTextFile",
    ) -> None:
        self.operation = operation
        self.overwrite = overwrite
        self.fs, self.path = resolve_url(path, storage_options, operation)
        self.path = self.path.rstrip("/") or self.path
        self.url = display_url(self.fs, self.path, path)
        self._spec: WriteJobSpec | None = None
        self._output_existed = False
        self._promoted: list[str] = []
        self._wrote_success = False

    @property
    def spec(self) -> WriteJobSpec:
        """The job spec for :func:`write_task` (``setup_job`` must have run)."""
        if self._spec is None:
            raise RuntimeError(f"{self.operation}: setup_job() has not been called")
        return self._spec

    def setup_job(self) -> WriteJobSpec:
        """Check the output path and create the job's temporary directory."""
        fs, path, url = self.fs, self.path, self.url
        with fs_errors(self.operation, url):
            exists = fs.exists(path)
        if exists:
            if not self.overwrite:
                raise FileExistsError(
                    f"{self.operation}: output directory {url} already exists "
                    "(delete it, or set sparkish.output.overwrite=true to replace its contents)"
                )
            with fs_errors(self.operation, url):
                if fs.info(path).get("type") != "directory":
                    fs.rm(path)
                    exists = False
        else:
            self._check_parent_is_directory()
        self._output_existed = exists
        spec = WriteJobSpec(fs, path, url, uuid.uuid4().hex[:16], self.operation)
        with fs_errors(self.operation, url):
            fs.makedirs(spec.temp_dir, exist_ok=True)
        self._spec = spec
        return spec

    def _check_parent_is_directory(self) -> None:
        ancestor = posixpath.dirname(self.path)
        while ancestor and ancestor != posixpath.dirname(ancestor):
            with fs_errors(self.operation, self.url):
                if self.fs.exists(ancestor):
                    if self.fs.info(ancestor).get("type") != "directory":
                        raise NotADirectoryError(
                            f"{self.operation}: cannot create output directory {self.url}: "
                            f"{display_url(self.fs, ancestor, self.url)} is a file"
                        )
                    return
            ancestor = posixpath.dirname(ancestor)

    def commit_job(self, messages: Iterable[TaskCommitMessage], num_partitions: int) -> list[str]:
        """Promote one attempt per partition, write ``_SUCCESS``; returns the part URLs.

        Extra messages for a partition (retried or speculative attempts) are ignored. A missing
        partition, or any failure, aborts the job (see :meth:`abort_job`) and raises.
        """
        spec = self.spec
        chosen: dict[int, TaskCommitMessage] = {}
        try:
            for message in messages:
                if not isinstance(message, TaskCommitMessage):
                    raise TypeError(
                        f"{self.operation}: commit_job expects TaskCommitMessage objects, "
                        f"got {type(message).__name__}"
                    )
                if not 0 <= message.partition_index < num_partitions:
                    raise ValueError(
                        f"{self.operation}: task output for partition {message.partition_index} "
                        f"but the job has {num_partitions} partitions"
                    )
                chosen.setdefault(message.partition_index, message)
            missing = [index for index in range(num_partitions) if index not in chosen]
            if missing:
                raise ValueError(
                    f"{self.operation}: cannot commit {self.url}: no successful task output for "
                    f"partition(s) {missing[:20]}{' ...' if len(missing) > 20 else ''}"
                )
            fs = spec.fs
            with fs_errors(self.operation, self.url):
                if self._output_existed:
                    self._delete_previous_output()
                for index in range(num_partitions):
                    message = chosen[index]
                    destination = join_path(self.path, message.part_name)
                    fs.mv(message.temp_path, destination)
                    self._promoted.append(destination)
                self._verify_promoted()
                with fs.open(join_path(self.path, SUCCESS_MARKER), "wb"):
                    pass
                self._wrote_success = True
                fs.rm(join_path(self.path, TEMPORARY_DIR), recursive=True)
        except BaseException:
            try:
                self.abort_job()
            except Exception as abort_error:  # keep the original error; report this one
                warnings.warn(
                    f"{self.operation}: cleaning up {self.url} after a failed commit also "
                    f"failed: {abort_error}",
                    RuntimeWarning,
                    stacklevel=2,
                )
            raise
        return [display_url(fs, path, self.url) for path in self._promoted]

    def _verify_promoted(self) -> None:
        # Some clients (fsspec's WebHDFS) ignore a rename that the server refused.
        present = {
            posixpath.basename(entry.rstrip("/")) for entry in self.fs.ls(self.path, detail=False)
        }
        for destination in self._promoted:
            if posixpath.basename(destination) not in present:
                raise OSError(
                    f"{self.operation}: moving a task's output to "
                    f"{display_url(self.fs, destination, self.url)} had no effect"
                )

    def _delete_previous_output(self) -> None:
        for entry in self.fs.ls(self.path, detail=False):
            name = posixpath.basename(entry.rstrip("/"))
            if name != TEMPORARY_DIR:
                self.fs.rm(entry, recursive=True)

    def abort_job(self) -> None:
        """Remove everything this job wrote; safe to call more than once."""
        spec = self._spec
        if spec is None:
            return
        fs = spec.fs
        with fs_errors(self.operation, self.url):
            if not self._output_existed:
                if fs.exists(self.path):
                    fs.rm(self.path, recursive=True)
            else:
                for destination in self._promoted:
                    _remove_quietly(fs, destination)
                if self._wrote_success:
                    _remove_quietly(fs, join_path(self.path, SUCCESS_MARKER))
                if fs.exists(spec.temp_dir):
                    fs.rm(spec.temp_dir, recursive=True)
                temporary = join_path(self.path, TEMPORARY_DIR)
                if fs.exists(temporary) and not fs.ls(temporary, detail=False):
                    fs.rm(temporary, recursive=True)
        self._promoted.clear()
        self._wrote_success = False


def _remove_quietly(fs: AbstractFileSystem, path: str) -> None:
    try:
        fs.rm(path)
    except FileNotFoundError:
        pass


def write_task(
    spec: WriteJobSpec,
    partition_index: int,
    attempt_id: str | None,
    records: Iterable[Any],
    kind: str = "text",
    compression: str | None = None,
    batch_size: int = 10,
) -> TaskCommitMessage:
    """Write one partition to a task-attempt file; runs on a worker.

    ``kind`` is ``"text"`` (``compression`` = a codec name or Hadoop class name, or ``None``)
    or ``"pickle"`` (``batch_size`` records per pickled frame; ``0`` or less picks a batch size
    automatically). ``attempt_id`` must be unique per attempt of a partition; ``None`` generates
    one. If ``records`` raises, the attempt's file is removed and the error propagates.

    >>> committer = OutputCommitter("memory:///doc/task")
    >>> message = write_task(committer.setup_job(), 3, "a1", ["x", None, 7], compression="gzip")
    >>> message.part_name, message.num_records
    ('part-00003.gz', 3)
    """
    if kind not in _KINDS:
        raise ValueError(f"{spec.operation}: unknown output kind {kind!r}; use one of {_KINDS}")
    if kind == "pickle" and compression is not None:
        raise ValueError(f"{spec.operation}: pickle output does not support compression")
    codec = codec_for_name(compression)

    def write_body(sink: Any) -> int:
        target: Any = CompressingWriter(sink, codec) if codec else sink
        if kind == "text":
            count = _write_text_lines(target, records)
        else:
            count = write_pickle_frames(target, records, batch_size)
        if codec:
            target.finish()
        return count

    extension = codec.extension if codec else ""
    return write_attempt(spec, partition_index, attempt_id, extension, write_body)


def write_attempt(
    spec: WriteJobSpec,
    partition_index: int,
    attempt_id: str | None,
    extension: str,
    write_body: Callable[[Any], int],
) -> TaskCommitMessage:
    """Write one partition's attempt file with ``write_body(sink)``, which writes bytes to
    ``sink.write`` and returns the number of records; runs on a worker.

    The part is named ``part-NNNNN<extension>``. If ``write_body`` raises, the attempt's file is
    removed and the error propagates.
    """
    require_int(partition_index, spec.operation, "partition_index", minimum=0)
    attempt = attempt_id if attempt_id is not None else uuid.uuid4().hex[:16]
    if not _ATTEMPT_ID.match(attempt):
        raise ValueError(
            f"{spec.operation}: attempt_id must be 1-64 characters of [A-Za-z0-9_.-], "
            f"got {attempt!r}"
        )
    part_name = f"part-{partition_index:05d}{extension}"
    temp_path = join_path(spec.temp_dir, f"attempt-{attempt}-{part_name}")
    temp_url = display_url(spec.fs, temp_path, spec.url)
    with fs_errors(spec.operation, temp_url):
        stream = spec.fs.open(temp_path, "wb")
    sink = _CountingSink(stream, spec.operation, temp_url)
    try:
        count = write_body(sink)
        with fs_errors(spec.operation, temp_url):
            stream.close()
    except BaseException:
        _discard_attempt(spec.fs, stream, temp_path)
        raise
    protocol = spec.fs.protocol if isinstance(spec.fs.protocol, str) else spec.fs.protocol[0]
    task_metrics.add_labelled(task_metrics.OUTPUT_BYTES, protocol, sink.written)
    task_metrics.add_labelled(task_metrics.OUTPUT_RECORDS, protocol, count)
    return TaskCommitMessage(partition_index, attempt, temp_path, part_name, count, sink.written)


def _discard_attempt(fs: AbstractFileSystem, stream: Any, temp_path: str) -> None:
    try:
        stream.close()
    except Exception:
        pass  # the original error matters more than a failed close of a doomed file
    try:
        fs.rm(temp_path)
    except Exception:
        pass  # a leftover attempt file is harmless: commit and abort remove _temporary


class _CountingSink:
    """A write-only stream that counts bytes and names the file in errors."""

    closed = False

    def __init__(self, stream: BinaryIO, operation: str, url: str) -> None:
        self._stream = stream
        self._operation = operation
        self._url = url
        self.written = 0

    def write(self, data: bytes) -> int:
        with fs_errors(self._operation, self._url):
            self._stream.write(data)
        self.written += len(data)
        return len(data)

    def tell(self) -> int:
        return self.written

    def flush(self) -> None:
        """Nothing to do: the file is flushed when the attempt is closed."""


def _record_to_text(record: Any) -> str:
    if isinstance(record, bytes):
        return record.decode("utf-8", "replace")
    return str(record)


def _write_text_lines(target: Any, records: Iterable[Any]) -> int:
    iterator = iter(records)
    count = 0
    while True:
        batch = list(islice(iterator, _TEXT_RECORDS_PER_WRITE))
        if not batch:
            return count
        count += len(batch)
        lines = [r if type(r) is str else _record_to_text(r) for r in batch]
        lines.append("")
        target.write("\n".join(lines).encode("utf-8"))


def write_pickle_frames(stream: Any, records: Iterable[Any], batch_size: int = 10) -> int:
    """Write records in sparkish's pickle-file format to a binary stream; returns the count.

    >>> import io
    >>> sink = io.BytesIO()
    >>> write_pickle_frames(sink, range(5), batch_size=2)
    5
    >>> sink.getvalue()[:8]
    b'SPKPKL\\x00\\x01'
    """
    buffer = bytearray(_pickle_format.MAGIC)
    iterator = iter(records)
    count = 0
    size = batch_size if batch_size > 0 else 1
    while True:
        batch = list(islice(iterator, size))
        if not batch:
            break
        count += len(batch)
        payload = _pickle_format.dumps_batch(batch)
        buffer += _pickle_format.FRAME_HEADER.pack(len(payload))
        buffer += payload
        if batch_size <= 0:  # aim for frames of about 64 KiB
            if len(payload) < _AUTO_BATCH_TARGET_BYTES:
                size *= 2
            elif len(payload) > 10 * _AUTO_BATCH_TARGET_BYTES and size > 1:
                size //= 2
        if len(buffer) >= _PICKLE_FLUSH_BYTES:
            stream.write(bytes(buffer))
            buffer.clear()
    if buffer:
        stream.write(bytes(buffer))
    return count
