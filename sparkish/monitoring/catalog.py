"""Every metric sparkish publishes: name, type, help text and labels, in one table.

Names follow Prometheus conventions (``sparkish_`` prefix, base units, ``_total`` for counters).
Label values come from small, fixed sets (RDD operations, actions, file system protocols,
exception types), never from partitions, RDD ids or job ids.

>>> SHUFFLE_RECORDS_WRITTEN.name, SHUFFLE_RECORDS_WRITTEN.labels
('sparkish_shuffle_records_written', ())
>>> sorted({spec.kind for spec in SCHEDULER_METRICS})
['counter', 'gauge']
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "DRIVER_METRICS",
    "JOB_DURATION_BUCKETS",
    "SCHEDULER_METRICS",
    "WORKER_METRICS",
    "MetricSpec",
]


@dataclass(frozen=True)
class MetricSpec:
    """One metric family. ``name`` omits a counter's ``_total`` suffix (prometheus_client adds
    it when it exposes the family)."""

    name: str
    kind: str  # "counter", "gauge" or "histogram"
    help: str
    labels: tuple[str, ...] = ()


# --------------------------------------------------------------------------- scheduler (tasks)
STAGES_STARTED = MetricSpec(
    "sparkish_stages_started",
    "counter",
    "Stages whose first task started, by the RDD operation that names the stage "
    "(the task key prefix: an action, or <operation>-map for a shuffle's map side).",
    ("operation",),
)
TASKS_STARTED = MetricSpec(
    "sparkish_tasks_started",
    "counter",
    "Task attempts that started running on a worker, by RDD operation.",
    ("operation",),
)
TASKS_COMPLETED = MetricSpec(
    "sparkish_tasks_completed",
    "counter",
    "Tasks whose result the scheduler accepted, by RDD operation; a task recomputed after a "
    "worker loss counts once.",
    ("operation",),
)
TASKS_ACTIVE = MetricSpec(
    "sparkish_tasks_active",
    "gauge",
    "Tasks running on a worker now, by RDD operation.",
    ("operation",),
)
TASK_FAILURES = MetricSpec(
    "sparkish_task_failures",
    "counter",
    "Task attempts that failed, by RDD operation and exception type.",
    ("operation", "exception"),
)
TASKS_RECOMPUTED = MetricSpec(
    "sparkish_tasks_recomputed",
    "counter",
    "Tasks computed again because their result was lost with a worker.",
)
WORKER_LOSSES = MetricSpec(
    "sparkish_worker_losses",
    "counter",
    "Workers that left the cluster while running sparkish tasks or holding their results.",
)
SHUFFLE_RECORDS_WRITTEN = MetricSpec(
    "sparkish_shuffle_records_written",
    "counter",
    "Records written by shuffle map tasks (tasks whose result was accepted, each once).",
)
SHUFFLE_BYTES_WRITTEN = MetricSpec(
    "sparkish_shuffle_written_bytes",
    "counter",
    "Bytes of serialized shuffle buckets written by map tasks (frame headers excluded).",
)
SHUFFLE_RECORDS_READ = MetricSpec(
    "sparkish_shuffle_records_read",
    "counter",
    "Records read by shuffle reduce tasks.",
)
SHUFFLE_BYTES_READ = MetricSpec(
    "sparkish_shuffle_read_bytes",
    "counter",
    "Bytes of serialized shuffle buckets read by reduce tasks (frame headers excluded).",
)
INPUT_BYTES = MetricSpec(
    "sparkish_input_read_bytes",
    "counter",
    "Bytes read from input files (compressed size for compressed files), by file system protocol.",
    ("protocol",),
)
OUTPUT_BYTES = MetricSpec(
    "sparkish_output_written_bytes",
    "counter",
    "Bytes written to output files by saveAs*File tasks, by file system protocol.",
    ("protocol",),
)
OUTPUT_RECORDS = MetricSpec(
    "sparkish_output_records_written",
    "counter",
    "Records written to output files by saveAs*File tasks, by file system protocol.",
    ("protocol",),
)

SCHEDULER_METRICS = (
    STAGES_STARTED,
    TASKS_STARTED,
    TASKS_COMPLETED,
    TASKS_ACTIVE,
    TASK_FAILURES,
    TASKS_RECOMPUTED,
    WORKER_LOSSES,
    SHUFFLE_RECORDS_WRITTEN,
    SHUFFLE_BYTES_WRITTEN,
    SHUFFLE_RECORDS_READ,
    SHUFFLE_BYTES_READ,
    INPUT_BYTES,
    OUTPUT_BYTES,
    OUTPUT_RECORDS,
)

# --------------------------------------------------------------------------- worker processes
SHUFFLE_SPILLED_BYTES = MetricSpec(
    "sparkish_shuffle_spilled_bytes",
    "counter",
    "Bytes of shuffle buckets this worker received and buffered on its local disk.",
)

WORKER_METRICS = (SHUFFLE_SPILLED_BYTES,)

# --------------------------------------------------------------------------- driver (jobs)
JOBS_STARTED = MetricSpec(
    "sparkish_jobs_started",
    "counter",
    "Jobs submitted, by the action that ran them (collect, count, saveAsTextFile...).",
    ("action",),
)
JOBS_FINISHED = MetricSpec(
    "sparkish_jobs_finished",
    "counter",
    "Jobs that ended, by action and status (succeeded, failed or cancelled).",
    ("action", "status"),
)
JOBS_ACTIVE = MetricSpec("sparkish_jobs_active", "gauge", "Jobs running now.")
JOB_DURATION = MetricSpec(
    "sparkish_job_duration_seconds",
    "histogram",
    "Time from a job's submission to its end, by action.",
    ("action",),
)

DRIVER_METRICS = (JOBS_STARTED, JOBS_FINISHED, JOBS_ACTIVE, JOB_DURATION)

#: Job durations span milliseconds (a small count) to many minutes.
JOB_DURATION_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800)
