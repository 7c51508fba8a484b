"""``StatusTracker``: what the context's jobs are doing, like ``pyspark.StatusTracker``."""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from .execution.jobs import JobRecord, JobRunner

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
    """

    def __init__(self, jobs: JobRunner) -> None:
        self._jobs = jobs

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
        """Name and task counts of a stage of a known job.

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
                done = record.status == "SUCCEEDED"
                active = record.status == "RUNNING"
                return SparkStageInfo(
                    stageId, 0, name, tasks, tasks if active else 0, tasks if done else 0, 0
                )
        return None
