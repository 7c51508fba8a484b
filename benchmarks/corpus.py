"""The deterministic wordcount corpus of WORKLOADS.md: generation, verification and caching.

The corpus is generated once into ``benchmarks/data/`` (git-ignored) and reused. Next to the text
files a ``manifest.json`` records the sha256 of the files and the word counts the generator
emitted, so that the expected result of the wordcount job is known independently of any job.

>>> import tempfile
>>> with tempfile.TemporaryDirectory() as tmp:
...     corpus = ensure_corpus(tmp, bytes_per_file=2_000, file_count=2)
...     sorted(path.name for path in corpus.files)
['part-00000.txt', 'part-00001.txt']
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import random
import shutil
import tempfile
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from string import ascii_lowercase

SEED = 20260801
VOCABULARY_SIZE = 50_000
FULL_FILE_COUNT = 8
FULL_BYTES_PER_FILE = 12_500_000
TINY_BYTES_PER_FILE = 125_000

# Published in WORKLOADS.md for the full corpus.
FULL_CORPUS_SHA256 = "ef64922806c8f48af4e79f2199517a04a64ab121470bcb4c886d3bfce4fe544f"
FULL_CORPUS_BYTES = 100_000_508
FULL_CORPUS_WORDS = 13_097_105

_MANIFEST = "manifest.json"


class CorpusError(RuntimeError):
    """The corpus on disk is missing, incomplete or does not match its definition."""


@dataclass(frozen=True)
class Corpus:
    """A generated corpus directory and what its generator recorded about it."""

    directory: Path
    files: tuple[Path, ...]
    sha256: str
    total_bytes: int
    word_counts: dict[str, int]

    @property
    def total_words(self) -> int:
        """Number of words (whitespace-separated tokens) in the corpus."""
        return sum(self.word_counts.values())


def items_digest(items: Iterable[tuple[object, object]]) -> str:
    """The 16-hex-digit checksum WORKLOADS.md defines over key/value result pairs.

    >>> items_digest([("b", 2), ("a", 1)]) == items_digest([("a", 1), ("b", 2)])
    True
    >>> len(items_digest([]))
    16
    """
    text = "".join(f"{key}\t{value}\n" for key, value in sorted(items))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def make_vocabulary(rng: random.Random, size: int = VOCABULARY_SIZE) -> list[str]:
    """Distinct lowercase words of 3-10 letters in rank order, drawn from ``rng``.

    >>> words = make_vocabulary(random.Random(1), size=5)
    >>> len(set(words)), all(3 <= len(word) <= 10 for word in words)
    (5, True)
    """
    vocabulary: list[str] = []
    seen: set[str] = set()
    while len(vocabulary) < size:
        length = rng.randint(3, 10)
        word = "".join(rng.choice(ascii_lowercase) for _ in range(length))
        if word in seen:
            continue
        seen.add(word)
        vocabulary.append(word)
    return vocabulary


def generate_corpus(
    directory: str | os.PathLike[str],
    bytes_per_file: int = FULL_BYTES_PER_FILE,
    file_count: int = FULL_FILE_COUNT,
) -> Corpus:
    """Write the corpus files into ``directory`` (which must exist) and a manifest next to them.

    With the default sizes this is exactly the 100 MB corpus of WORKLOADS.md; smaller
    ``bytes_per_file`` gives a prefix-compatible small corpus (same generator, fewer lines).

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     corpus = generate_corpus(tmp, bytes_per_file=1_000, file_count=1)
    ...     corpus.total_bytes >= 1_000
    True
    """
    target = Path(directory)
    rng = random.Random(SEED)
    vocabulary = make_vocabulary(rng)
    cumulative_weights = list(itertools.accumulate(1.0 / rank for rank in range(1, 50_001)))
    word_counts: Counter[str] = Counter()
    digest = hashlib.sha256()
    files: list[Path] = []
    total_bytes = 0
    for index in range(file_count):
        path = target / f"part-{index:05d}.txt"
        file_bytes = 0
        with open(path, "wb") as handle:
            while file_bytes < bytes_per_file:
                words = rng.choices(
                    vocabulary, cum_weights=cumulative_weights, k=rng.randint(8, 16)
                )
                line = (" ".join(words) + "\n").encode("ascii")
                handle.write(line)
                digest.update(line)
                word_counts.update(words)
                file_bytes += len(line)
        files.append(path)
        total_bytes += file_bytes
    corpus = Corpus(target, tuple(files), digest.hexdigest(), total_bytes, dict(word_counts))
    manifest = {
        "seed": SEED,
        "bytes_per_file": bytes_per_file,
        "file_count": file_count,
        "sha256": corpus.sha256,
        "total_bytes": total_bytes,
        "total_words": corpus.total_words,
        "word_counts": corpus.word_counts,
    }
    (target / _MANIFEST).write_text(json.dumps(manifest))
    return corpus


def _files_sha256(files: Iterable[Path]) -> tuple[str, int]:
    digest = hashlib.sha256()
    total = 0
    for path in files:
        with open(path, "rb") as handle:
            while block := handle.read(1 << 22):
                digest.update(block)
                total += len(block)
    return digest.hexdigest(), total


def _load_corpus(directory: Path, bytes_per_file: int, file_count: int) -> Corpus | None:
    manifest_path = directory / _MANIFEST
    if not manifest_path.exists():
        return None
    manifest = json.loads(manifest_path.read_text())
    if manifest.get("bytes_per_file") != bytes_per_file or manifest.get("file_count") != file_count:
        return None
    files = tuple(directory / f"part-{index:05d}.txt" for index in range(file_count))
    if not all(path.exists() for path in files):
        return None
    sha256, total_bytes = _files_sha256(files)
    if sha256 != manifest["sha256"]:
        raise CorpusError(
            f"corpus in {directory} changed since it was generated (sha256 {sha256}, "
            f"manifest says {manifest['sha256']}); delete the directory to regenerate it"
        )
    return Corpus(directory, files, sha256, total_bytes, manifest["word_counts"])


def _verify_full(corpus: Corpus) -> None:
    problems = []
    if corpus.sha256 != FULL_CORPUS_SHA256:
        problems.append(f"sha256 {corpus.sha256} != {FULL_CORPUS_SHA256}")
    if corpus.total_bytes != FULL_CORPUS_BYTES:
        problems.append(f"{corpus.total_bytes} bytes != {FULL_CORPUS_BYTES}")
    if corpus.total_words != FULL_CORPUS_WORDS:
        problems.append(f"{corpus.total_words} words != {FULL_CORPUS_WORDS}")
    if problems:
        raise CorpusError(
            f"generated corpus in {corpus.directory} does not match WORKLOADS.md: "
            + "; ".join(problems)
        )


def ensure_corpus(
    directory: str | os.PathLike[str],
    bytes_per_file: int = FULL_BYTES_PER_FILE,
    file_count: int = FULL_FILE_COUNT,
) -> Corpus:
    """Return the corpus cached in ``directory``, generating it first if it is missing.

    Generation happens in a temporary sibling directory that is renamed into place, so an
    interrupted run never leaves a half-written corpus behind. The full-size corpus is checked
    against the sha256, size and word count published in WORKLOADS.md.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     first = ensure_corpus(Path(tmp) / "c", bytes_per_file=500, file_count=1)
    ...     again = ensure_corpus(Path(tmp) / "c", bytes_per_file=500, file_count=1)
    ...     first.sha256 == again.sha256
    True
    """
    target = Path(directory)
    is_full = bytes_per_file == FULL_BYTES_PER_FILE and file_count == FULL_FILE_COUNT
    corpus = _load_corpus(target, bytes_per_file, file_count)
    if corpus is None:
        if target.exists():
            shutil.rmtree(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
        try:
            generate_corpus(staging, bytes_per_file, file_count)
            try:
                staging.rename(target)
            except OSError:
                # Another process finished generating the same corpus first; use theirs.
                if not target.exists():
                    raise
        finally:
            if staging.exists():
                shutil.rmtree(staging)
        corpus = _load_corpus(target, bytes_per_file, file_count)
        if corpus is None:
            raise CorpusError(f"corpus generation into {target} did not produce a readable corpus")
    if is_full:
        _verify_full(corpus)
    return corpus


def ensure_replicated(base: Corpus, directory: str | os.PathLike[str], factor: int) -> list[Path]:
    """Make ``directory`` hold ``factor`` copies of the base corpus files (hard links if possible).

    Used by the scaling mode: ``factor`` x the data is ``factor`` x the files, still one input
    partition per file; every word count is then exactly ``factor`` times the base count.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     base = ensure_corpus(Path(tmp) / "base", bytes_per_file=500, file_count=2)
    ...     [path.name for path in ensure_replicated(base, Path(tmp) / "x2", 2)]
    ['part-00000.txt', 'part-00001.txt', 'part-00002.txt', 'part-00003.txt']
    """
    if factor < 1:
        raise ValueError(f"replication factor must be >= 1, got {factor}")
    target = Path(directory)
    target.mkdir(parents=True, exist_ok=True)
    files = []
    for copy_index in range(factor):
        for file_index, source in enumerate(base.files):
            path = target / f"part-{copy_index * len(base.files) + file_index:05d}.txt"
            if not path.exists() or path.stat().st_size != source.stat().st_size:
                path.unlink(missing_ok=True)
                try:
                    os.link(source, path)
                except OSError:
                    shutil.copyfile(source, path)
            files.append(path)
    wanted = set(files)
    for stale in target.glob("*.txt"):  # e.g. left by an earlier, different layout
        if stale not in wanted:
            stale.unlink()
    return files
