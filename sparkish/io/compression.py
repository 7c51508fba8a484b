"""Compression codecs for text input and output, named the way Hadoop and Spark name them.

Input files are recognised by extension (``.gz``, ``.bz2``, ``.xz``, ``.deflate``, ``.zst``) and
are decompressed as a stream; compressed files are never split. Output codecs are chosen by
name: a short name (``"gzip"``), an extension (``"gz"``) or Spark's codec class name
(``"org.apache.hadoop.io.compress.GzipCodec"``).

``zstd`` needs the optional ``zstandard`` package; without it, asking for zstd (or reading a
``.zst`` file) raises a ``ValueError`` that says so. LZ4 and Snappy (Hadoop's framing of them is
not a standard format) are rejected with a clear error.

>>> codec = codec_for_name("org.apache.hadoop.io.compress.GzipCodec")
>>> codec.name, codec.extension
('gzip', '.gz')
>>> codec_for_path("/data/logs/part-00000.bz2").name
'bzip2'
>>> codec_for_path("/data/logs/part-00000") is None
True
"""

from __future__ import annotations

import bz2
import lzma
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, BinaryIO

__all__ = [
    "Codec",
    "codec_for_name",
    "codec_for_path",
    "supported_codec_names",
]

_READ_SIZE = 4 * 1024 * 1024
_GZIP_LEVEL = 6


def _zstandard_module() -> Any:
    try:
        import zstandard  # noqa: PLC0415 - an optional dependency
    except ImportError:
        return None
    return zstandard


@dataclass(frozen=True)
class Codec:
    """A stream compression format: how to name it, and how to (de)compress it incrementally."""

    name: str
    extension: str
    hadoop_class: str | None
    _new_compressor: Callable[[], Any]
    _new_decompressor: Callable[[], Any]

    def compressor(self) -> Any:
        """A fresh object with ``compress(bytes) -> bytes`` and ``flush() -> bytes``."""
        return self._new_compressor()

    def decompressor(self) -> Any:
        """A fresh one-member decompressor with ``decompress``, ``eof`` and ``unused_data``."""
        return self._new_decompressor()


def _zstd_compressor() -> Any:
    return _require_zstandard().ZstdCompressor().compressobj()


def _zstd_decompressor() -> Any:
    return _ZstdMember(_require_zstandard())


def _require_zstandard() -> Any:
    module = _zstandard_module()
    if module is None:
        raise ValueError(
            "zstd compression needs the optional 'zstandard' package (pip install zstandard)"
        )
    return module


class _ZstdMember:
    """Adapts zstandard's decompressobj to the ``eof``/``unused_data`` protocol of zlib/bz2/lzma."""

    def __init__(self, zstandard: Any) -> None:
        self._inner = zstandard.ZstdDecompressor().decompressobj()

    def decompress(self, data: bytes) -> bytes:
        return self._inner.decompress(data)

    @property
    def eof(self) -> bool:
        return bool(getattr(self._inner, "eof", False))

    @property
    def unused_data(self) -> bytes:
        return getattr(self._inner, "unused_data", b"")


_CODECS: tuple[Codec, ...] = (
    Codec(
        "gzip",
        ".gz",
        "org.apache.hadoop.io.compress.GzipCodec",
        lambda: zlib.compressobj(_GZIP_LEVEL, zlib.DEFLATED, 16 + zlib.MAX_WBITS),
        lambda: zlib.decompressobj(16 + zlib.MAX_WBITS),
    ),
    Codec(
        "bzip2",
        ".bz2",
        "org.apache.hadoop.io.compress.BZip2Codec",
        lambda: bz2.BZ2Compressor(9),
        bz2.BZ2Decompressor,
    ),
    # Hadoop's DefaultCodec writes a zlib stream (with header) under the ".deflate" extension.
    Codec(
        "deflate",
        ".deflate",
        "org.apache.hadoop.io.compress.DefaultCodec",
        lambda: zlib.compressobj(_GZIP_LEVEL),
        zlib.decompressobj,
    ),
    Codec(
        "xz",
        ".xz",
        None,
        lambda: lzma.LZMACompressor(lzma.FORMAT_XZ),
        lambda: lzma.LZMADecompressor(lzma.FORMAT_AUTO),
    ),
    Codec(
        "zstd",
        ".zst",
        "org.apache.hadoop.io.compress.ZStandardCodec",
        _zstd_compressor,
        _zstd_decompressor,
    ),
)

_ALIASES: dict[str, str] = {
    "gz": "gzip",
    "gzipcodec": "gzip",
    "bz2": "bzip2",
    "bzip2codec": "bzip2",
    "defaultcodec": "deflate",
    "deflatecodec": "deflate",
    "zlib": "deflate",
    "lzma": "xz",
    "zst": "zstd",
    "zstandard": "zstd",
    "zstandardcodec": "zstd",
}
_UNSUPPORTED = {"lz4", "lz4codec", "snappy", "snappycodec", "lzo", "lzocodec", "lzopcodec"}
_UNSUPPORTED_EXTENSIONS = (".lz4", ".snappy", ".lzo")
_BY_NAME = {codec.name: codec for codec in _CODECS}


def supported_codec_names() -> list[str]:
    """Short names accepted by :func:`codec_for_name` (zstd only works with ``zstandard``).

    >>> supported_codec_names()
    ['gzip', 'bzip2', 'deflate', 'xz', 'zstd']
    """
    return [codec.name for codec in _CODECS]


def codec_for_name(name: str | None) -> Codec | None:
    """Look up an output codec by short name, extension or Hadoop class name (``None`` -> ``None``).

    >>> codec_for_name("BZip2Codec").extension
    '.bz2'
    >>> codec_for_name(None) is None
    True
    """
    if name is None:
        return None
    if not isinstance(name, str):
        raise TypeError(f"compression codec must be a string or None, not {type(name).__name__}")
    key = name.strip().lstrip(".")
    if "." in key:  # a Java class name: keep the simple name
        key = key.rsplit(".", 1)[-1]
    key = key.lower()
    key = _ALIASES.get(key, key)
    if key in _UNSUPPORTED:
        raise ValueError(
            f"compression codec {name!r} is not supported by sparkish; "
            f"use one of {supported_codec_names()} (or their Hadoop class names)"
        )
    codec = _BY_NAME.get(key)
    if codec is None:
        raise ValueError(
            f"unknown compression codec {name!r}; use one of {supported_codec_names()} "
            "or a Hadoop codec class name such as 'org.apache.hadoop.io.compress.GzipCodec'"
        )
    if codec.name == "zstd":
        _require_zstandard()
    return codec


def codec_for_path(path: str) -> Codec | None:
    """The codec implied by a file name's extension, or ``None`` for an uncompressed file.

    Raises ``ValueError`` for compressed formats sparkish cannot read (``.lz4``, ``.snappy``,
    ``.lzo``, and ``.zst`` without the ``zstandard`` package), naming the file.

    >>> codec_for_path("hdfs://nn:8020/logs/2024-01-01.log.gz").name
    'gzip'
    """
    lowered = path.lower()
    if lowered.endswith(_UNSUPPORTED_EXTENSIONS):
        raise ValueError(
            f"cannot read {path!r}: its compression format is not supported by sparkish "
            f"(supported extensions: {[codec.extension for codec in _CODECS]})"
        )
    for codec in _CODECS:
        if lowered.endswith(codec.extension):
            if codec.name == "zstd" and _zstandard_module() is None:
                raise ValueError(
                    f"cannot read {path!r}: zstd input needs the optional 'zstandard' package"
                )
            return codec
    return None


class DecompressingReader:
    """A read-only byte stream over a compressed stream; concatenated members are all read.

    ``read(n)`` returns at most ``n`` bytes and ``b""`` only at the end. Corrupt or truncated input
    raises ``ValueError`` naming ``url``.

    >>> import io, gzip
    >>> data = gzip.compress(b"one\\n") + gzip.compress(b"two\\n")
    >>> reader = DecompressingReader(io.BytesIO(data), codec_for_name("gzip"), "mem:x.gz")
    >>> reader.read(100) + reader.read(100)
    b'one\\ntwo\\n'
    """

    def __init__(self, raw: BinaryIO, codec: Codec, url: str, read_size: int = _READ_SIZE) -> None:
        self._raw = raw
        self._codec = codec
        self._url = url
        self._read_size = read_size
        self._decompressor = codec.decompressor()
        self._member_has_input = False
        self._buffer = b""
        self._offset = 0
        self._finished = False

    def read(self, size: int = -1) -> bytes:
        while self._offset >= len(self._buffer):
            if self._finished:
                return b""
            self._decompress_more()
        if size < 0 or self._offset + size >= len(self._buffer):
            out = self._buffer[self._offset :] if self._offset else self._buffer
            self._buffer, self._offset = b"", 0
            return out
        out = self._buffer[self._offset : self._offset + size]
        self._offset += size
        return out

    def _decompress_more(self) -> None:
        data = self._raw.read(self._read_size)
        if not data:
            if self._member_has_input and not self._decompressor.eof:
                raise ValueError(
                    f"cannot read {self._url}: {self._codec.name} data is truncated "
                    "(the stream ends before its end-of-stream marker)"
                )
            self._finished = True
            self._buffer, self._offset = b"", 0
            return
        pieces = []
        try:
            while data:
                self._member_has_input = True
                pieces.append(self._decompressor.decompress(data))
                if self._decompressor.eof:
                    data = self._decompressor.unused_data
                    self._decompressor = self._codec.decompressor()
                    self._member_has_input = False
                else:
                    data = b""
        except (zlib.error, OSError, lzma.LZMAError, EOFError) as exc:
            raise ValueError(
                f"cannot read {self._url}: corrupt {self._codec.name} data ({exc})"
            ) from exc
        self._buffer, self._offset = b"".join(pieces), 0

    def close(self) -> None:
        self._raw.close()


class CompressingWriter:
    """Wraps a binary output stream; ``finish()`` writes the codec's trailer (stream stays open).

    >>> import io, gzip
    >>> sink = io.BytesIO()
    >>> writer = CompressingWriter(sink, codec_for_name("gzip"))
    >>> writer.write(b"hello\\n")
    >>> writer.finish()
    >>> gzip.decompress(sink.getvalue())
    b'hello\\n'
    """

    def __init__(self, raw: BinaryIO, codec: Codec) -> None:
        self._raw = raw
        self._compressor = codec.compressor()

    def write(self, data: bytes) -> None:
        compressed = self._compressor.compress(data)
        if compressed:
            self._raw.write(compressed)

    def finish(self) -> None:
        tail = self._compressor.flush()
        if tail:
            self._raw.write(tail)
