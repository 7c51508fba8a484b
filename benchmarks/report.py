"""Summaries, text tables, ratios, target checks, JSON and charts from :class:`RunRecord` lists.

>>> from benchmarks.harness import RunRecord
>>> runs = [RunRecord("python", "pi", "full", 1, 1, status="ok", job_s=t) for t in (3.0, 1.0, 2.0)]
>>> summarize(runs)[0]["job_s"]
{'median': 2.0, 'min': 1.0, 'max': 3.0}
"""

from __future__ import annotations

import json
import os
import statistics
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from benchmarks.harness import RunRecord
from benchmarks.runner import BASELINE_SYSTEM

MIB = 1024 * 1024
REFERENCE_SYSTEM = "python"

# How the tables and charts name the systems.
SYSTEM_LABELS = {
    "python": "plain Python, 1 core",
    "pyspark": "PySpark",
    "dask": "Dask bag (distributed)",
    "dask-processes": "Dask bag (processes)",
    "pysparkling": "pysparkling (process pool)",
    "sparkish": "sparkish",
    BASELINE_SYSTEM: "sparkish before",
}


def _stats(values: Sequence[float]) -> dict[str, float] | None:
    if not values:
        return None
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def _group_key(record: RunRecord) -> tuple[str, str, int, int]:
    return (record.workload, record.system, record.scale, record.workers)


def summarize(records: Iterable[RunRecord]) -> list[dict[str, Any]]:
    """One summary per (workload, system, scale, workers), in first-seen order.

    Job times come from runs whose checksum passed; start-up and peak memory from every run that
    finished (passed or not). Failed runs are counted by status, never dropped.
    """
    groups: dict[tuple[str, str, int, int], list[RunRecord]] = {}
    for record in records:
        groups.setdefault(_group_key(record), []).append(record)
    summaries = []
    for (workload, system, scale, workers), runs in groups.items():
        ok = [run for run in runs if run.status == "ok"]
        finished = [run for run in runs if run.status in ("ok", "wrong")]
        statuses: dict[str, int] = {}
        for run in runs:
            statuses[run.status] = statuses.get(run.status, 0) + 1
        numeric: dict[str, list[float]] = {}
        other: dict[str, set[str]] = {}
        for run in ok:
            for name, value in run.extra.items():
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    numeric.setdefault(name, []).append(value)
                elif value is not None:
                    other.setdefault(name, set()).add(str(value))
        extra: dict[str, Any] = {name: statistics.median(v) for name, v in numeric.items()}
        extra.update({name: " | ".join(sorted(values)) for name, values in other.items()})
        problems = [
            f"run {run.run_index + 1}: {run.status}"
            + (f" ({run.phase})" if run.phase else "")
            + f": {run.error or run.check}"
            for run in runs
            if run.status != "ok"
        ]
        summaries.append(
            {
                "workload": workload,
                "system": system,
                "scale": scale,
                "workers": workers,
                "runs": len(runs),
                "statuses": statuses,
                "job_s": _stats([run.job_s for run in ok if run.job_s is not None]),
                "startup_s": _stats([r.startup_s for r in finished if r.startup_s is not None]),
                "peak_memory_mib": _stats(
                    [r.peak_memory_bytes / MIB for r in finished if r.peak_memory_bytes]
                ),
                "extra": extra,
                "problems": problems,
            }
        )
    return summaries


def find_summary(
    summaries: Sequence[dict], workload: str, system: str, scale: int = 1
) -> dict | None:
    """The summary of ``system`` on ``workload`` at data ``scale``, if there is one."""
    for summary in summaries:
        if (summary["workload"], summary["system"], summary["scale"]) == (workload, system, scale):
            return summary
    return None


def median_of(summary: dict | None, metric: str = "job_s") -> float | None:
    """The median of ``metric`` in ``summary``; ``None`` when it was not measured."""
    if summary is None or summary.get(metric) is None:
        return None
    return summary[metric]["median"]


def best_peer(
    summaries: Sequence[dict], workload: str, focus: str
) -> tuple[str, float] | tuple[None, None]:
    """The fastest peer on ``workload`` and its time: not ``focus``, plain Python or a baseline.

    >>> best_peer([{"workload": "pi", "system": "dask", "scale": 1, "job_s": {"median": 2.0}}],
    ...           "pi", "sparkish")
    ('dask', 2.0)
    """
    times = [
        (summary["job_s"]["median"], summary["system"])
        for summary in summaries
        if summary["workload"] == workload
        and summary["scale"] == 1
        and summary["system"] not in (focus, REFERENCE_SYSTEM, BASELINE_SYSTEM)
        and summary.get("job_s")
    ]
    if not times:
        return None, None
    seconds, system = min(times)
    return system, seconds


def compute_ratios(
    summaries: Sequence[dict], focus: str, systems: Sequence[str], ideal_divisor: int
) -> dict[str, dict[str, float | None]]:
    """Per workload: focus/peer job-time ratios, focus/best peer and focus/ideal.

    The ideal is plain Python's time / ``ideal_divisor`` (the cores the workers can use).

    >>> s = [{"workload": "pi", "system": n, "scale": 1, "job_s": {"median": t}}
    ...      for n, t in (("python", 4.0), ("sparkish", 3.0), ("pyspark", 6.0))]
    >>> compute_ratios(s, "sparkish", ["python", "pyspark", "sparkish"], ideal_divisor=2)["pi"]
    {'sparkish/pyspark': 0.5, 'sparkish/best peer': 0.5, 'sparkish/ideal': 1.5}
    """
    ratios: dict[str, dict[str, float | None]] = {}
    workloads = list(dict.fromkeys(summary["workload"] for summary in summaries))
    for workload in workloads:
        focus_time = median_of(find_summary(summaries, workload, focus))
        row: dict[str, float | None] = {}
        for peer in systems:
            if peer in (focus, REFERENCE_SYSTEM):
                continue
            peer_time = median_of(find_summary(summaries, workload, peer))
            row[f"{focus}/{peer}"] = _safe_ratio(focus_time, peer_time)
        row[f"{focus}/best peer"] = _safe_ratio(
            focus_time, best_peer(summaries, workload, focus)[1]
        )
        reference_time = median_of(find_summary(summaries, workload, REFERENCE_SYSTEM))
        ideal = reference_time / ideal_divisor if reference_time is not None else None
        row[f"{focus}/ideal"] = _safe_ratio(focus_time, ideal)
        ratios[workload] = row
    return ratios


def _safe_ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or not denominator:
        return None
    return numerator / denominator


# --- text formatting --------------------------------------------------------------------------


def format_seconds(value: float | None) -> str:
    """Seconds with precision that fits the magnitude.

    >>> format_seconds(0.1234), format_seconds(12.34), format_seconds(123.4), format_seconds(None)
    ('0.123', '12.3', '123', '-')
    """
    if value is None:
        return "-"
    if value < 1:
        return f"{value:.3f}"
    if value < 10:
        return f"{value:.2f}"
    if value < 100:
        return f"{value:.1f}"
    return f"{value:.0f}"


def _format_stats(stats: dict | None, formatter: Any = format_seconds) -> str:
    if stats is None:
        return "-"
    if stats["min"] == stats["max"]:
        return formatter(stats["median"])
    return f"{formatter(stats['median'])} [{formatter(stats['min'])}-{formatter(stats['max'])}]"


def _format_mib(value: float) -> str:
    return f"{value:.0f}"


def _cell(summary: dict | None, metric: str, note: str = "") -> str:
    if summary is None:
        return note or "-"
    formatter = _format_mib if metric == "peak_memory_mib" else format_seconds
    text = _format_stats(summary.get(metric), formatter)
    failed = {status: count for status, count in summary["statuses"].items() if status != "ok"}
    if failed:
        flags = ",".join(f"{count}x {status.upper()}" for status, count in failed.items())
        text = flags if text == "-" else f"{text} ({flags})"
    return text


def format_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A plain fixed-width table.

    >>> print(format_table(["a", "bb"], [["1", "2"]]))
    a  bb
    -  --
    1  2
    """
    widths = [len(header) for header in headers]
    for row in rows:
        widths = [max(width, len(cell)) for width, cell in zip(widths, row, strict=True)]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(headers, widths, strict=True)).rstrip()
    ]
    lines.append("  ".join("-" * width for width in widths))
    lines += [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows
    ]
    return "\n".join(lines)


def _ratio_text(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def comparison_report(
    summaries: Sequence[dict],
    systems: Sequence[str],
    system_notes: dict[str, str],
    focus: str,
    workers: int,
    runs: int,
    ideal_divisor: int,
    targets: Sequence[dict],
) -> tuple[str, dict]:
    """The text report of a comparison run (with ``targets``' verdicts), and its ratios."""
    workloads = list(dict.fromkeys(summary["workload"] for summary in summaries))
    sections = []
    for title, metric in (
        (f"Job time, s: median [min-max] over {runs} run(s), checksum-verified runs only", "job_s"),
        ("Start-up, s (context/cluster creation until usable; not in job time)", "startup_s"),
        (
            "Peak memory, MiB (sum of PSS over the process tree, sampled every 0.25 s)",
            "peak_memory_mib",
        ),
    ):
        rows = [
            [workload]
            + [
                _cell(
                    find_summary(summaries, workload, system), metric, system_notes.get(system, "")
                )
                for system in systems
            ]
            for workload in workloads
        ]
        sections.append(title + "\n" + format_table(["workload", *systems], rows))

    ratios: dict[str, dict[str, float | None]] = {}
    if focus in systems:
        ratios = compute_ratios(summaries, focus, systems, ideal_divisor)
        ratio_names = list(dict.fromkeys(name for row in ratios.values() for name in row))
        ratio_rows = [
            [workload] + [_ratio_text(ratios[workload].get(name)) for name in ratio_names]
            for workload in workloads
        ]
        note = (
            f"ideal = plain Python / {ideal_divisor} (cores used by {workers} workers); "
            f"below 1 means {focus} is faster"
        )
        if focus in system_notes:
            note += f"; {focus} not measured"
        sections.append(
            f"Job-time ratios ({note})\n" + format_table(["workload", *ratio_names], ratio_rows)
        )

    extra_rows = []
    for summary in summaries:
        extra = {k: v for k, v in summary["extra"].items() if k not in ("check_s",)}
        if extra:
            text = ", ".join(
                f"{name}={_format_extra(value)}" for name, value in sorted(extra.items())
            )
            extra_rows.append([summary["workload"], summary["system"], text])
    if extra_rows:
        sections.append(
            "Extra metrics reported by the runners (medians; tasks = tasks the scheduler ran, "
            "stage_tasks = one per partition of every stage, graph_tasks = tasks in the "
            "optimised Dask graph)\n" + format_table(["workload", "system", "metrics"], extra_rows)
        )

    if targets:
        rows = [
            [
                target["target"],
                _target_value_text(target),
                f"{target['limit']:g}",
                target["verdict"],
                target["detail"],
            ]
            for target in targets
        ]
        sections.append(
            f"{focus} targets (issue 13, WORKLOADS.md)\n"
            + format_table(["target", "value", "limit", "verdict", "numbers"], rows)
        )

    problems = [
        f"{summary['workload']} / {summary['system']}: {problem}"
        for summary in summaries
        if summary["system"] not in system_notes
        for problem in summary["problems"]
    ]
    notes = [f"{system}: {note}" for system, note in system_notes.items()]
    if notes:
        sections.append("Systems not measured\n" + "\n".join(notes))
    if problems:
        sections.append("Runs that did not pass\n" + "\n".join(problems))
    return "\n\n".join(sections), ratios


def _target_value_text(target: dict) -> str:
    return "n/a" if target["value"] is None else f"{target['value']:.3g}"


def _extra_value(summary: dict | None, name: str) -> float | None:
    value = summary["extra"].get(name) if summary else None
    return value if isinstance(value, (int, float)) else None


def _format_tasks(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def _format_extra(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def scaling_report(summaries: Sequence[dict], scales: Sequence[int]) -> tuple[str, list[dict]]:
    """Text table and rows of the scaling mode: time and memory per data scale and worker count."""
    rows_out = []
    table_rows = []
    keys = list(dict.fromkeys((s["workload"], s["system"], s["workers"]) for s in summaries))
    for workload, system, workers in keys:
        by_scale = {
            s["scale"]: s
            for s in summaries
            if (s["workload"], s["system"], s["workers"]) == (workload, system, workers)
        }
        times = {scale: median_of(by_scale.get(scale)) for scale in scales}
        memory = {scale: median_of(by_scale.get(scale), "peak_memory_mib") for scale in scales}
        base_time, base_memory = times.get(scales[0]), memory.get(scales[0])
        row = {
            "workload": workload,
            "system": system,
            "workers": workers,
            "job_s": times,
            "peak_memory_mib": memory,
            "time_growth": {k: _safe_ratio(v, base_time) for k, v in times.items()},
            "memory_growth": {k: _safe_ratio(v, base_memory) for k, v in memory.items()},
            "statuses": {scale: by_scale[scale]["statuses"] for scale in by_scale},
            # the Dask tasks (or scheduler tasks) of the job at each scale, where reported
            "tasks": {scale: _extra_value(by_scale.get(scale), "tasks") for scale in scales},
        }
        rows_out.append(row)
        cells = [workload, system, str(workers)]
        for scale in scales:
            growth = row["time_growth"][scale]
            suffix = f" (x{growth:.2f})" if growth is not None and scale != scales[0] else ""
            cells.append(_cell(by_scale.get(scale), "job_s") + suffix)
        for scale in scales:
            growth = row["memory_growth"][scale]
            suffix = f" (x{growth:.2f})" if growth is not None and scale != scales[0] else ""
            cells.append(_cell(by_scale.get(scale), "peak_memory_mib") + suffix)
        cells.append(" / ".join(_format_tasks(row["tasks"][scale]) for scale in scales))
        table_rows.append(cells)
    headers = ["workload", "system", "workers"]
    headers += [f"job_s {scale}x" for scale in scales] + [f"MiB {scale}x" for scale in scales]
    headers.append("tasks " + " / ".join(f"{scale}x" for scale in scales))
    title = (
        "Scaling: median job time and peak memory per data scale "
        f"(growth vs {scales[0]}x in parentheses)"
    )
    return title + "\n" + format_table(headers, table_rows), rows_out


# --- files ------------------------------------------------------------------------------------


def write_json(path: str | os.PathLike[str], document: dict[str, Any]) -> None:
    """Write ``document`` atomically (via a ``.tmp`` sibling renamed into place).

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     write_json(Path(tmp) / "x.json", {"a": 1})
    ...     json.loads((Path(tmp) / "x.json").read_text())
    {'a': 1}
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.with_name(target.name + ".tmp")
    staging.write_text(json.dumps(document, indent=1, default=repr) + "\n")
    staging.replace(target)


def plot_comparison(
    path: str | os.PathLike[str],
    summaries: Sequence[dict],
    systems: Sequence[str],
    title: str,
    targets: Sequence[dict] = (),
) -> None:
    """Bar charts of median job time (log scale, min-max whiskers), start-up and peak memory,
    and below them each target's measured value as a fraction of its limit (``targets``)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    workloads = list(dict.fromkeys(summary["workload"] for summary in summaries))
    target_rows = max(1, len(targets))
    figure = plt.figure(figsize=(17, 5.5 + (0.25 * target_rows + 1 if targets else 0)))
    grid = figure.add_gridspec(
        2 if targets else 1,
        3,
        width_ratios=[3, 1.3, 3],
        height_ratios=[5.5, 0.25 * target_rows + 0.8] if targets else None,
    )
    axes = [figure.add_subplot(grid[0, column]) for column in range(3)]
    if targets:
        _plot_targets(figure.add_subplot(grid[1, :]), targets)
    width = 0.8 / max(1, len(systems))
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for index, system in enumerate(systems):
        colour = colours[index % len(colours)]
        for axis, metric in ((axes[0], "job_s"), (axes[2], "peak_memory_mib")):
            positions, heights, low, high = [], [], [], []
            for position, workload in enumerate(workloads):
                summary = find_summary(summaries, workload, system)
                stats = summary.get(metric) if summary else None
                x = position - 0.4 + width * (index + 0.5)
                if stats is None:
                    if summary is not None:
                        failed = ",".join(s for s in summary["statuses"] if s != "ok")
                        axis.text(
                            x,
                            0.02,
                            failed or "-",
                            rotation=90,
                            ha="center",
                            va="bottom",
                            fontsize=7,
                            transform=axis.get_xaxis_transform(),
                            color=colour,
                        )
                    continue
                positions.append(x)
                heights.append(stats["median"])
                low.append(stats["median"] - stats["min"])
                high.append(stats["max"] - stats["median"])
            if positions:
                bars = axis.bar(
                    positions,
                    heights,
                    width,
                    yerr=[low, high],
                    capsize=2,
                    color=colour,
                    label=SYSTEM_LABELS.get(system, system) if metric == "job_s" else None,
                )
                text = format_seconds if metric == "job_s" else _format_mib
                axis.bar_label(bars, [text(h) for h in heights], fontsize=6, padding=2)
        startups = [
            median_of(summary, "startup_s")
            for summary in summaries
            if summary["system"] == system and median_of(summary, "startup_s") is not None
        ]
        if startups:
            axes[1].bar(index, statistics.median(startups), 0.7, color=colour)
    axes[0].set_yscale("log")
    axes[0].set_ylabel("job time, s (median; log scale)")
    axes[2].set_ylabel("peak memory of the process tree, MiB")
    for axis in (axes[0], axes[2]):
        axis.set_xticks(range(len(workloads)), workloads)
    axes[1].set_xticks(range(len(systems)), systems, rotation=30, ha="right")
    axes[1].set_ylabel("start-up, s (median over workloads)")
    axes[0].legend(fontsize=8)
    figure.suptitle(title)
    figure.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)


_TARGET_AXIS_END = 3.0
_VERDICT_COLOURS = {"PASS": "tab:green", "FAIL": "tab:red", "n/a": "tab:gray"}


def _plot_targets(axis: Any, targets: Sequence[dict]) -> None:
    """One horizontal bar per target: measured value / limit (at most 1 passes), verdict text."""
    names = [target["target"] for target in targets]
    positions = range(len(targets))
    fractions = [
        target["value"] / target["limit"] if target["value"] is not None else 0.0
        for target in targets
    ]
    # Bars past _TARGET_AXIS_END are cut there; the text beside each bar gives the real value.
    shown = [min(fraction, _TARGET_AXIS_END) for fraction in fractions]
    colours = [_VERDICT_COLOURS[target["verdict"]] for target in targets]
    axis.barh(positions, shown, color=colours, height=0.7)
    axis.axvline(1.0, color="black", linewidth=1)
    for position, target, length in zip(positions, targets, shown, strict=True):
        text = f"{target['verdict']}  {_target_value_text(target)} (limit {target['limit']:g})"
        if target["detail"]:
            text += f"  {target['detail']}"
        axis.text(length + 0.03, position, text, va="center", fontsize=7)
    axis.set_yticks(list(positions), names, fontsize=7)
    axis.invert_yaxis()
    axis.set_xlim(0, _TARGET_AXIS_END * 2.2)
    axis.set_xticks([0, 0.5, 1, 2, _TARGET_AXIS_END])
    axis.set_xlabel(f"measured / limit (at most 1 passes; bars cut at {_TARGET_AXIS_END:g})")


def plot_scaling(path: str | os.PathLike[str], rows: Sequence[dict], scales: Sequence[int]) -> None:
    """One panel per workload: median job time against data scale, a line per system/workers."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    workloads = list(dict.fromkeys(row["workload"] for row in rows))
    figure, axes = plt.subplots(
        1, max(1, len(workloads)), figsize=(4.2 * max(1, len(workloads)), 4)
    )
    axes_list = axes if len(workloads) > 1 else [axes]
    for axis, workload in zip(axes_list, workloads, strict=True):
        for row in (r for r in rows if r["workload"] == workload):
            points = [(scale, row["job_s"].get(scale)) for scale in scales]
            points = [(scale, value) for scale, value in points if value is not None]
            if points:
                axis.plot(
                    *zip(*points, strict=True),
                    marker="o",
                    label=f"{row['system']} x{row['workers']}",
                )
        axis.set_title(workload)
        axis.set_xlabel("data scale")
        axis.set_xticks(list(scales))
        axis.set_ylabel("job time, s")
        axis.legend(fontsize=7)
    figure.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
