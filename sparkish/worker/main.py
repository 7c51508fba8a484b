"""Entry point of a local worker process: ``python -m sparkish.worker.main SCHEDULER ...``.

Local workers are started as plain subprocesses rather than through multiprocessing's "spawn",
which would re-run the user's ``__main__`` module in every worker (an unguarded PySpark script, or
one fed on stdin, then fails with "Nanny failed to start"). The worker dies with the driver
process that started it: on Linux the kernel sends it SIGKILL when the driver's supervisor thread
ends (``PR_SET_PDEATHSIG``), which works whatever its task is doing, even holding the GIL in
native code; elsewhere a thread polls for the parent.
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import gc
import logging
import os
import signal
import sys
import threading
import time

from distributed import Worker

# Imported before the event loop and the task thread exist, so that the two never import
# sparkish's worker modules concurrently (and the first task does not pay for the import);
# importing serialization also registers the Block serializers.
from .. import serialization  # noqa: F401
from . import running_tasks, shuffle, task  # noqa: F401

#: ``prctl`` option: the signal this process gets when the thread that started it exits.
_PR_SET_PDEATHSIG = 1


def _die_with_parent(parent_pid: int) -> None:
    """Have the kernel kill this process when its parent goes (Linux), then check that the
    parent did not go already; other systems rely on :func:`_exit_when_orphaned` alone."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
            logging.getLogger("sparkish.worker").warning(
                "prctl(PR_SET_PDEATHSIG) failed: %s", os.strerror(ctypes.get_errno())
            )
    if os.getppid() != parent_pid:
        os._exit(0)


def _exit_when_orphaned(parent_pid: int) -> None:
    while True:
        if os.getppid() != parent_pid:
            os._exit(0)
        time.sleep(0.5)


class _HideTaskFailures(logging.Filter):
    """Task errors reach the driver with their traceback; do not print them twice."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = str(record.msg)
        return not (
            message.startswith("Compute Failed")
            or "ended with CancelledError" in message
            or message.startswith("Async instruction")
        )


def _quiet_logging(name: str) -> None:
    formatter = logging.Formatter(f"%(asctime)s {name} %(name)s %(levelname)s %(message)s")
    for logger_name in ("distributed", "bokeh", "tornado"):
        logger = logging.getLogger(logger_name)
        logger.setLevel(logging.WARNING)
        for handler in logger.handlers:
            handler.setFormatter(formatter)
    for logger_name in ("distributed.worker", "distributed.worker.state_machine"):
        logging.getLogger(logger_name).addFilter(_HideTaskFailures())
    logging.getLogger("distributed.shuffle").setLevel(logging.ERROR)
    # The supervisor enforces the memory limit and says so when it kills a worker; Dask's
    # "unmanaged memory use is high" warnings would repeat for every worker holding a model.
    logging.getLogger("distributed.worker.memory").setLevel(logging.ERROR)


async def _serve(args: argparse.Namespace) -> None:
    _quiet_logging(args.name)
    # Tasks pause the collector themselves; between tasks, received partitions (many small
    # containers) would otherwise trigger repeated full collections over a large heap.
    gc.freeze()
    gc.set_threshold(50_000, 50, 100)
    # The event loop thread (receiving shuffle data) and the task thread hand the GIL to each
    # other at every P2P call; the default 5 ms switch interval makes each handoff slow.
    sys.setswitchinterval(float(os.environ.get("SPARKISH_SWITCH_INTERVAL", "0.001")))
    worker = Worker(
        args.scheduler,
        name=args.name,
        nthreads=args.nthreads,
        memory_limit=args.memory_limit,
        local_directory=args.local_directory,
        death_timeout=args.death_timeout,
        dashboard=False,
        host="127.0.0.1",
    )
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, lambda: asyncio.ensure_future(worker.close(nanny=False)))
    board = running_tasks.open_board(args.running_tasks) if args.running_tasks else None
    await worker
    if board is not None:
        board.mark_started()
    await worker.finished()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="sparkish-worker")
    parser.add_argument("scheduler")
    parser.add_argument("--name", required=True)
    parser.add_argument("--nthreads", type=int, default=1)
    parser.add_argument("--memory-limit", type=int, default=0)
    parser.add_argument("--local-directory", default=None)
    parser.add_argument("--death-timeout", type=float, default=60.0)
    parser.add_argument("--parent-pid", type=int, default=os.getppid())
    parser.add_argument("--running-tasks", default=None, help="the supervisor's task file")
    args = parser.parse_args(argv)
    _die_with_parent(args.parent_pid)
    threading.Thread(target=_exit_when_orphaned, args=(args.parent_pid,), daemon=True).start()
    try:
        asyncio.run(_serve(args))
    except (KeyboardInterrupt, asyncio.CancelledError):
        pass
    sys.exit(0)


if __name__ == "__main__":
    main()
