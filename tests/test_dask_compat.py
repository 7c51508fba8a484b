"""Loud failures when the ``distributed`` internals that sparkish uses change.

``sparkish/_dask_compat.py`` is the one module that touches them: it plugs sparkish's buckets
into ``distributed.shuffle._core``, which is private and has changed between releases. These
tests pin down every piece it uses: the names it imports, the constructor and hooks of
``ShuffleRun``, the ``ShuffleSpec`` dataclass, the barrier task the scheduler looks for, the
worker plugin's entry points, the error translation context managers, how the disk and memory
buffers hand shards back, and the private attributes its fast paths read. A run is also driven
through its hooks in-process. The installed ``dask``/``distributed`` must lie in the range pinned
in ``pyproject.toml`` and in the module's own check.
"""

from __future__ import annotations

import ast
import asyncio
import dataclasses
import importlib
import importlib.metadata
import inspect
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from dask.task_spec import Task, TaskRef
from distributed.shuffle._core import ShuffleRunSpec
from distributed.shuffle._scheduler_plugin import ShuffleSchedulerPlugin
from packaging.requirements import Requirement
from packaging.version import Version

from sparkish import _dask_compat as compat
from sparkish.shuffle.buckets import frame, unframe

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

REPO_ROOT = Path(__file__).resolve().parent.parent
COMPAT_SOURCE = REPO_ROOT / "sparkish" / "_dask_compat.py"

# What _dask_compat.py imports from distributed today; the AST scan below keeps this honest.
EXPECTED_IMPORTS = {
    "distributed": {"get_worker"},
    "distributed.diagnostics.plugin": {"SchedulerPlugin"},
    "distributed.exceptions": {"Reschedule"},
    "distributed.scheduler": {"KilledWorker"},
    "distributed.shuffle._core": {
        "P2PBarrierTask",
        "ShuffleId",
        "ShuffleRun",
        "ShuffleSpec",
        "barrier_key",
        "get_worker_plugin",
        "handle_transfer_errors",
        "handle_unpack_errors",
        "id_from_key",
        "p2p_barrier",
    },
    "distributed.shuffle._disk": {"DiskShardsBuffer"},
    "distributed.shuffle._exceptions": {"DataUnavailable"},
    "distributed.shuffle._limiter": {"ResourceLimiter"},
    "distributed.worker": {"thread_state"},
}


def _compat_tree() -> ast.Module:
    return ast.parse(COMPAT_SOURCE.read_text(), filename=str(COMPAT_SOURCE))


def _distributed_imports() -> dict[str, set[str]]:
    imports: dict[str, set[str]] = {}
    for node in ast.walk(_compat_tree()):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("distributed"):
            imports.setdefault(node.module, set()).update(alias.name for alias in node.names)
    return imports


def _keywords_of_call(function_name: str, callee: str) -> set[str]:
    """The keyword names passed to ``callee(...)`` inside ``function_name`` of the module."""
    for node in ast.walk(_compat_tree()):
        if isinstance(node, ast.FunctionDef) and node.name == function_name:
            for call in ast.walk(node):
                if (
                    isinstance(call, ast.Call)
                    and isinstance(call.func, ast.Name)
                    and call.func.id == callee
                ):
                    return {keyword.arg for keyword in call.keywords if keyword.arg}
    raise AssertionError(f"no call to {callee} in {function_name} of {COMPAT_SOURCE}")


def _parameter_names(function) -> list[str]:
    return [name for name in inspect.signature(function).parameters if name != "self"]


# --------------------------------------------------------------------------- imports


def test_compat_imports_exactly_the_expected_names():
    assert _distributed_imports() == EXPECTED_IMPORTS


@pytest.mark.parametrize(
    "module, name",
    sorted((module, name) for module, names in EXPECTED_IMPORTS.items() for name in names),
)
def test_every_private_name_still_exists(module, name):
    assert hasattr(importlib.import_module(module), name), f"{module}.{name} is gone"


# --------------------------------------------------------------------------- ShuffleRun


def test_shuffle_run_constructor_takes_exactly_what_compat_passes():
    from distributed.shuffle._core import ShuffleRun

    passed = _keywords_of_call("create_run_on_worker", "RecordsShuffleRun") - {"worker_for"}
    assert set(_parameter_names(ShuffleRun.__init__)) == passed
    assert set(_parameter_names(compat.RecordsShuffleRun.__init__)) == {"worker_for", "kwargs"}


def _abstract_methods(cls) -> set[str]:
    return {
        name
        for klass in cls.__mro__
        for name, member in vars(klass).items()
        if getattr(member, "__isabstractmethod__", False)
        or getattr(getattr(member, "fget", None), "__isabstractmethod__", False)
    }


def test_records_shuffle_run_implements_every_abstract_hook():
    from distributed.shuffle._core import ShuffleRun

    abstract = _abstract_methods(ShuffleRun)
    assert abstract == {
        "_get_assigned_worker",
        "_receive",
        "_shard_partition",
        "_get_output_partition",
        "read",
        "deserialize",
    }
    for name in abstract:
        assert name in vars(compat.RecordsShuffleRun), f"RecordsShuffleRun lacks {name}"


@pytest.mark.parametrize(
    "name, parameters, is_coroutine",
    [
        # hooks that ShuffleRun calls, with the parameters it passes
        ("_shard_partition", ["data", "partition_id"], False),
        ("_receive", ["data"], True),
        ("_get_output_partition", ["partition_id", "key", "kwargs"], False),
        ("_get_assigned_worker", ["i"], False),
        ("read", ["path"], False),
        ("deserialize", ["buffer"], False),
        # base methods that RecordsShuffleRun calls
        ("raise_if_closed", [], False),
        ("_write_to_disk", ["data"], True),
        ("_read_from_disk", ["id"], False),
        ("add_partition", ["data", "partition_id"], False),
    ],
)
def test_shuffle_run_method_signatures(name, parameters, is_coroutine):
    from distributed.shuffle._core import ShuffleRun

    base = getattr(ShuffleRun, name)
    assert _parameter_names(base) == parameters
    assert inspect.iscoroutinefunction(base) == is_coroutine
    override = vars(compat.RecordsShuffleRun).get(name)
    if override is not None:
        # ShuffleRun calls its hooks with positional arguments (and passes extra keywords
        # such as meta= to _get_output_partition)
        assert inspect.iscoroutinefunction(override) == is_coroutine
        assert _positional_count(override) == _positional_count(base)
        if _accepts_keywords(base):
            assert _accepts_keywords(override)


def _positional_count(function) -> int:
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return sum(1 for p in inspect.signature(function).parameters.values() if p.kind in kinds)


def _accepts_keywords(function) -> bool:
    return any(
        p.kind is inspect.Parameter.VAR_KEYWORD
        for p in inspect.signature(function).parameters.values()
    )


# --------------------------------------------------------------------------- a run, in-process


def _make_run(directory: Path, disk: bool, worker_for: dict[int, str]) -> compat.RecordsShuffleRun:
    """A RecordsShuffleRun built the way create_run_on_worker builds it (needs a running loop)."""
    from distributed.shuffle._core import ShuffleId
    from distributed.shuffle._limiter import ResourceLimiter
    from tornado.ioloop import IOLoop

    return compat.RecordsShuffleRun(
        worker_for=worker_for,
        id=ShuffleId("conformance"),
        run_id=1,
        span_id=None,
        local_address="tcp://worker-a",
        directory=str(directory),
        executor=ThreadPoolExecutor(1),
        rpc=lambda address: None,
        digest_metric=lambda name, value: None,
        scheduler=None,
        memory_limiter_disk=ResourceLimiter(None),
        memory_limiter_comms=ResourceLimiter(None),
        disk=disk,
        loop=IOLoop.current(),
    )


def _bucket(map_partition: int, label: str) -> bytes:
    # the payload's own format is sparkish's business; distributed only moves the bytes
    reduce_partition = int(label.rsplit("->", 1)[1])
    return frame(map_partition, reduce_partition, label.encode())


@pytest.mark.parametrize("disk", [True, False])
def test_records_shuffle_run_round_trip(tmp_path, disk):
    from distributed.shuffle._core import _mean_shard_size
    from distributed.shuffle._exceptions import DataUnavailable

    worker_for = {0: "tcp://worker-a", 1: "tcp://worker-b", 2: "tcp://worker-a"}

    async def scenario():
        run = _make_run(tmp_path / "run", disk, worker_for)
        try:
            # attributes of ShuffleRun.__init__ that RecordsShuffleRun uses
            assert run.received == set()
            assert run.total_recvd == 0
            assert run._exception is None

            from_map_5 = run._shard_partition(
                [(0, _bucket(5, "map5->0")), (1, _bucket(5, "map5->1"))], 5
            )
            from_map_3 = run._shard_partition(
                [(2, _bucket(3, "map3->2")), (0, _bucket(3, "map3->0"))], 3
            )
            assert set(from_map_5) == {"tcp://worker-a", "tcp://worker-b"}
            assert set(from_map_3) == {"tcp://worker-a"}
            # CommShardsBuffer measures shards with memoryview(): they must be buffers
            assert _mean_shard_size(list(from_map_3.values())) > 0

            # out of map order, in two messages, with a retried (duplicate) send
            await run._receive([from_map_5["tcp://worker-a"]])
            await run._receive([from_map_3["tcp://worker-a"], from_map_5["tcp://worker-a"]])
            assert run.received == {3, 5}
            await run.flush_receive()

            stored = {output: run._read_from_disk((output,)) for output in (0, 2)}
            with pytest.raises(DataUnavailable):  # nothing for a partition of worker-b
                run._read_from_disk((1,))
            return stored
        finally:
            await run.close()

    stored = asyncio.run(scenario())
    buckets = {}
    for output, data in stored.items():
        if disk:  # the disk buffer hands back the concatenated bytes of every write
            assert isinstance(data, bytes)
            chunks = [data]
        else:  # the memory buffer hands back one item per write
            assert isinstance(data, list)
            chunks = data
        buckets[output] = sorted(
            (map_id, bytes(payload).decode())
            for chunk in chunks
            for map_id, _, payload in unframe(chunk)
        )
    assert buckets == {0: [(3, "map3->0"), (5, "map5->0")], 2: [(3, "map3->2")]}


# --------------------------------------------------------------------------- buffers


def test_disk_buffer_concatenates_bytes_shards_verbatim(tmp_path):
    from distributed.shuffle._disk import DiskShardsBuffer
    from distributed.shuffle._exceptions import DataUnavailable
    from distributed.shuffle._limiter import ResourceLimiter

    def read(path: Path) -> tuple[bytes, int]:
        data = path.read_bytes()
        return data, len(data)

    async def scenario():
        buffer = DiskShardsBuffer(tmp_path / "disk", read, ResourceLimiter(None))
        try:
            await buffer.write({"0": b"first-"})
            await buffer.write({"1": b"other"})
            await buffer.write({"0": b"second"})
            await buffer.flush()
            first_read = buffer.read("0")
            second_read = buffer.read("0")  # later jobs read a shuffle's output again
            other = buffer.read("1")
            with pytest.raises(DataUnavailable):
                buffer.read("never-written")
            return first_read, second_read, other
        finally:
            await buffer.close()

    first_read, second_read, other = asyncio.run(scenario())
    assert first_read == second_read == b"first-second"
    assert other == b"other"


def test_memory_buffer_returns_the_written_shards(tmp_path):
    from distributed.shuffle._memory import MemoryShardsBuffer

    async def scenario():
        buffer = MemoryShardsBuffer(deserialize=lambda shard: shard)
        try:
            await buffer.write({"0": b"first-"})
            await buffer.write({"0": b"second"})
            await buffer.flush()
            return buffer.read("0")
        finally:
            await buffer.close()

    shards = asyncio.run(scenario())
    assert isinstance(shards, list)
    assert sorted(shards) == [b"first-", b"second"]


# --------------------------------------------------------------------------- ShuffleSpec


def test_shuffle_spec_is_a_frozen_dataclass_with_id_and_disk():
    from distributed.shuffle._core import ShuffleSpec

    assert dataclasses.is_dataclass(ShuffleSpec)
    assert ShuffleSpec.__dataclass_params__.frozen
    assert [field.name for field in dataclasses.fields(ShuffleSpec)] == ["id", "disk"]
    assert [field.name for field in dataclasses.fields(compat.RecordsShuffleSpec)] == [
        "id",
        "disk",
        "npartitions_out",
        "group_starts",
        "readers",
    ]
    assert _abstract_methods(ShuffleSpec) == {
        "output_partitions",
        "pick_worker",
        "create_run_on_worker",
    }
    assert not compat.RecordsShuffleSpec.__abstractmethods__
    assert _parameter_names(ShuffleSpec.pick_worker) == ["partition", "workers"]
    # the worker plugin calls it with these keywords
    assert set(_parameter_names(ShuffleSpec.create_run_on_worker)) == {
        "run_id",
        "span_id",
        "worker_for",
        "plugin",
    }
    assert _parameter_names(compat.RecordsShuffleSpec.create_run_on_worker) == _parameter_names(
        ShuffleSpec.create_run_on_worker
    )


def test_shuffle_spec_creates_scheduler_state_for_a_records_spec():
    from distributed.shuffle._core import SchedulerShuffleState, ShuffleId

    spec = compat.RecordsShuffleSpec(id=ShuffleId("spec"), disk=True, npartitions_out=4)
    assert list(spec.output_partitions) == [0, 1, 2, 3]
    workers = ["tcp://a", "tcp://b"]
    worker_for = {p: spec.pick_worker(p, workers) for p in spec.output_partitions}
    assert worker_for == {0: "tcp://a", 1: "tcp://a", 2: "tcp://b", 3: "tcp://b"}

    state = spec.create_new_run(worker_for=worker_for, span_id=None)
    assert isinstance(state, SchedulerShuffleState)
    assert state.run_spec.spec is spec
    assert state.run_spec.worker_for == worker_for
    assert state.participating_workers == {"tcp://a", "tcp://b"}
    assert state.id == "spec"
    assert isinstance(state.run_id, int)


# --------------------------------------------------------------------------- the barrier task


def test_barrier_task_is_what_the_scheduler_plugin_looks_for():
    from distributed.shuffle._core import P2PBarrierTask, barrier_key, id_from_key, p2p_barrier

    assert issubclass(P2PBarrierTask, Task)
    signature = inspect.signature(P2PBarrierTask.__init__)
    assert signature.parameters["spec"].kind is inspect.Parameter.KEYWORD_ONLY
    assert [p.kind for p in signature.parameters.values()][1:3] == [
        inspect.Parameter.POSITIONAL_ONLY,
        inspect.Parameter.POSITIONAL_ONLY,
    ]
    assert _parameter_names(p2p_barrier) == ["id", "run_ids"]
    assert inspect.signature(p2p_barrier).parameters["run_ids"].kind is (
        inspect.Parameter.VAR_POSITIONAL
    )

    transfers = [TaskRef(("shuffle-map-x", 0)), TaskRef(("shuffle-map-x", 1))]
    barrier = compat.barrier_task("abc", transfers, 4, True)
    assert isinstance(barrier, P2PBarrierTask)
    # the scheduler plugin finds the spec through the barrier's key
    assert barrier.key == barrier_key("abc") == compat.barrier_key_of("abc")
    assert barrier.key.startswith("shuffle-barrier-")
    assert id_from_key(barrier.key) == "abc"
    assert isinstance(barrier.spec, compat.RecordsShuffleSpec)
    assert barrier.spec.npartitions_out == 4 and barrier.spec.disk is True
    assert barrier.func is p2p_barrier
    assert set(barrier.dependencies) == {("shuffle-map-x", 0), ("shuffle-map-x", 1)}
    assert barrier.block_fusion is True


# --------------------------------------------------------------------------- worker plugin


def test_get_worker_plugin_outside_a_worker_raises():
    from distributed.shuffle._core import get_worker_plugin

    with pytest.raises(RuntimeError):
        get_worker_plugin()


def _worker_plugin_interface() -> dict:
    from distributed.shuffle._core import get_worker_plugin

    plugin = get_worker_plugin()
    return {
        "type": type(plugin).__name__,
        "add_partition": _parameter_names(plugin.add_partition),
        "get_output_partition": _parameter_names(plugin.get_output_partition),
        "barrier": _parameter_names(plugin.barrier),
        "executor": type(plugin._executor).__name__,
        "memory_limiters": [
            type(plugin.memory_limiter_disk).__name__,
            type(plugin.memory_limiter_comms).__name__,
        ],
        "worker_attributes": [
            hasattr(plugin.worker, name)
            for name in ("address", "local_directory", "rpc", "digest_metric", "scheduler", "loop")
        ],
    }


def _active_run_internals() -> dict:
    """What the task-thread fast paths read of the worker's active runs (on a real worker)."""
    from distributed.shuffle._core import get_worker_plugin

    plugin = get_worker_plugin()
    runs = plugin.shuffle_runs
    return {
        "active_runs_is_a_dict": isinstance(getattr(runs, "_active_runs", None), dict),
        "refresh_locks": hasattr(runs, "_refresh_locks"),
    }


def test_task_thread_fast_paths_find_what_they_read(sc, tmp_path):
    """``_open_active_run`` reads ``shuffle_runs._active_runs`` and a run's ``closed``,
    ``_exception`` and ``run_id``; ``read_local_partition`` reads ``transferred``,
    ``local_address`` and the disk buffer's ``directory``."""
    internals = sc.dask_client.submit(_active_run_internals, pure=False).result()
    assert internals == {"active_runs_is_a_dict": True, "refresh_locks": True}

    async def attributes() -> dict:
        run = _make_run(tmp_path / "run", True, {0: "tcp://worker-a"})
        try:
            return {
                name: hasattr(run, name)
                for name in ("closed", "_exception", "run_id", "transferred", "local_address")
            } | {"directory": hasattr(run._disk_buffer, "directory")}
        finally:
            await run.close()

    assert all(asyncio.run(attributes()).values())


def test_worker_plugin_entry_points_on_a_real_worker(sc):
    interface = sc.dask_client.submit(_worker_plugin_interface, pure=False).result()
    assert interface["type"] == "ShuffleWorkerPlugin"
    # compat calls add_partition(buckets, input_partition, shuffle_id) and
    # get_output_partition(shuffle_id, run_id, output_partition) positionally
    assert interface["add_partition"][:3] == ["data", "partition_id", "id"]
    assert interface["get_output_partition"][:3] == ["shuffle_id", "run_id", "partition_id"]
    assert interface["barrier"] == ["shuffle_id", "run_ids"]
    assert interface["executor"] == "ThreadPoolExecutor"
    assert interface["memory_limiters"] == ["ResourceLimiter", "ResourceLimiter"]
    assert all(interface["worker_attributes"])


# --------------------------------------------------------------------------- error translation


def test_handle_transfer_errors_translation():
    from distributed.exceptions import Reschedule
    from distributed.shuffle._core import ShuffleId, handle_transfer_errors
    from distributed.shuffle._exceptions import P2PConsistencyError, ShuffleClosedError

    with pytest.raises(Reschedule):
        with handle_transfer_errors(ShuffleId("t")):
            raise ShuffleClosedError("closed")
    with pytest.raises(P2PConsistencyError):
        with handle_transfer_errors(ShuffleId("t")):
            raise P2PConsistencyError("stale")
    with pytest.raises(RuntimeError, match="P2P t failed during transfer phase") as raised:
        with handle_transfer_errors(ShuffleId("t")):
            raise ValueError("boom")
    assert isinstance(raised.value.__cause__, ValueError)
    with handle_transfer_errors(ShuffleId("t")):
        pass


def test_handle_unpack_errors_translation():
    from distributed.exceptions import Reschedule
    from distributed.shuffle._core import ShuffleId, handle_unpack_errors
    from distributed.shuffle._exceptions import ShuffleClosedError

    with pytest.raises(Reschedule):
        with handle_unpack_errors(ShuffleId("u")):
            raise Reschedule()
    with pytest.raises(Reschedule):
        with handle_unpack_errors(ShuffleId("u")):
            raise ShuffleClosedError("closed")
    with pytest.raises(RuntimeError, match="P2P u failed during unpack phase") as raised:
        with handle_unpack_errors(ShuffleId("u")):
            raise KeyError("boom")
    assert isinstance(raised.value.__cause__, KeyError)


# --------------------------------------------------------------------------- pinned versions


def _pinned_requirements() -> dict[str, Requirement]:
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    requirements = [Requirement(text) for text in pyproject["project"]["dependencies"]]
    return {requirement.name: requirement for requirement in requirements}


@pytest.mark.parametrize("package", ["distributed", "dask"])
def test_installed_version_is_within_the_pinned_range(package):
    requirement = _pinned_requirements()[package]
    # a private API needs an upper bound: a new release must be tested before it is allowed
    assert any(spec.operator in ("<", "<=", "==", "~=") for spec in requirement.specifier), (
        f"pyproject.toml pins {requirement} without an upper bound"
    )
    installed = Version(importlib.metadata.version(package))
    assert requirement.specifier.contains(installed, prereleases=True), (
        f"{package} {installed} is outside the range {requirement.specifier} pinned in "
        "pyproject.toml; run tests/test_dask_compat.py against it before widening it"
    )
    module = importlib.import_module(package)
    assert Version(module.__version__) == installed


def test_an_unsupported_distributed_release_is_refused_at_import():
    low, high = compat.SUPPORTED_DISTRIBUTED
    compat._check_version(str(low))
    for version in ("2026.6.0", str(high), "2027.1.0"):
        with pytest.raises(ImportError, match=f"distributed {version} is installed"):
            compat._check_version(version)


def test_the_supported_range_is_the_pinned_range():
    requirement = _pinned_requirements()["distributed"]
    low, high = compat.SUPPORTED_DISTRIBUTED
    assert requirement.specifier == f">={low},<{high}"


def test_reader_placement_uses_what_the_p2p_scheduler_plugin_has():
    """:class:`ShuffleReaderPlacement` reads ``active_shuffles[id].run_spec`` (its ``spec`` and
    ``worker_for``) and calls the extension's ``_set_restriction(task, worker)``."""
    assert _parameter_names(ShuffleSchedulerPlugin._set_restriction) == ["ts", "worker"]
    fields = {field.name for field in dataclasses.fields(ShuffleRunSpec)}
    assert {"spec", "worker_for"} <= fields
    assert compat.id_from_key(compat.barrier_key_of("s-1")) == "s-1"
