"""sparkish.io against real filesystems: local disk, fsspec memory, HDFS and WebHDFS.

Most tests run once per filesystem through the ``store`` fixture. The HDFS variants use a real
MiniDFSCluster (``tests/fixtures_hdfs.py``, one DataNode) through both clients sparkish supports:
hdfs-native for ``hdfs://`` and fsspec's WebHDFS for ``webhdfs://``.

Expected results are built independently of the code under test: text files are written from
known lists of lines, so the lines a reader must return are known by construction. The line
rules (``\\n``, ``\\r\\n`` and a lone ``\\r`` end a line; a UTF-8 BOM at the start is dropped;
empty directories give no partitions; existing output directories are refused) are the ones
observed from PySpark 4.3 ``textFile``/``saveAsTextFile`` on this machine.
"""

from __future__ import annotations

import bz2
import dataclasses
import getpass
import gzip
import json
import lzma
import multiprocessing
import os
import pickle
import random
import shutil
import socket
import subprocess
import sys
import textwrap
import uuid
import zlib
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any
from unittest import mock

import fsspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sparkish.io.readers as readers_module
from sparkish.io import (
    DEFAULT_OPEN_COST_BYTES,
    InputSplit,
    OutputCommitter,
    codec_for_name,
    codec_for_path,
    plan_binary_record_splits,
    plan_pickle_splits,
    plan_text_splits,
    plan_whole_file_splits,
    read_binary_files,
    read_binary_records,
    read_pickle_split,
    read_text_split,
    read_whole_text_files,
    write_task,
)
from tests.helpers import lines_totalling, numbered_lines

REPO_ROOT = Path(__file__).resolve().parent.parent
BIG_FILE_BYTES = 50 * 1024 * 1024

FILESYSTEMS = [
    pytest.param("local", id="local"),
    pytest.param("memory", id="memory"),
    pytest.param("hdfs", id="hdfs", marks=pytest.mark.hdfs),
    pytest.param("webhdfs", id="webhdfs", marks=pytest.mark.hdfs),
]


@dataclasses.dataclass
class Store:
    """One test's private directory on one filesystem, plus helpers to arrange files there."""

    kind: str
    root_url: str
    storage_options: dict[str, Any]
    fs: Any
    root_path: str
    record_url_prefix: str  # how URLs of files found by listing start

    def url(self, relative: str = "") -> str:
        return f"{self.root_url}/{relative}" if relative else self.root_url

    def path(self, relative: str = "") -> str:
        return f"{self.root_path}/{relative}" if relative else self.root_path

    def write(self, relative: str, data: bytes) -> None:
        parent = self.path(relative).rsplit("/", 1)[0]
        self.fs.makedirs(parent, exist_ok=True)
        with self.fs.open(self.path(relative), "wb") as handle:
            handle.write(data)

    def read(self, relative: str) -> bytes:
        with self.fs.open(self.path(relative), "rb") as handle:
            return handle.read()

    def mkdir(self, relative: str) -> None:
        self.fs.makedirs(self.path(relative), exist_ok=True)

    def exists(self, relative: str) -> bool:
        return self.fs.exists(self.path(relative))

    def listdir(self, relative: str = "") -> list[str]:
        return sorted(
            entry.rstrip("/").rsplit("/", 1)[-1]
            for entry in self.fs.ls(self.path(relative), detail=False)
        )


@pytest.fixture(params=FILESYSTEMS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    kind = request.param
    if kind == "local":
        root = tmp_path / "data"
        root.mkdir()
        fs, path = fsspec.core.url_to_fs(str(root))
        yield Store(kind, str(root), {}, fs, path, "file:/")
        return
    if kind == "memory":
        url, options = f"memory://sparkish-io-tests/{uuid.uuid4().hex}", {}
        prefix = "memory://"
    else:
        cluster = request.getfixturevalue("hdfs_cluster")
        unique = cluster.unique_path()
        if kind == "hdfs":
            prefix, options = cluster.namenode_url, cluster.hdfs_storage_options
        else:
            prefix, options = cluster.webhdfs_url, cluster.webhdfs_storage_options
        url = prefix + unique
    fs, path = fsspec.core.url_to_fs(url, **options)
    fs.makedirs(path, exist_ok=True)
    yield Store(kind, url, options, fs, path, prefix)
    if fs.exists(path):
        fs.rm(path, recursive=True)


# ---------------------------------------------------------------------------------------------
# Helpers


def lines_of(splits: list[InputSplit], **kwargs: Any) -> list[str]:
    """All lines of all splits, split after split, the way an RDD's partitions concatenate."""
    return [line for split in splits for line in read_text_split(split, **kwargs)]


def encode_lines(lines: list[str], terminator: str = "\n", final_terminator: bool = True) -> bytes:
    body = terminator.join(lines)
    if final_terminator and lines:
        body += terminator
    return body.encode("utf-8")


def split_at(split: InputSplit, cuts: list[int]) -> InputSplit:
    """The single-segment ``split`` re-cut into consecutive segments at byte offsets ``cuts``."""
    (segment,) = split.segments
    bounds = [0, *cuts, segment.file_size]
    return InputSplit(
        0,
        tuple(
            dataclasses.replace(segment, start=start, end=end)
            for start, end in zip(bounds, bounds[1:], strict=False)
        ),
    )


# ---------------------------------------------------------------------------------------------
# Planning and reading text


def test_mixed_directory_is_balanced_by_bytes_and_every_line_is_read_once(store: Store) -> None:
    big_lines = lines_totalling(BIG_FILE_BYTES, salt=1)
    store.write("input/big.txt", encode_lines(big_lines))
    expected = list(big_lines)
    rng = random.Random(5)
    for index in range(200):
        small = numbered_lines(rng.randint(1, 30), salt=100 + index)
        terminator = "\r\n" if index % 3 == 0 else "\n"
        final = index % 7 != 0
        store.write(f"input/small-{index:03d}.txt", encode_lines(small, terminator, final))
        expected.extend(small)

    splits = plan_text_splits(store.url("input"), 4, store.storage_options)

    assert len(splits) == 4
    sizes = [split.num_bytes for split in splits]
    # Balanced by weight (bytes + open cost per file): real bytes differ by at most the open
    # cost of the 200 small files.
    assert max(sizes) - min(sizes) <= 200 * DEFAULT_OPEN_COST_BYTES + 2
    assert max(sizes) / min(sizes) < 1.1
    big_url_suffix = "input/big.txt"
    assert sum(any(u.endswith(big_url_suffix) for u in split.urls) for split in splits) >= 3
    assert lines_of(splits) == expected


def test_every_split_boundary_gives_each_line_exactly_once(store: Store) -> None:
    content = "alpha\r\nbeta\rgamma\n\nété 𝄞\r\n\r\n\rlast line without newline".encode()
    expected = ["alpha", "beta", "gamma", "", "été 𝄞", "", "", "last line without newline"]
    store.write("edge.txt", content)
    (whole,) = plan_text_splits(store.url("edge.txt"), 1, store.storage_options)

    for cut in range(1, len(content)):
        assert lines_of([split_at(whole, [cut])]) == expected, f"cut at byte {cut}"

    rng = random.Random(11)
    for _ in range(25):
        cuts = sorted(rng.sample(range(1, len(content)), rng.randint(2, 6)))
        for chunk_size in (1, 3, 1 << 20):
            got = lines_of([split_at(whole, cuts)], chunk_size=chunk_size)
            assert got == expected, f"cuts {cuts}, chunk_size {chunk_size}"

    partition_counts = range(1, len(content) + 1) if store.kind in ("local", "memory") else (2, 7)
    for count in partition_counts:
        splits = plan_text_splits(store.url("edge.txt"), count, store.storage_options)
        assert len(splits) == count
        assert lines_of(splits) == expected


def test_text_edge_cases(store: Store) -> None:
    store.write("cases/a-empty.txt", b"")
    store.write("cases/b-no-newline.txt", "only line, no newline ✓".encode())
    store.write("cases/c-bom.txt", b"\xef\xbb\xbfwith bom\nsecond\n")
    store.write("cases/d-blank-lines.txt", b"\n\n\n")
    store.write("cases/e-invalid-utf8.txt", b"ok\xff\xfe\n")
    expected = [
        "only line, no newline ✓",
        "with bom",
        "second",
        "",
        "",
        "",
        "ok\ufffd\ufffd",
    ]
    splits = plan_text_splits(store.url("cases"), 3, store.storage_options)
    assert lines_of(splits) == expected
    assert all(not url.endswith("a-empty.txt") for split in splits for url in split.urls)
    as_bytes = lines_of(splits, use_unicode=False)
    assert as_bytes == [line.encode("utf-8") for line in expected]

    store.mkdir("empty-dir")
    assert plan_text_splits(store.url("empty-dir"), 4, store.storage_options) == []
    store.write("only-empty/x.txt", b"")
    store.write("only-empty/y.txt", b"")
    assert plan_text_splits(store.url("only-empty"), 2, store.storage_options) == []


def test_long_line_crossing_many_splits(store: Store) -> None:
    long_line = "x" * 300_000 + "é" * 1000
    lines = ["short", long_line, "after"]
    store.write("long.txt", encode_lines(lines))
    splits = plan_text_splits(store.url("long.txt"), 9, store.storage_options)
    assert len(splits) == 9
    per_split = [list(read_text_split(split, chunk_size=4096)) for split in splits]
    assert [line for chunk in per_split for line in chunk] == lines
    assert sum(1 for chunk in per_split if chunk) <= 3


COMPRESSED_INPUTS = {
    "a.txt.gz": lambda data: gzip.compress(data[:100]) + gzip.compress(data[100:]),
    "b.txt.bz2": bz2.compress,
    "c.txt.xz": lzma.compress,
    "d.txt.deflate": zlib.compress,
}


def test_compressed_inputs_are_decompressed_and_never_split(store: Store) -> None:
    expected = []
    for index, (name, compress) in enumerate(COMPRESSED_INPUTS.items()):
        lines = numbered_lines(3000, salt=index)
        store.write(f"compressed/{name}", compress(encode_lines(lines)))
        expected.extend(lines)
    plain = numbered_lines(500, salt=99)
    store.write("compressed/e.txt", encode_lines(plain))
    expected.extend(plain)

    splits = plan_text_splits(store.url("compressed"), 16, store.storage_options)

    for name in COMPRESSED_INPUTS:
        segments = [
            segment for split in splits for segment in split.segments if segment.url.endswith(name)
        ]
        assert len(segments) == 1, name
        assert (segments[0].start, segments[0].end) == (0, segments[0].file_size)
        assert segments[0].compression == codec_for_path(name).name
    assert lines_of(splits) == expected

    assert len(plan_text_splits(store.url("compressed/b.txt.bz2"), 8, store.storage_options)) == 1


def test_corrupt_and_unsupported_compressed_input_name_the_file(store: Store) -> None:
    store.write("bad/truncated.txt.gz", gzip.compress(encode_lines(numbered_lines(5000)))[:-50])
    splits = plan_text_splits(store.url("bad/truncated.txt.gz"), 1, store.storage_options)
    with pytest.raises(ValueError, match=r"truncated\.txt\.gz.*truncated"):
        lines_of(splits)

    store.write("bad/garbage.txt.gz", b"this is not gzip data\n")
    splits = plan_text_splits(store.url("bad/garbage.txt.gz"), 1, store.storage_options)
    with pytest.raises(ValueError, match=r"garbage\.txt\.gz"):
        lines_of(splits)

    store.write("lz4/x.txt.lz4", b"\x04\x22\x4d\x18")
    with pytest.raises(ValueError, match=r"x\.txt\.lz4"):
        plan_text_splits(store.url("lz4"), 1, store.storage_options)


def test_globs_comma_lists_and_brace_alternatives(store: Store) -> None:
    contents = {
        name: numbered_lines(5, salt=i) for i, name in enumerate(["a.txt", "b.txt", "c.log"])
    }
    for name, lines in contents.items():
        store.write(f"g/{name}", encode_lines(lines))
    store.write("g/_hidden.txt", b"never read\n")
    options = store.storage_options

    assert lines_of(plan_text_splits(store.url("g/*.txt"), 2, options)) == (
        contents["a.txt"] + contents["b.txt"]
    )
    comma = f"{store.url('g/c.log')},{store.url('g/a.txt')}"
    assert lines_of(plan_text_splits(comma, 2, options)) == contents["c.log"] + contents["a.txt"]
    braces = store.url("g/{c.log,a.txt}")
    assert lines_of(plan_text_splits(braces, 2, options)) == contents["a.txt"] + contents["c.log"]
    everything = lines_of(plan_text_splits(store.url("g/*"), 2, options))
    assert everything == contents["a.txt"] + contents["b.txt"] + contents["c.log"]

    with pytest.raises(FileNotFoundError, match=r"matches 0 files") as error:
        plan_text_splits(store.url("g/*.parquet"), 2, options)
    assert store.url("g/*.parquet") in str(error.value)


def test_min_partitions(store: Store) -> None:
    lines = numbered_lines(2000)
    store.write("mp/data.txt", encode_lines(lines))
    for count in (1, 2, 3, 5, 8, 13):
        splits = plan_text_splits(store.url("mp/data.txt"), count, store.storage_options)
        assert len(splits) == count
        assert lines_of(splits) == lines

    store.write("gz/one.txt.gz", gzip.compress(encode_lines(lines)))
    assert len(plan_text_splits(store.url("gz/one.txt.gz"), 4, store.storage_options)) == 1

    # Eight files of nearly equal size (the wordcount layout) and min_partitions=2: two splits
    # of four whole files each, not a sliver of a fifth file.
    for index in range(8):
        lines = [f"{index}:{i:06d} {'x' * 50}" for i in range(100 + index)]
        store.write(f"eight/part-{index}.txt", encode_lines(lines))
    splits = plan_text_splits(store.url("eight"), 2, store.storage_options)
    assert [len(split.segments) for split in splits] == [4, 4]
    assert all(segment.start == 0 for split in splits for segment in split.segments)


def test_hidden_files_and_subdirectories(store: Store) -> None:
    store.write("h/a.txt", b"visible\n")
    store.write("h/_b.txt", b"underscore\n")
    store.write("h/.c.txt", b"dot\n")
    store.write("h/_temporary/0/part-00000", b"left over\n")
    options = store.storage_options

    assert lines_of(plan_text_splits(store.url("h"), 2, options)) == ["visible"]
    # Spark refuses an explicitly named hidden file ("does not exist"); sparkish reads it.
    assert lines_of(plan_text_splits(store.url("h/_b.txt"), 1, options)) == ["underscore"]

    store.write("h/sub/nested.txt", b"nested\n")
    with pytest.raises(IsADirectoryError, match="recursive") as error:
        plan_text_splits(store.url("h"), 2, options)
    assert "h/sub" in str(error.value)
    assert lines_of(plan_text_splits(store.url("h"), 2, options, recursive=True)) == [
        "visible",
        "nested",
    ]


def test_whole_text_files_and_binary_files(store: Store) -> None:
    files = {
        "a.txt": "first file\nwith two lines ✓\n".encode(),
        "b.txt.gz": gzip.compress(b"compressed content\n"),
        "c.txt": b"",
        "d.bin": bytes(range(256)) * 40,
    }
    for name, data in files.items():
        store.write(f"w/{name}", data)
    options = store.storage_options

    splits = plan_whole_file_splits(store.url("w"), 3, options)
    records = [record for split in splits for record in read_whole_text_files(split)]
    assert [url.rsplit("/", 1)[-1] for url, _ in records] == list(files)
    assert records[0][1] == "first file\nwith two lines ✓\n"
    assert records[1][1] == "compressed content\n"
    assert records[2][1] == ""
    assert records[3][1] == files["d.bin"].decode("utf-8", "replace")
    assert all(url.startswith(store.record_url_prefix) for url, _ in records)
    # A record's URL names the file well enough to read it again.
    assert lines_of(plan_text_splits(records[0][0], 1, options)) == [
        "first file",
        "with two lines ✓",
    ]

    binary_splits = plan_whole_file_splits(
        store.url("w"), 2, options, decompress=False, operation="binaryFiles"
    )
    binary = {
        url.rsplit("/", 1)[-1]: data
        for split in binary_splits
        for url, data in read_binary_files(split)
    }
    assert binary == files


def test_binary_records(store: Store) -> None:
    record_length = 7
    rng = random.Random(3)
    expected: list[bytes] = []
    for name, count in (("r1.bin", 1000), ("r2.bin", 0), ("r3.bin", 333)):
        records = [bytes(rng.randrange(256) for _ in range(record_length)) for _ in range(count)]
        store.write(f"rec/{name}", b"".join(records))
        expected.extend(records)
    splits = plan_binary_record_splits(store.url("rec"), record_length, 5, store.storage_options)
    assert len(splits) == 5
    for split in splits:
        for segment in split.segments:
            assert segment.start % record_length == 0
            assert segment.end % record_length == 0
    got = [r for split in splits for r in read_binary_records(split, record_length, chunk_size=50)]
    assert got == expected

    store.write("rec-bad/odd.bin", b"0123456789")
    with pytest.raises(ValueError, match=r"odd\.bin.*recordLength=7"):
        plan_binary_record_splits(store.url("rec-bad"), record_length, 1, store.storage_options)


# ---------------------------------------------------------------------------------------------
# Writing and committing


def run_write_job(
    store: Store,
    relative: str,
    partitions: list[list[Any]],
    *,
    overwrite: bool = False,
    **task_options: Any,
) -> list[str]:
    committer = OutputCommitter(store.url(relative), store.storage_options, overwrite)
    spec = committer.setup_job()
    messages = [
        write_task(spec, index, f"attempt{index}", records, **task_options)
        for index, records in enumerate(partitions)
    ]
    return committer.commit_job(messages, len(partitions))


TEXT_PARTITIONS: list[list[Any]] = [
    ["plain", "é€𝄞 unicode", ""],
    [],
    [None, 42, 3.5, ("t", 1), b"bytes \xff"],
    [],
    ["line with\ttab"],
    [],
    [],
    [str(i) for i in range(10000)],
]
# What PySpark writes for those records (str(), bytes decoded with replacement).
TEXT_EXPECTED: list[list[str]] = [
    ["plain", "é€𝄞 unicode", ""],
    [],
    ["None", "42", "3.5", "('t', 1)", "bytes \ufffd"],
    [],
    ["line with\ttab"],
    [],
    [],
    [str(i) for i in range(10000)],
]


@pytest.mark.parametrize(
    ("compression", "extension", "decompress"),
    [
        (None, "", lambda data: data),
        ("org.apache.hadoop.io.compress.GzipCodec", ".gz", gzip.decompress),
        ("bzip2", ".bz2", bz2.decompress),
    ],
)
def test_text_output_round_trip(store: Store, compression, extension, decompress) -> None:
    part_urls = run_write_job(store, "out", TEXT_PARTITIONS, compression=compression)

    names = [f"part-{index:05d}{extension}" for index in range(len(TEXT_PARTITIONS))]
    assert store.listdir("out") == sorted(["_SUCCESS", *names])
    assert [url.rsplit("/", 1)[-1] for url in part_urls] == names
    assert store.read("out/_SUCCESS") == b""
    for name, lines in zip(names, TEXT_EXPECTED, strict=True):
        assert decompress(store.read(f"out/{name}")) == encode_lines(lines)
    reread = lines_of(plan_text_splits(store.url("out"), 3, store.storage_options))
    assert reread == [line for lines in TEXT_EXPECTED for line in lines]


def test_pickle_output_round_trip(store: Store) -> None:
    partitions: list[list[Any]] = [
        [1, "a", None, (1, 2), {"k": [1, 2]}, b"\x00\xff", 2.5],
        [],
        list(range(2500)),
    ]
    for batch_size in (1, 10, 0):
        relative = f"pickled-{batch_size}"
        run_write_job(store, relative, partitions, kind="pickle", batch_size=batch_size)
        assert store.listdir(relative) == ["_SUCCESS", "part-00000", "part-00001", "part-00002"]
        splits = plan_pickle_splits(store.url(relative), 2, store.storage_options)
        records = [record for split in splits for record in read_pickle_split(split)]
        assert records == [record for part in partitions for record in part]

    run_write_job(store, "pickled-lambda", [[lambda x: x + 1]], kind="pickle")
    (split,) = plan_pickle_splits(store.url("pickled-lambda"), 1, store.storage_options)
    (function,) = read_pickle_split(split)
    assert function(41) == 42

    store.write("not-pickle/part-00000", b"SEQ\x06!org.apache.hadoop.io.NullWritable")
    (split,) = plan_pickle_splits(store.url("not-pickle"), 1, store.storage_options)
    with pytest.raises(ValueError, match=r"part-00000.*SequenceFile"):
        list(read_pickle_split(split))


def failing_records(count_before_failure: int) -> Iterator[str]:
    yield from (f"record {i}" for i in range(count_before_failure))
    raise RuntimeError("task failed while producing partition 3")


def test_failed_task_and_abort_leave_no_output(store: Store) -> None:
    committer = OutputCommitter(store.url("aborted"), store.storage_options)
    spec = committer.setup_job()
    messages = []
    for index in range(8):
        if index == 3:
            with pytest.raises(RuntimeError, match="partition 3"):
                write_task(spec, index, "a0", failing_records(5000))
            continue
        messages.append(write_task(spec, index, "a0", [f"p{index}"] * 100))
    committer.abort_job()
    assert not store.exists("aborted")
    committer.abort_job()  # idempotent
    assert not store.exists("aborted")


def test_abort_keeps_the_previous_output_when_overwriting(store: Store) -> None:
    run_write_job(store, "kept", [["old 0"], ["old 1"]])
    before = {name: store.read(f"kept/{name}") for name in store.listdir("kept")}

    committer = OutputCommitter(store.url("kept"), store.storage_options, overwrite=True)
    spec = committer.setup_job()
    write_task(spec, 0, "a0", ["new 0"])
    with pytest.raises(RuntimeError):
        write_task(spec, 1, "a0", failing_records(10))
    committer.abort_job()

    assert {name: store.read(f"kept/{name}") for name in store.listdir("kept")} == before


def test_retried_and_duplicate_attempts_commit_exactly_once(store: Store) -> None:
    committer = OutputCommitter(store.url("retried"), store.storage_options)
    spec = committer.setup_job()
    first_try = []
    with pytest.raises(RuntimeError):
        first_try.append(write_task(spec, 2, "attempt-0", failing_records(700)))
    messages = [
        write_task(spec, 0, "attempt-0", ["zero"]),
        write_task(spec, 1, "attempt-0", ["one, first attempt"]),
        write_task(spec, 1, "speculative-1", ["one, second attempt"]),
        write_task(spec, 2, "attempt-1", ["two, after a retry"]),
        write_task(spec, 3, "attempt-0", ["three"]),
        write_task(spec, 0, "attempt-9", ["zero again"]),
    ]
    assert first_try == []
    committer.commit_job(messages, 4)

    assert store.listdir("retried") == [
        "_SUCCESS",
        "part-00000",
        "part-00001",
        "part-00002",
        "part-00003",
    ]
    assert lines_of(plan_text_splits(store.url("retried"), 1, store.storage_options)) == [
        "zero",
        "one, first attempt",
        "two, after a retry",
        "three",
    ]


def test_existing_output_path_is_refused_unless_overwrite(store: Store) -> None:
    store.write("exists/part-00000", b"previous\n")
    with pytest.raises(FileExistsError, match="already exists") as error:
        OutputCommitter(store.url("exists"), store.storage_options).setup_job()
    assert store.url("exists").split("://")[-1].lstrip("/") in str(error.value)

    store.mkdir("empty-existing")  # Spark refuses an existing empty directory too
    with pytest.raises(FileExistsError):
        OutputCommitter(store.url("empty-existing"), store.storage_options).setup_job()
    assert store.listdir("exists") == ["part-00000"]


def test_overwrite_replaces_the_previous_output(store: Store) -> None:
    run_write_job(store, "replaced", [[f"old {i}"] for i in range(5)])
    run_write_job(store, "replaced", [["new 0"], ["new 1"]], overwrite=True)
    assert store.listdir("replaced") == ["_SUCCESS", "part-00000", "part-00001"]
    assert lines_of(plan_text_splits(store.url("replaced"), 1, store.storage_options)) == [
        "new 0",
        "new 1",
    ]


def test_commit_with_a_missing_partition_aborts(store: Store) -> None:
    committer = OutputCommitter(store.url("incomplete"), store.storage_options)
    spec = committer.setup_job()
    messages = [write_task(spec, index, "a0", ["x"]) for index in (0, 1, 3)]
    with pytest.raises(ValueError, match=r"partition\(s\) \[2\]"):
        committer.commit_job(messages, 4)
    assert not store.exists("incomplete")


# ---------------------------------------------------------------------------------------------
# Bad paths


def test_bad_input_paths_raise_errors_naming_the_path(store: Store) -> None:
    options = store.storage_options
    missing = store.url("no/such/file.txt")
    with pytest.raises(FileNotFoundError) as error:
        plan_text_splits(missing, 2, options)
    assert missing in str(error.value)

    store.write("plain.txt", b"a file, not a directory\n")
    below_a_file = store.url("plain.txt/inside.txt")
    with pytest.raises((FileNotFoundError, NotADirectoryError)) as error:
        plan_text_splits(below_a_file, 2, options)
    assert below_a_file in str(error.value)

    with pytest.raises(ValueError, match="empty path"):
        plan_text_splits(f"{store.url('plain.txt')},,{store.url('plain.txt')}", 2, options)


def test_output_below_a_file_is_refused(store: Store) -> None:
    store.write("a-file", b"x")
    with pytest.raises(NotADirectoryError, match="is a file") as error:
        OutputCommitter(store.url("a-file/out"), store.storage_options).setup_job()
    assert "a-file" in str(error.value)


def test_unknown_protocol_names_the_path() -> None:
    with pytest.raises(ValueError, match=r"unknown filesystem protocol 'nosuchfs'.*nosuchfs://b/x"):
        plan_text_splits("nosuchfs://b/x", 2)
    with pytest.raises(ValueError, match="nosuchfs"):
        OutputCommitter("nosuchfs://b/out")


def test_unreachable_namenode_is_a_prompt_connection_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # Nothing listens on `port` now; hdfs-native alone would retry for minutes.
    with pytest.raises(ConnectionError, match=rf"127\.0\.0\.1:{port}"):
        plan_text_splits(f"hdfs://127.0.0.1:{port}/data", 2)
    with pytest.raises(ConnectionError, match=rf"webhdfs://127\.0\.0\.1:{port}/data"):
        plan_text_splits(f"webhdfs://127.0.0.1:{port}/data", 2, {"user": getpass.getuser()})


_CHILD_PLAN_SCRIPT = textwrap.dedent(
    """
    import json, sys
    from sparkish.io import plan_text_splits
    try:
        plan_text_splits(sys.argv[1], 1)
        print(json.dumps({"error": None}))
    except Exception as error:
        print(json.dumps({"error": type(error).__name__, "message": str(error)}))
    """
)


_DROP_DAC_OVERRIDE = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", "--"]


def _can_drop_dac_override() -> str | None:
    """None if ``setpriv`` can drop the capabilities here, else the reason it cannot."""
    if shutil.which("setpriv") is None:
        return "util-linux 'setpriv' is not installed"
    probe = subprocess.run(
        [*_DROP_DAC_OVERRIDE, "true"], capture_output=True, text=True, check=False
    )
    return None if probe.returncode == 0 else f"setpriv failed: {probe.stderr.strip()}"


def _plan_in_child(url: str, env: dict[str, str] | None = None, drop_caps: bool = False) -> dict:
    """Run plan_text_splits(url) in a fresh interpreter; returns the error it raised, if any.

    ``drop_caps`` removes CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH from the child's capability
    bounding set with util-linux ``setpriv``, so that even root is subject to file modes.
    (A ``preexec_fn`` would fork without exec from a multi-threaded process, which can
    deadlock in fork handlers.)
    """
    command = [sys.executable, "-c", _CHILD_PLAN_SCRIPT, url]
    if drop_caps:
        command = [*_DROP_DAC_OVERRIDE, *command]
    completed = subprocess.run(
        command,
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT), **(env or {})},
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout.strip().splitlines()[-1])


def test_permission_denied_on_local_files_names_the_path(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    (locked / "a.txt").write_text("secret\n")
    locked.chmod(0)
    try:
        if os.geteuid() != 0:
            with pytest.raises(PermissionError) as error:
                plan_text_splits(str(locked), 1)
            outcome = {"error": "PermissionError", "message": str(error.value)}
        else:
            # root ignores file modes; a child without CAP_DAC_OVERRIDE is denied like anyone.
            reason = _can_drop_dac_override()
            if reason is not None:
                pytest.skip(f"running as root and cannot drop CAP_DAC_OVERRIDE: {reason}")
            outcome = _plan_in_child(str(locked), drop_caps=True)
    finally:
        locked.chmod(0o755)
    assert outcome["error"] == "PermissionError"
    assert str(locked) in outcome["message"]


@pytest.mark.hdfs
def test_permission_denied_on_hdfs_names_the_path(hdfs_cluster) -> None:
    fs, _ = fsspec.core.url_to_fs(hdfs_cluster.namenode_url)
    private = hdfs_cluster.unique_path("private")
    fs.makedirs(private + "/dir", exist_ok=True)
    with fs.open(private + "/dir/data.txt", "wb") as handle:
        handle.write(b"secret\n")
    with fs.open(private + "/readable-dir-secret-file.txt", "wb") as handle:
        handle.write(b"secret\n")
    fs.client.set_permission(private + "/dir", 0o700)
    fs.client.set_permission(private + "/readable-dir-secret-file.txt", 0o600)
    assert getpass.getuser() != "nobody"

    as_nobody = {"user": "nobody"}
    dir_url = f"{hdfs_cluster.webhdfs_url}{private}/dir"
    with pytest.raises(PermissionError) as error:
        plan_text_splits(dir_url, 1, as_nobody)
    assert dir_url in str(error.value)

    file_url = f"{hdfs_cluster.webhdfs_url}{private}/readable-dir-secret-file.txt"
    (split,) = plan_text_splits(file_url, 1, as_nobody)  # listing is allowed, reading is not
    with pytest.raises(PermissionError) as error:
        lines_of([split])
    assert "readable-dir-secret-file.txt" in str(error.value)

    with pytest.raises(PermissionError):
        OutputCommitter(f"{hdfs_cluster.webhdfs_url}{private}/dir/out", as_nobody).setup_job()

    native_url = f"{hdfs_cluster.namenode_url}{private}/dir"
    outcome = _plan_in_child(native_url, env={"HADOOP_USER_NAME": "nobody"})
    assert outcome["error"] == "PermissionError"
    assert native_url in outcome["message"]


# ---------------------------------------------------------------------------------------------
# Splits, specs and commit messages cross process boundaries


def _read_split_in_worker(split: InputSplit) -> list[str]:
    return list(read_text_split(split))


def _write_in_worker(spec, index: int, records: list[str]):
    return write_task(spec, index, None, records, compression="gzip")


# memory:// is private to one process by design, so it is left out here.
@pytest.mark.parametrize(
    "store", [p for p in FILESYSTEMS if p.values != ("memory",)], indirect=True
)
def test_splits_and_write_tasks_run_in_other_processes(store: Store) -> None:
    lines = numbered_lines(3000)
    store.write("xp/in.txt", encode_lines(lines))
    splits = plan_text_splits(store.url("xp/in.txt"), 3, store.storage_options)
    committer = OutputCommitter(store.url("xp/out"), store.storage_options)
    spec = committer.setup_job()
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=2, mp_context=spawn) as pool:
        read_back = list(pool.map(_read_split_in_worker, splits))
        messages = list(pool.map(_write_in_worker, [spec] * 3, range(3), read_back))
    assert [line for part in read_back for line in part] == lines
    committer.commit_job(messages, 3)
    assert store.listdir("xp/out") == [
        "_SUCCESS",
        "part-00000.gz",
        "part-00001.gz",
        "part-00002.gz",
    ]
    assert lines_of(plan_text_splits(store.url("xp/out"), 1, store.storage_options)) == lines


# ---------------------------------------------------------------------------------------------
# Properties and small units


@st.composite
def line_files(draw: st.DrawFn) -> tuple[bytes, list[str]]:
    """Bytes of a text file and its lines, built from (text, terminator) pairs."""
    alphabet = st.sampled_from(list("ab é𝄞\x85\u2028\x0b\x0c\ufeff"))
    pairs = draw(
        st.lists(
            st.tuples(st.text(alphabet, max_size=6), st.sampled_from(["\n", "\r\n", "\r"])),
            max_size=12,
        )
    )
    last = draw(st.text(alphabet, max_size=6))
    fixed, previous = [], ""
    for text, terminator in pairs:
        if previous == "\r" and text == "" and terminator.startswith("\n"):
            terminator = "\r"  # "\r" + "\n" would read as one terminator
        fixed.append((text, terminator))
        previous = terminator
    if last and previous == "\r" and last.startswith("\n"):
        last = ""
    content = "".join(text + terminator for text, terminator in fixed) + last
    lines = [text for text, _ in fixed] + ([last] if last else [])
    if content.startswith("\ufeff"):  # a BOM at the start of a file is dropped
        lines[0] = lines[0][1:]
        if not fixed and lines == [""]:
            lines = []  # PySpark: a file holding only a BOM has no lines
    return content.encode("utf-8"), lines


@settings(max_examples=300, deadline=None)
@given(
    file=line_files(),
    cut_fractions=st.lists(st.floats(0, 1), max_size=5),
    chunk_size=st.sampled_from([1, 2, 5, 64, 1 << 20]),
    block_size=st.sampled_from([1, 3, 8, 256 * 1024]),
)
def test_any_cuts_read_every_line_exactly_once(file, cut_fractions, chunk_size, block_size):
    content, expected = file
    path = f"/sparkish-io-property/{uuid.uuid4().hex}.txt"
    memory = fsspec.filesystem("memory")
    memory.pipe(path, content)
    try:
        splits = plan_text_splits(f"memory://{path}", 1)
        if not content:
            assert splits == [] and expected == []
            return
        cuts = sorted({max(1, min(len(content) - 1, int(f * len(content)))) for f in cut_fractions})
        cuts = [cut for cut in cuts if 0 < cut < len(content)]
        with mock.patch.object(readers_module, "_BLOCK_SIZE", block_size):
            got = lines_of([split_at(splits[0], cuts)], chunk_size=chunk_size)
        assert got == expected
    finally:
        memory.rm(path)


def test_codec_names_follow_hadoop_and_spark() -> None:
    assert codec_for_name("org.apache.hadoop.io.compress.GzipCodec").extension == ".gz"
    assert codec_for_name("org.apache.hadoop.io.compress.BZip2Codec").extension == ".bz2"
    assert codec_for_name("org.apache.hadoop.io.compress.DefaultCodec").extension == ".deflate"
    assert codec_for_name("gzip").name == codec_for_name("gz").name == "gzip"
    with pytest.raises(ValueError, match="SnappyCodec"):
        codec_for_name("org.apache.hadoop.io.compress.SnappyCodec")
    with pytest.raises(ValueError, match="unknown compression codec 'rar'"):
        codec_for_name("rar")
    try:
        import zstandard  # noqa: F401
    except ImportError:
        with pytest.raises(ValueError, match="zstandard"):
            codec_for_name("zstd")
        with pytest.raises(ValueError, match="zstandard"):
            codec_for_path("/x/part-00000.zst")
    else:
        assert codec_for_name("org.apache.hadoop.io.compress.ZStandardCodec").extension == ".zst"


def test_planning_arguments_are_validated(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("x\n")
    with pytest.raises(ValueError, match="minPartitions"):
        plan_text_splits(str(tmp_path), -1)
    with pytest.raises(ValueError, match="recordLength"):
        plan_binary_record_splits(str(tmp_path), 0)
    committer = OutputCommitter(str(tmp_path / "out"))
    spec = committer.setup_job()
    with pytest.raises(ValueError, match="kind"):
        write_task(spec, 0, None, [], kind="parquet")
    with pytest.raises(ValueError, match="attempt_id"):
        write_task(spec, 0, "../escape", [])
    with pytest.raises(ValueError, match="compression"):
        write_task(spec, 0, None, [], kind="pickle", compression="gzip")
    committer.abort_job()
    assert not (tmp_path / "out").exists()


def test_pickled_split_is_small(tmp_path: Path) -> None:
    for index in range(200):
        (tmp_path / f"f{index:03d}.txt").write_text("line\n" * 10)
    (split,) = plan_text_splits(str(tmp_path), 1)
    assert len(split.segments) == 200
    assert len(pickle.dumps(split)) < 40_000
