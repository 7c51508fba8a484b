"""Resolving URLs to fsspec filesystems, listing input files, and naming paths in errors.

Everything here runs on the driver except :func:`fs_errors`, which workers also use so that a
failed open/read/write says which operation and which path failed.
"""

from __future__ import annotations

import posixpath
import re
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import fsspec
from fsspec.core import split_protocol, url_to_fs
from fsspec.spec import AbstractFileSystem

_HIDDEN_PREFIXES = ("_", ".")
_GLOB_CHARS = re.compile(r"[*?\[]")
# Hadoop writes local and default-filesystem URLs without an authority ("file:/tmp/x",
# "hdfs:/x"); fsspec only recognises "scheme://".
_NO_AUTHORITY_URL = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]+):/(?!/)")
_HDFS_PROTOCOLS = {"hdfs", "viewfs"}
_AUTHORITY_PROTOCOLS = {"webhdfs", "swebhdfs"}
_NAMENODE_CONNECT_TIMEOUT_S = 10.0
_DEFAULT_NAMENODE_PORT = 8020
# hdfs-native reports NameNode exceptions as RuntimeError('RPCError("<java class>", "<msg>")').
_RPC_ERROR = re.compile(r'RPCError\("([\w.$]+)", "([^\n"]*)')
_JAVA_EXCEPTIONS: dict[str, type[OSError]] = {
    "AccessControlException": PermissionError,
    "FileNotFoundException": FileNotFoundError,
    "FileAlreadyExistsException": FileExistsError,
    "ParentNotDirectoryException": NotADirectoryError,
}
_PHRASES: dict[type[OSError], str] = {
    FileNotFoundError: "path does not exist",
    PermissionError: "permission denied",
    FileExistsError: "path already exists",
    NotADirectoryError: "a parent of the path is not a directory",
    IsADirectoryError: "path is a directory",
    ConnectionError: "cannot connect",
}


@dataclass(frozen=True)
class InputFile:
    """One file found while listing an input path."""

    fs: AbstractFileSystem = field(repr=False, compare=False)
    path: str
    url: str
    size: int


def protocol_name(fs: AbstractFileSystem) -> str:
    """The main protocol of a filesystem instance, e.g. ``"file"`` or ``"hdfs"``.

    >>> protocol_name(fsspec.filesystem("memory"))
    'memory'
    """
    protocol = fs.protocol
    return protocol if isinstance(protocol, str) else protocol[0]


def normalize_url(url: str) -> str:
    """Rewrite Hadoop-style ``scheme:/path`` URLs (no authority) into ``scheme:///path``.

    >>> normalize_url("file:/tmp/data")
    'file:///tmp/data'
    >>> normalize_url("hdfs://nn:8020/data")
    'hdfs://nn:8020/data'
    """
    return _NO_AUTHORITY_URL.sub(r"\1:///", url, count=1)


def resolve_url(
    url: str, storage_options: dict[str, Any] | None, operation: str
) -> tuple[AbstractFileSystem, str]:
    """``fsspec.core.url_to_fs`` with errors that name the operation and the URL.

    An unknown protocol is a ``ValueError``; a protocol whose package is missing an
    ``ImportError``; an ``hdfs://host:port`` NameNode that refuses connections a
    ``ConnectionError`` (checked up front, because the HDFS client retries for minutes).

    >>> fs, path = resolve_url("memory://bucket/data.txt", None, "textFile")
    >>> protocol_name(fs), path
    ('memory', '/bucket/data.txt')
    """
    if not isinstance(url, str) or not url:
        raise ValueError(f"{operation}: a path must be a non-empty string, got {url!r}")
    normalized = normalize_url(url)
    try:
        fs, path = url_to_fs(normalized, **(storage_options or {}))
    except ValueError as exc:
        protocol = split_protocol(normalized)[0]
        if protocol and protocol not in fsspec.available_protocols():
            raise ValueError(
                f"{operation}: unknown filesystem protocol {protocol!r} in path {url!r} "
                f"(fsspec knows: {', '.join(sorted(fsspec.available_protocols()))})"
            ) from None
        raise ValueError(f"{operation}: cannot use path {url!r}: {exc}") from exc
    except ImportError as exc:
        raise ImportError(f"{operation}: path {url!r} needs an optional package: {exc}") from exc
    _check_namenode_reachable(fs, url, operation)
    return fs, path


def _check_namenode_reachable(fs: AbstractFileSystem, url: str, operation: str) -> None:
    if protocol_name(fs) not in _HDFS_PROTOCOLS:
        return
    host = getattr(fs, "host", None)
    if not host:
        return  # the default filesystem / nameservice comes from HADOOP_CONF_DIR
    port = getattr(fs, "port", None) or _DEFAULT_NAMENODE_PORT
    try:
        socket.getaddrinfo(host, port)
    except socket.gaierror:
        return  # an HA nameservice id, resolved by the client from hdfs-site.xml
    try:
        with socket.create_connection((host, port), timeout=_NAMENODE_CONNECT_TIMEOUT_S):
            pass
    except OSError as exc:
        raise ConnectionError(
            f"{operation}: cannot connect to the HDFS NameNode {host}:{port} "
            f"for path {url!r}: {exc}"
        ) from None


def display_url(fs: AbstractFileSystem, path: str, original_url: str) -> str:
    """The URL shown to users for ``path`` (Spark style ``file:/x`` for local files).

    >>> display_url(fsspec.filesystem("file"), "/tmp/a.txt", "/tmp")
    'file:/tmp/a.txt'
    """
    protocol = protocol_name(fs)
    if protocol in ("file", "local"):
        return "file:" + path
    if protocol in _AUTHORITY_PROTOCOLS:
        parts = urlsplit(normalize_url(original_url))
        if parts.netloc:
            return f"{parts.scheme}://{parts.netloc}/{path.lstrip('/')}"
    return fs.unstrip_protocol(path)


def join_path(directory: str, name: str) -> str:
    """Join a filesystem path and a child name with ``/``.

    >>> join_path("/out/", "part-00000")
    '/out/part-00000'
    """
    return f"{directory.rstrip('/')}/{name}"


def is_hidden(path: str) -> bool:
    """Hadoop's rule: names starting with ``_`` or ``.`` (``_SUCCESS``, ``.crc``) are not data.

    >>> is_hidden("/out/_SUCCESS"), is_hidden("/out/part-00000")
    (True, False)
    """
    return posixpath.basename(path.rstrip("/")).startswith(_HIDDEN_PREFIXES)


def translate_error(exc: BaseException, operation: str, url: str) -> BaseException:
    """Return ``exc`` as a builtin ``OSError`` subclass whose message names operation and URL."""
    if getattr(exc, "sparkish_translated", False):
        return exc
    error_type: type[OSError] = OSError
    detail = str(exc)
    match = _RPC_ERROR.search(detail) if isinstance(exc, RuntimeError) else None
    if match:
        java_class, detail = match.group(1), match.group(2)
        error_type = _JAVA_EXCEPTIONS.get(java_class.rsplit(".", 1)[-1], OSError)
        detail = f"{java_class.rsplit('.', 1)[-1]}: {detail}"
    elif isinstance(exc, OSError):
        error_type = _http_error_type(exc) or next(
            (known for known in _PHRASES if isinstance(exc, known)), OSError
        )
        if any(cls.__name__ == "ConnectionError" for cls in type(exc).__mro__):
            error_type = ConnectionError  # also requests' ConnectionError (WebHDFS, HTTP)
    detail = detail.splitlines()[0][:500] if detail else type(exc).__name__
    phrase = _PHRASES.get(error_type, "failed")
    translated = error_type(f"{operation}: {phrase}: {url} ({detail})")
    translated.sparkish_translated = True  # type: ignore[attr-defined]
    return translated


def _http_error_type(exc: OSError) -> type[OSError] | None:
    status = getattr(getattr(exc, "response", None), "status_code", None)
    if not isinstance(status, int):
        return None
    return {403: PermissionError, 401: PermissionError, 404: FileNotFoundError}.get(status)


@contextmanager
def fs_errors(operation: str, url: str) -> Iterator[None]:
    """Re-raise filesystem errors inside the block with ``operation`` and ``url`` in the message.

    >>> try:
    ...     with fs_errors("textFile", "file:/nope"):
    ...         open("/nope/definitely/missing")
    ... except FileNotFoundError as error:
    ...     print(str(error).split(" (")[0])
    textFile: path does not exist: file:/nope
    """
    try:
        yield
    except OSError as exc:
        raise translate_error(exc, operation, url) from exc
    except RuntimeError as exc:
        if not _RPC_ERROR.search(str(exc)):
            raise
        raise translate_error(exc, operation, url) from exc


def split_path_list(paths: str) -> list[str]:
    """Split Spark's comma-separated path list, keeping commas inside ``{a,b}`` globs.

    >>> split_path_list("/a,/b/{x,y}/*.txt")
    ['/a', '/b/{x,y}/*.txt']
    """
    entries: list[str] = []
    depth = 0
    current: list[str] = []
    for char in paths:
        if char == "{":
            depth += 1
        elif char == "}":
            depth = max(0, depth - 1)
        if char == "," and depth == 0:
            entries.append("".join(current))
            current = []
        else:
            current.append(char)
    entries.append("".join(current))
    return entries


def expand_braces(pattern: str) -> list[str]:
    """Expand Hadoop glob alternations (``{a,b}``, nestable) into separate patterns.

    >>> expand_braces("/d/{a,b{1,2}}.txt")
    ['/d/a.txt', '/d/b1.txt', '/d/b2.txt']
    """
    start = pattern.find("{")
    if start < 0:
        return [pattern]
    depth = 0
    for end in range(start, len(pattern)):
        if pattern[end] == "{":
            depth += 1
        elif pattern[end] == "}":
            depth -= 1
            if depth == 0:
                break
    else:
        raise ValueError(f"unbalanced '{{' in path pattern {pattern!r}")
    prefix, body, suffix = pattern[:start], pattern[start + 1 : end], pattern[end + 1 :]
    expanded = []
    for alternative in split_path_list(body):
        for tail in expand_braces(suffix):
            expanded.extend(expand_braces(prefix + alternative + tail))
    return expanded


def list_input_files(
    paths: str,
    storage_options: dict[str, Any] | None,
    operation: str,
    *,
    recursive: bool = False,
) -> list[InputFile]:
    """All data files named by a Spark-style input path, in a deterministic order.

    ``paths`` is a file, a directory, a glob or a comma-separated list of those. Hidden names
    (``_*``, ``.*``) inside directories and glob results are skipped, as in Hadoop; a file named
    explicitly is read even when its name is hidden. Directories inside an input directory are an
    error unless ``recursive=True``.

    >>> fs = fsspec.filesystem("memory")
    >>> fs.pipe({"/ex/in/b.txt": b"b", "/ex/in/a.txt": b"a", "/ex/in/_SUCCESS": b""})
    >>> [f.url for f in list_input_files("memory:///ex/in", None, "textFile")]
    ['memory:///ex/in/a.txt', 'memory:///ex/in/b.txt']
    """
    if not isinstance(paths, str):
        raise TypeError(f"{operation}: path must be a string, not {type(paths).__name__}")
    files: list[InputFile] = []
    for entry in split_path_list(paths):
        if not entry.strip():
            raise ValueError(f"{operation}: empty path in the path list {paths!r}")
        alternatives = expand_braces(entry)
        found: list[InputFile] = []
        for alternative in alternatives:
            found.extend(_list_entry(alternative, storage_options, operation, recursive))
        if len(alternatives) > 1:
            unique = {(id(f.fs), f.path): f for f in found}
            found = sorted(unique.values(), key=lambda f: f.url)
        files.extend(found)
    return files


def _list_entry(
    url: str, storage_options: dict[str, Any] | None, operation: str, recursive: bool
) -> list[InputFile]:
    fs, path = resolve_url(url, storage_options, operation)
    if _GLOB_CHARS.search(path):
        with fs_errors(operation, url):
            matches = fs.glob(path, detail=True)
        visible = {name: info for name, info in matches.items() if not is_hidden(name)}
        if not visible:
            raise FileNotFoundError(f"{operation}: input pattern {url} matches 0 files")
        found: list[InputFile] = []
        for name in sorted(visible):
            found.extend(_expand(fs, visible[name], url, operation, recursive))
        return found
    with fs_errors(operation, url):
        info = fs.info(path)
    return _expand(fs, info, url, operation, recursive)


def strip_protocol(fs: AbstractFileSystem, path: str) -> str:
    """``path`` as ``fs`` names it internally (some file systems list names with protocol)."""
    # fsspec's own normalisation; it has no public equivalent.
    return fs._strip_protocol(path)  # noqa: SLF001


def _expand(
    fs: AbstractFileSystem, info: dict[str, Any], original_url: str, operation: str, recursive: bool
) -> list[InputFile]:
    path = strip_protocol(fs, info["name"])
    url = display_url(fs, path, original_url)
    if info.get("type") != "directory":
        return [InputFile(fs, path, url, int(info.get("size") or 0))]
    with fs_errors(operation, url):
        children = fs.ls(path, detail=True)
    found: list[InputFile] = []
    for child in sorted(children, key=lambda child: child["name"]):
        child_path = strip_protocol(fs, child["name"])
        if child_path.rstrip("/") == path.rstrip("/") or is_hidden(child_path):
            continue
        if child.get("type") == "directory":
            if not recursive:
                raise IsADirectoryError(
                    f"{operation}: input directory {url} contains the subdirectory "
                    f"{display_url(fs, child_path, original_url)}; nested directories are only "
                    "read with recursive=True"
                )
            found.extend(_expand(fs, child, original_url, operation, recursive))
        else:
            found.append(
                InputFile(
                    fs,
                    child_path,
                    display_url(fs, child_path, original_url),
                    int(child.get("size") or 0),
                )
            )
    return found
