"""sparkish's performance targets (WORKLOADS.md, issue 13), each checked against one run.

Every target compares the focus system's median job time (or peak memory, or start-up) with a
limit derived from the same session: the best peer's time, plain Python's time on one core, or
the **ideal**, plain Python's time divided by the number of cores the workers can really use
(``min(workers, cores)``: oversubscribed workers share the cores, they do not add any). A verdict
is ``PASS``, ``FAIL``, or ``n/a`` when a number it needs was not measured; a focus system with no
passing run (timeout, crash, wrong result) fails its time targets.

>>> summaries = [
...     {"workload": "bucket", "system": s, "scale": 1, "job_s": {"median": t, "max": t},
...      "statuses": {"ok": 1}, "peak_memory_mib": None, "startup_s": None, "extra": {}}
...     for s, t in (("python", 0.6), ("pysparkling", 5.0), ("sparkish", 2.0))
... ]
>>> [(t["target"], t["verdict"]) for t in evaluate_targets(summaries, "sparkish", 2)]
[('bucket: sparkish <= 0.5 x best peer', 'PASS'), ('bucket: sparkish <= 4 x plain Python', 'PASS')]
"""

from __future__ import annotations

import os
import statistics
from collections.abc import Sequence
from typing import Any

from benchmarks.report import (
    REFERENCE_SYSTEM,
    best_peer,
    find_summary,
    format_seconds,
    median_of,
)
from benchmarks.runner import BASELINE_SYSTEM

ISSUE = "issue 13"
WORKLOADS_MD = "WORKLOADS.md"

BEST_PEER_FRACTION = 0.5
# workload -> (at most this multiple of the ideal, the target's source)
IDEAL_MULTIPLES: dict[str, tuple[float, str]] = {
    "wordcount": (2.0, ISSUE),
    "reduce": (2.0, ISSUE),
    "group": (2.0, ISSUE),
    "pi": (1.5, ISSUE),
    "pi_large": (1.5, WORKLOADS_MD),
}
# workload -> at most this multiple of plain Python's time on one core (issue 13).
SINGLE_CORE_MULTIPLES: dict[str, float] = {"bucket": 4.0, "bucket-xl": 3.0}
# workload -> peak memory of the whole process tree below this many MiB (issue 13).
PEAK_MEMORY_LIMITS_MIB: dict[str, float] = {"bucket-xl": 4096.0}
STARTUP_LIMIT_S = 2.0
VERDICTS = ("PASS", "FAIL", "n/a")


def ideal_divisor(workers: int, cores: int | None = None) -> int:
    """How many cores the ideal divides plain Python's time by: ``min(workers, cores)``.

    >>> ideal_divisor(2, 2), ideal_divisor(4, 2), ideal_divisor(1, 8)
    (2, 2, 1)
    """
    cores = cores or os.cpu_count() or workers
    return max(1, min(workers, cores))


def _failed_runs(summary: dict) -> str:
    failed = {status: count for status, count in summary["statuses"].items() if status != "ok"}
    return ", ".join(f"{count}x {status}" for status, count in failed.items()) or "no run"


class _Verdicts:
    """Collects target rows; a row's ``value`` is what is compared with its ``limit``."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []

    def add(
        self, target: str, source: str, value: float | None, limit: float, detail: str = ""
    ) -> None:
        if value is None:
            verdict = "n/a"
        else:
            verdict = "PASS" if value <= limit else "FAIL"
        self.rows.append(
            {
                "target": target,
                "source": source,
                "value": value,
                "limit": limit,
                "verdict": verdict,
                "detail": detail,
            }
        )

    def fail(self, target: str, source: str, limit: float, detail: str) -> None:
        self.rows.append(
            {
                "target": target,
                "source": source,
                "value": None,
                "limit": limit,
                "verdict": "FAIL",
                "detail": detail,
            }
        )


def _time_targets(
    verdicts: _Verdicts, summaries: Sequence[dict], workload: str, focus: str, divisor: int
) -> None:
    focus_summary = find_summary(summaries, workload, focus)
    if focus_summary is None:
        return
    focus_time = median_of(focus_summary)
    reference = median_of(find_summary(summaries, workload, REFERENCE_SYSTEM))
    goals: list[tuple[str, str, float, float | None, str]] = []
    peer, peer_time = best_peer(summaries, workload, focus)
    goals.append(
        (
            f"{workload}: {focus} <= {BEST_PEER_FRACTION:g} x best peer",
            ISSUE if workload == "bucket" else WORKLOADS_MD,
            BEST_PEER_FRACTION,
            peer_time,
            f"{peer} {format_seconds(peer_time)} s" if peer else "no peer measured",
        )
    )
    if workload in IDEAL_MULTIPLES:
        multiple, source = IDEAL_MULTIPLES[workload]
        ideal = reference / divisor if reference is not None else None
        goals.append(
            (
                f"{workload}: {focus} <= {multiple:g} x ideal",
                source,
                multiple,
                ideal,
                f"ideal {format_seconds(ideal)} s = plain Python / {divisor}",
            )
        )
    if workload in SINGLE_CORE_MULTIPLES:
        multiple = SINGLE_CORE_MULTIPLES[workload]
        goals.append(
            (
                f"{workload}: {focus} <= {multiple:g} x plain Python",
                ISSUE,
                multiple,
                reference,
                f"plain Python {format_seconds(reference)} s",
            )
        )
    baseline_time = median_of(find_summary(summaries, workload, BASELINE_SYSTEM))
    if find_summary(summaries, workload, BASELINE_SYSTEM) is not None:
        goals.append(
            (
                f"{workload}: {focus} <= {focus} before (no regression)",
                ISSUE,
                1.0,
                baseline_time,
                f"before {format_seconds(baseline_time)} s",
            )
        )
    for target, source, limit, denominator, against in goals:
        if focus_time is None:
            verdicts.fail(target, source, limit, f"{focus}: {_failed_runs(focus_summary)}")
            continue
        value = focus_time / denominator if denominator else None
        detail = f"{focus} {format_seconds(focus_time)} s vs {against}"
        verdicts.add(target, source, value, limit, detail)


def evaluate_targets(
    summaries: Sequence[dict], focus: str, divisor: int, pyspark: str = "pyspark"
) -> list[dict[str, Any]]:
    """Every target that applies to the measured workloads, with its value and verdict.

    ``divisor`` is :func:`ideal_divisor` of the run. A row holds ``target``, ``source``
    (issue 13 or WORKLOADS.md), ``value`` (a ratio, MiB or seconds), ``limit``, ``verdict``
    and ``detail`` (the numbers behind the ratio).
    """
    verdicts = _Verdicts()
    workloads = list(dict.fromkeys(summary["workload"] for summary in summaries))
    for workload in workloads:
        _time_targets(verdicts, summaries, workload, focus, divisor)
        focus_summary = find_summary(summaries, workload, focus)
        if workload in PEAK_MEMORY_LIMITS_MIB and focus_summary is not None:
            limit = PEAK_MEMORY_LIMITS_MIB[workload]
            peak = focus_summary.get("peak_memory_mib")
            highest = peak["max"] if peak else None
            verdicts.add(
                f"{workload}: {focus} peak memory < {limit / 1024:g} GiB",
                ISSUE,
                highest,
                limit,
                f"highest peak of the process tree {highest:.0f} MiB" if peak else "not sampled",
            )
    focus_summaries = [summary for summary in summaries if summary["system"] == focus]
    startups = [median_of(summary, "startup_s") for summary in focus_summaries]
    startups = [value for value in startups if value is not None]
    if startups:
        middle = statistics.median(startups)
        verdicts.add(
            f"{focus} start-up <= {STARTUP_LIMIT_S:g} s",
            WORKLOADS_MD,
            middle,
            STARTUP_LIMIT_S,
            f"median over workloads {format_seconds(middle)} s",
        )
    for summary in focus_summaries:
        peer_memory = median_of(
            find_summary(summaries, summary["workload"], pyspark), "peak_memory_mib"
        )
        focus_memory = median_of(summary, "peak_memory_mib")
        if peer_memory is None or focus_memory is None:
            continue
        verdicts.add(
            f"{summary['workload']}: {focus} peak memory below PySpark's",
            WORKLOADS_MD,
            focus_memory / peer_memory,
            # strictly below: the largest ratio that passes
            1.0 - 1e-9,
            f"{focus_memory:.0f} vs {peer_memory:.0f} MiB",
        )
    return verdicts.rows
