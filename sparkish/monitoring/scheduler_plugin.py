"""The scheduler side of monitoring: which tasks of which stage run, finished or failed, and
sparkish's task metrics, published on the scheduler's ``/metrics`` and ``/sparkish/jobs``.

Every context installs one :class:`MonitoringSchedulerPlugin` on its scheduler (idempotent:
contexts sharing a scheduler share it). What it learns and from where:

- a sparkish task started running: the event a worker logs when ``run_task`` begins
  (:data:`~sparkish.monitoring.task_metrics.TASK_START_TOPIC`: application, job, stage, RDD
  operation, task key);
- its outcome, from the scheduler's transitions: ``processing → memory`` (accepted; the task's
  counts ride in its metadata, which the scheduler forwards only for accepted results),
  ``processing → erred`` (failed, with the exception's type) or ``processing → released``
  (its worker was lost). A key is counted once: a result recomputed after a worker loss counts
  as a recomputation, not as more output;
- the jobs of each application, from the driver (:data:`JOB_EVENT_TOPIC` events).

The driver asks for the task counts of its running stages through the
:data:`PROGRESS_HANDLER` scheduler handler (``statusTracker`` and the progress bars).
"""

from __future__ import annotations

import re
import threading
import weakref
from collections import OrderedDict, defaultdict, deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from distributed.diagnostics.plugin import SchedulerPlugin
from prometheus_client import REGISTRY
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from . import catalog, task_metrics
from .jobs_page import JobsApiPage, JobsPage

__all__ = [
    "JOB_EVENT_TOPIC",
    "PLUGIN_NAME",
    "PROGRESS_HANDLER",
    "JobView",
    "MonitoringSchedulerPlugin",
    "StageView",
]

PLUGIN_NAME = "sparkish-monitoring"
PROGRESS_HANDLER = "sparkish_stage_progress"
#: Topic of the events the driver logs when one of its jobs starts or ends.
JOB_EVENT_TOPIC = "sparkish-job"

#: Stages and jobs kept per application (the oldest are dropped first), and applications kept.
MAX_STAGES = 2000
MAX_JOBS = 200
MAX_APPLICATIONS = 20

_COUNTED_TASK_METRICS = {
    task_metrics.SHUFFLE_RECORDS_WRITTEN: catalog.SHUFFLE_RECORDS_WRITTEN,
    task_metrics.SHUFFLE_BYTES_WRITTEN: catalog.SHUFFLE_BYTES_WRITTEN,
    task_metrics.SHUFFLE_RECORDS_READ: catalog.SHUFFLE_RECORDS_READ,
    task_metrics.SHUFFLE_BYTES_READ: catalog.SHUFFLE_BYTES_READ,
    task_metrics.INPUT_BYTES: catalog.INPUT_BYTES,
    task_metrics.OUTPUT_BYTES: catalog.OUTPUT_BYTES,
    task_metrics.OUTPUT_RECORDS: catalog.OUTPUT_RECORDS,
}
_EXCEPTION_NAME = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)")
_LOST = frozenset({"released", "waiting", "no-worker", "queued"})


@dataclass
class StageView:
    """What the scheduler saw of one stage's tasks."""

    job_id: int
    operation: str
    active: int = 0
    complete: int = 0
    failed: int = 0


@dataclass
class JobView:
    """A job as the driver described it, for the jobs page."""

    app_id: str
    job_id: int
    action: str
    description: str
    group: str | None
    submitted: float
    stages: list  # [stage id, name, number of tasks]
    status: str = "RUNNING"
    finished: float | None = None


def exception_type(transition_details: dict) -> str:
    """The exception type of a failed task, from the scheduler's ``processing → erred``
    transition (a worker reports ``repr(exception)``; the scheduler itself fails a task whose
    workers keep dying with ``KilledWorker``, without text).

    >>> exception_type({"exception_text": "ZeroDivisionError('division by zero')"})
    'ZeroDivisionError'
    >>> exception_type({"cause": ("count-job1-app", 0)})
    'KilledWorker'
    """
    text = transition_details.get("exception_text")
    if not text:
        return "KilledWorker"
    match = _EXCEPTION_NAME.match(text)
    return match.group(1) if match else "Exception"


def _as_key(value: Any) -> Any:
    """A task key as the scheduler holds it (msgpack turns tuples into lists)."""
    return tuple(_as_key(part) for part in value) if isinstance(value, list) else value


class _Totals:
    """Metric values: metric name → label values → value."""

    def __init__(self) -> None:
        self.values: dict[str, dict[tuple[str, ...], float]] = defaultdict(
            lambda: defaultdict(float)
        )

    def add(self, spec: catalog.MetricSpec, amount: float, *labels: str) -> None:
        self.values[spec.name][labels] += amount


class MonitoringSchedulerPlugin(SchedulerPlugin):
    idempotent = True
    name = PLUGIN_NAME

    def __init__(self) -> None:
        self.scheduler: Any = None
        self.stages: OrderedDict[str, OrderedDict[int, StageView]] = OrderedDict()
        self.jobs: OrderedDict[str, OrderedDict[int, JobView]] = OrderedDict()
        self.running: dict[Any, StageView] = {}
        # Keys whose completion was counted, until the scheduler forgets them.
        self.counted: set = set()
        # Stimuli that took running tasks or results away: a worker removed by one was lost.
        self.losing_stimuli: deque[str] = deque(maxlen=256)
        self.totals = _Totals()

    # ------------------------------------------------------------------ scheduler hooks
    async def start(self, scheduler: Any) -> None:
        self.scheduler = scheduler
        scheduler.handlers[PROGRESS_HANDLER] = self.stage_progress
        application = getattr(scheduler, "http_application", None)
        if application is not None:
            application.add_handlers(
                r".*$",
                [
                    (r"/sparkish/jobs/?", JobsPage, {"plugin": self}),
                    (r"/sparkish/api/jobs", JobsApiPage, {"plugin": self}),
                ],
            )
        _COLLECTOR.add(self)

    async def close(self) -> None:
        _COLLECTOR.discard(self)

    def log_event(self, topic: str, msg: Any) -> None:
        if topic == task_metrics.TASK_START_TOPIC:
            self._task_started(*msg)
        elif topic == JOB_EVENT_TOPIC:
            self._job_event(msg)

    def transition(self, key: Any, start: str, finish: str, *args: Any, **kwargs: Any) -> None:
        if finish == "forgotten":
            self.counted.discard(key)
            self.running.pop(key, None)
            return
        stage = self.running.pop(key, None) if start == "processing" else None
        if stage is not None:
            stage.active -= 1
            self.totals.add(catalog.TASKS_ACTIVE, -1, stage.operation)
        if finish == "memory":
            self._accepted(key, stage, kwargs.get("metadata"))
        elif stage is not None and finish == "erred":
            stage.failed += 1
            self.totals.add(catalog.TASK_FAILURES, 1, stage.operation, exception_type(kwargs))
        elif finish in _LOST and (stage is not None or key in self.counted):
            stimulus = kwargs.get("stimulus_id", "")
            if not self.losing_stimuli or self.losing_stimuli[-1] != stimulus:
                self.losing_stimuli.append(stimulus)

    def remove_worker(self, scheduler: Any, worker: str, *, stimulus_id: str, **kwargs: Any):
        if stimulus_id in self.losing_stimuli:
            self.totals.add(catalog.WORKER_LOSSES, 1)

    # ------------------------------------------------------------------ what happened
    def _task_started(self, app_id: str, job_id: int, stage_id: int, operation: str, key: Any):
        stage = self._stage(app_id, job_id, stage_id, operation)
        self.totals.add(catalog.TASKS_STARTED, 1, operation)
        key = _as_key(key)
        task = self.scheduler.tasks.get(key) if self.scheduler is not None else None
        if task is None or task.state != "processing" or key in self.running:
            return  # already finished or forgotten (the event can arrive late)
        self.running[key] = stage
        stage.active += 1
        self.totals.add(catalog.TASKS_ACTIVE, 1, operation)

    def _stage(self, app_id: str, job_id: int, stage_id: int, operation: str) -> StageView:
        stages = self.stages.get(app_id)
        if stages is None:
            stages = self.stages[app_id] = OrderedDict()
            _trim(self.stages, MAX_APPLICATIONS)
        stage = stages.get(stage_id)
        if stage is None:
            stage = stages[stage_id] = StageView(job_id, operation)
            self.totals.add(catalog.STAGES_STARTED, 1, operation)
            _trim(stages, MAX_STAGES)
        return stage

    def _accepted(self, key: Any, stage: StageView | None, metadata: dict | None) -> None:
        counts = metadata.get(task_metrics.METADATA_KEY) if metadata else None
        if stage is None and counts is None:
            return  # not a sparkish task
        if key in self.counted:
            self.totals.add(catalog.TASKS_RECOMPUTED, 1)
            return
        self.counted.add(key)
        if stage is not None:
            stage.complete += 1
            self.totals.add(catalog.TASKS_COMPLETED, 1, stage.operation)
        for name, amount in (counts or {}).items():
            metric, _, label = name.partition(":")
            spec = _COUNTED_TASK_METRICS.get(metric)
            if spec is not None:
                self.totals.add(spec, amount, *((label,) if label else ()))

    def _job_event(self, event: dict) -> None:
        app_id = event["app"]
        jobs = self.jobs.get(app_id)
        if jobs is None:
            jobs = self.jobs[app_id] = OrderedDict()
            _trim(self.jobs, MAX_APPLICATIONS)
        if event["event"] == "start":
            jobs[event["job"]] = JobView(
                app_id,
                event["job"],
                event["action"],
                event["description"],
                event.get("group"),
                event["submitted"],
                event["stages"],
            )
            _trim(jobs, MAX_JOBS)
            return
        job = jobs.get(event["job"])
        if job is not None:
            job.status = event["status"]
            job.finished = event["finished"]

    # ------------------------------------------------------------------ what the driver reads
    def stage_progress(self, app_id: str, stage_ids: list[int]) -> list[list[int]]:
        """``[stage id, active, complete, failed]`` for the known stages among ``stage_ids``."""
        stages: dict[int, StageView] = self.stages.get(app_id) or {}
        return [
            [stage_id, stage.active, stage.complete, stage.failed]
            for stage_id in stage_ids
            if (stage := stages.get(stage_id)) is not None
        ]

    def job_views(self) -> list[tuple[JobView, dict[int, StageView]]]:
        """Every known job, newest application and job first, with its applications' stages."""
        views = []
        for app_id in reversed(self.jobs):
            stages: dict[int, StageView] = self.stages.get(app_id) or {}
            views += [(job, stages) for job in reversed(self.jobs[app_id].values())]
        return views


def _trim(ordered: OrderedDict, size: int) -> None:
    while len(ordered) > size:
        ordered.popitem(last=False)


class _PluginCollector:
    """prometheus_client collector over the monitoring plugins of this process's schedulers
    (served by Dask's ``/metrics`` handler, which exposes the default registry)."""

    def __init__(self) -> None:
        self._plugins: weakref.WeakSet[MonitoringSchedulerPlugin] = weakref.WeakSet()
        self._lock = threading.Lock()
        self._registered = False

    def add(self, plugin: MonitoringSchedulerPlugin) -> None:
        with self._lock:
            self._plugins.add(plugin)
            if not self._registered:
                REGISTRY.register(self)
                self._registered = True

    def discard(self, plugin: MonitoringSchedulerPlugin) -> None:
        with self._lock:
            self._plugins.discard(plugin)

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            plugins = list(self._plugins)
        if not plugins:
            return
        for spec in catalog.SCHEDULER_METRICS:
            family_type = CounterMetricFamily if spec.kind == "counter" else GaugeMetricFamily
            family = family_type(spec.name, spec.help, labels=spec.labels)
            merged: dict[tuple[str, ...], float] = defaultdict(float)
            for plugin in plugins:
                for labels, value in plugin.totals.values.get(spec.name, {}).items():
                    merged[labels] += value
            if not spec.labels:
                merged.setdefault((), 0.0)
            for labels, value in sorted(merged.items()):
                family.add_metric(list(labels), value)
            yield family

    def describe(self) -> list[Metric]:
        return []  # families appear with the first plugin; nothing to check up front


_COLLECTOR = _PluginCollector()
