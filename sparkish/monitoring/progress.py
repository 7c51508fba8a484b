"""Progress of running actions: Spark's console progress bar, or tqdm bars in Jupyter.

In a terminal, one status line on standard error shows every running stage (at most three),
as Spark's ``ConsoleProgressBar`` does::

    [Stage 3:=====>            (12 + 2) / 40][Stage 4:>                  (0 + 0) / 8]

``(complete + active) / total`` tasks, updated every 0.2 s for stages of jobs that have run for
half a second (quick jobs print nothing) and erased when the job ends. In a Jupyter kernel each
stage gets a tqdm bar that updates in place. The numbers come from the same source as
``sc.statusTracker()`` (:class:`~sparkish.monitoring.stages.StageProgress`).

On by default when interactive (standard error is a terminal, or a Jupyter kernel runs the
code), off under CI (``CI`` set), when output is not a terminal, or with
``spark.ui.showConsoleProgress=false``; ``spark.ui.showConsoleProgress=true`` forces it on.
"""

from __future__ import annotations

import os
import shutil
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TextIO

from ..settings import Settings
from .stages import StageProgress

if TYPE_CHECKING:
    from ..execution.jobs import JobRecord, JobRunner

__all__ = [
    "ConsoleDisplay",
    "NotebookDisplay",
    "ProgressReporter",
    "RunningStage",
    "console_line",
    "progress_display",
]

#: How often the bars are refreshed, and how long a job runs before they appear (Spark's
#: values).
UPDATE_SECONDS = 0.2
FIRST_SHOW_SECONDS = 0.5
#: The console line shows at most this many stages.
MAX_CONSOLE_STAGES = 3


@dataclass(frozen=True)
class RunningStage:
    """One stage's progress as the bars show it."""

    stage_id: int
    name: str
    total: int
    active: int
    complete: int
    failed: int = 0


def console_line(stages: Sequence[RunningStage], width: int) -> str:
    """Spark's console progress bar: the stages share ``width`` columns.

    >>> console_line([RunningStage(3, "count", 40, 2, 12)], 40)
    '[Stage 3:=====>           (12 + 2) / 40]'
    >>> console_line([RunningStage(1, "a", 4, 0, 4), RunningStage(2, "b", 10, 1, 0)], 60)
    '[Stage 1:=========(4 + 0) / 4][Stage 2:>       (0 + 1) / 10]'
    """
    if not stages:
        return ""
    share = width // len(stages)
    parts = []
    for stage in stages:
        header = f"[Stage {stage.stage_id}:"
        tail = f"({stage.complete} + {stage.active}) / {stage.total}]"
        room = share - len(header) - len(tail)
        bar = ""
        if room > 0:
            filled = room * min(stage.complete, stage.total) // max(stage.total, 1)
            bar = "=" * filled + (">" if filled < room else "") + " " * max(0, room - filled - 1)
        parts.append(header + bar + tail)
    return "".join(parts)


class Display(Protocol):
    def show(self, stages: Sequence[RunningStage]) -> None: ...

    def job_finished(self, record: JobRecord, stages: Sequence[RunningStage]) -> None: ...

    def clear(self) -> None: ...


class ConsoleDisplay:
    """The status line on a terminal stream (standard error), rewritten in place."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self._last = ""
        self._last_write = 0.0

    def show(self, stages: Sequence[RunningStage]) -> None:
        running = [stage for stage in stages if stage.complete < stage.total]
        line = console_line(running[:MAX_CONSOLE_STAGES], _terminal_width() - 1)
        if not line:
            self.clear()
            return
        # Rewrite an unchanged line once a minute, as Spark does (keeps idle ssh sessions up).
        if line == self._last and time.monotonic() - self._last_write < 60:
            return
        padding = " " * max(0, len(self._last) - len(line))
        self._write("\r" + line + padding)
        self._last = line

    def job_finished(self, record: JobRecord, stages: Sequence[RunningStage]) -> None:
        self.clear()

    def clear(self) -> None:
        if self._last:
            self._write("\r" + " " * len(self._last) + "\r")
            self._last = ""

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):  # a closed stream: nothing left to show
            self._last = ""
        self._last_write = time.monotonic()


class NotebookDisplay:
    """One tqdm bar per stage in a Jupyter notebook (a widget with ipywidgets installed)."""

    def __init__(self) -> None:
        self._bars: dict[int, Any] = {}

    def show(self, stages: Sequence[RunningStage]) -> None:
        for stage in stages:
            bar = self._bars.get(stage.stage_id)
            if bar is None:
                bar = self._bars[stage.stage_id] = _notebook_bar(stage)
            bar.n = min(stage.complete, stage.total)
            failed = f", {stage.failed} failed" if stage.failed else ""
            bar.set_postfix_str(f"{stage.active} running{failed}", refresh=False)
            bar.refresh()

    def job_finished(self, record: JobRecord, stages: Sequence[RunningStage]) -> None:
        # A job that ran long enough to be shown ends with a final bar for each of its stages;
        # a quick one leaves nothing, as in the console.
        if any(stage_id in self._bars for stage_id in record.stages):
            self.show(stages)
        for stage_id in record.stages:
            bar = self._bars.pop(stage_id, None)
            if bar is not None:
                bar.close()

    def clear(self) -> None:
        for bar in self._bars.values():
            bar.close()
        self._bars.clear()


def _notebook_bar(stage: RunningStage) -> Any:
    try:
        from tqdm.notebook import tqdm  # noqa: PLC0415 - optional dependency (ipywidgets)

        return tqdm(total=stage.total, desc=f"Stage {stage.stage_id}", unit="task", leave=True)
    except ImportError:  # no ipywidgets: tqdm's text bar in the cell's output
        from tqdm import tqdm as text_tqdm  # noqa: PLC0415 - optional dependency

        return text_tqdm(total=stage.total, desc=f"Stage {stage.stage_id}", unit="task")


def _terminal_width() -> int:
    return shutil.get_terminal_size((80, 24)).columns


def in_notebook() -> bool:
    """Whether this process is a Jupyter kernel (IPython with a kernel attached)."""
    ipython = sys.modules.get("IPython")
    get_ipython = getattr(ipython, "get_ipython", None)
    shell = get_ipython() if get_ipython is not None else None
    return shell is not None and getattr(shell, "kernel", None) is not None


def _under_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def progress_display(settings: Settings, stream: TextIO | None = None) -> Display | None:
    """The display to use, or None when progress is off (see the module docstring)."""
    stream = stream if stream is not None else sys.stderr
    configured = settings.get("spark.ui.showConsoleProgress")
    forced = configured is not None and settings.get_bool("spark.ui.showConsoleProgress", False)
    if configured is not None and not forced:
        return None
    notebook = in_notebook()
    if not forced:
        interactive = notebook or _is_terminal(stream)
        if _under_ci() or not interactive:
            return None
    return NotebookDisplay() if notebook else ConsoleDisplay(stream)


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class ProgressReporter:
    """Polls the running jobs' stages and hands them to a display (a job listener).

    Parameters
    ----------
    jobs : JobRunner
        Whose running jobs are shown.
    progress : StageProgress
        Where task counts come from.
    display : ConsoleDisplay or NotebookDisplay
        What shows them.
    """

    def __init__(self, jobs: JobRunner, progress: StageProgress, display: Display) -> None:
        self.jobs = jobs
        self.progress = progress
        self.display = display
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._closed = False
        self._thread: threading.Thread | None = None

    def on_job(self, event: str, record: JobRecord) -> None:
        """Job listener: start polling with the first job; finish a job's bars at its end."""
        if event == "start":
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="sparkish-progress", daemon=True
                )
                self._thread.start()
            self._wake.set()
            return
        stages = self._stages([record], final=True)
        with self._lock:
            self.display.job_finished(record, stages)

    def close(self) -> None:
        self._closed = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
        with self._lock:
            self.display.clear()

    def _run(self) -> None:
        while not self._closed:
            if not self.jobs.active:
                self._wake.clear()
                self._wake.wait()
                continue
            time.sleep(UPDATE_SECONDS)
            now = time.time()
            shown = [
                r
                for r in list(self.jobs.active.values())
                if now - r.submitted >= FIRST_SHOW_SECONDS
            ]
            stages = self._stages(shown, final=False)
            with self._lock:
                if not self._closed and self.jobs.active:
                    self.display.show(stages)

    def _stages(self, records: Sequence[JobRecord], final: bool) -> list[RunningStage]:
        wanted = {
            stage_id: (record, info)
            for record in records
            for stage_id, info in record.stages.items()
        }
        counts = self.progress.counts(wanted) if wanted else {}
        stages = []
        for stage_id, (record, (name, total)) in sorted(wanted.items()):
            seen = counts.get(stage_id)
            if seen is None and not (final and record.status == "SUCCEEDED"):
                continue  # not started: a stage waiting on another shows nothing
            active, complete, failed = seen if seen is not None else (0, total, 0)
            if final and record.status == "SUCCEEDED":
                active, complete = 0, total
            stages.append(RunningStage(stage_id, name, total, active, complete, failed))
        return stages
