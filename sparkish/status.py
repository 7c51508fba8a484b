"""``StatusTracker``: what the context's jobs are doing, like ``pyspark.StatusTracker``.

Task counts are the scheduler's: a stage's active tasks are those running on a worker now
(its tasks queued behind others, or waiting for another stage, are not active), complete tasks
are those whose results were accepted, failed ones the attempts that raised or lost their worker
for good. The console and notebook progress bars read the same counts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from .execution.jobs import JobRecord, JobRunner
    from .monitoring.stages import StageProgress

__all__ = ["SparkJobInfo", "SparkStageInfo", "StatusTracker"]


class SparkJobInfo(NamedTuple):
    """A job's id, the ids of its stages and its status."""

    jobId: int
    stageIds: list[int]
    status: str


class SparkStageInfo(NamedTuple):
    """A stage's name and how many of its tasks are active, complete or failed."""

    stageId: int
    currentAttemptId: int
    name: str
    numTasks: int
    numActiveTasks: int
    numCompletedTasks: int
    numFailedTasks: int


class StatusTracker:
    """Read-only view of the jobs a :class:`~sparkish.SparkContext` has run and is running.

    Parameters
    ----------
    jobs : JobRunner
        The context's job runner (``SparkContext.statusTracker()`` passes it).
    progress : StageProgress
        Where the task counts of running stages come from.

    Examples
    --------
    >>> tracker = sc.statusTracker()
    >>> sc.setJobGroup("tracked", "a tracked count")
    >>> sc.parallelize(range(10), 2).count()
    10
    >>> [job_id] = tracker.getJobIdsForGroup("tracked")
    >>> info = tracker.getJobInfo(job_id)
    >>> info.status
    'SUCCEEDED'
    >>> stage = tracker.getStageInfo(info.stageIds[0])
    >>> stage.numTasks, stage.numActiveTasks, stage.numCompletedTasks, stage.numFailedTasks
    (2, 0, 2, 0)
    """

    def __init__(self, jobs: JobRunner, progress: StageProgress) -> None:
        self._jobs = jobs
        self._progress = progress

    def _records(self) -> list[JobRecord]:
        return list(self._jobs.completed) + list(self._jobs.active.values())

    def getJobIdsForGroup(self, jobGroup: str | None = None) -> list[int]:
        """Ids of the jobs in ``jobGroup`` (or of the jobs without a group).

        Parameters
        ----------
        jobGroup : str, optional
            The group (see ``SparkContext.setJobGroup``).

        Returns
        -------
        list of int
        """
        return [r.job_id for r in self._records() if r.group_id == jobGroup]

    def getJobIdsForTag(self, jobTag: str) -> list[int]:
        """Ids of the jobs tagged ``jobTag``.

        Parameters
        ----------
        jobTag : str
            The tag (see ``SparkContext.addJobTag``).

        Returns
        -------
        list of int
        """
        return [r.job_id for r in self._records() if jobTag in r.tags]

    def getActiveJobsIds(self) -> list[int]:
        """Ids of the running jobs."""
        return sorted(self._jobs.active)

    def getActiveStageIds(self) -> list[int]:
        """Ids of the stages of the running jobs."""
        return sorted(stage for record in self._jobs.active.values() for stage in record.stages)

    def getJobInfo(self, jobId: int) -> SparkJobInfo | None:
        """Status and stage ids of a job (``RUNNING``, ``SUCCEEDED`` or ``FAILED``).

        Parameters
        ----------
        jobId : int
            The job.

        Returns
        -------
        SparkJobInfo or None
            ``None`` for an unknown job.
        """
        for record in self._records():
            if record.job_id == jobId:
                return SparkJobInfo(record.job_id, sorted(record.stages), record.status)
        return None

    def getStageInfo(self, stageId: int) -> SparkStageInfo | None:
        """Name and task counts of a stage of a known job: tasks running now, finished, failed.

        Parameters
        ----------
        stageId : int
            The stage.

        Returns
        -------
        SparkStageInfo or None
            ``None`` for an unknown stage.
        """
        for record in self._records():
            if stageId in record.stages:
                name, tasks = record.stages[stageId]
                active, complete, failed = self._counts(record, stageId, tasks)
                return SparkStageInfo(stageId, 0, name, tasks, active, complete, failed)
        return None

    def _counts(self, record: JobRecord, stage_id: int, tasks: int) -> tuple[int, int, int]:
        if record.status == "RUNNING":
            counts = self._progress.counts([stage_id]).get(stage_id)
        elif record.status == "SUCCEEDED":
            return 0, tasks, 0
        else:
            counts = record.stage_counts.get(stage_id)
        if counts is None:  # no task of the stage started
            return 0, 0, 0
        return counts.active, counts.complete, counts.failed
