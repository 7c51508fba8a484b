"""The README's benchmark tables, written from one comparison run's summaries and targets.

:func:`comparison_markdown` gives Markdown: what was run and where, median job seconds per
workload and system with the focus system's ratios and Dask task count, peak memory of the
process tree, and the target verdicts. :func:`splice_between_markers` puts it into a file (the
README) between two marker lines, replacing what an earlier run put there, so the README's
numbers always come from one run of the harness.

>>> print(markdown_table(["a", "b"], [["1", "2"]]))
| a | b |
|---|---|
| 1 | 2 |
"""

from __future__ import annotations

import os
import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.harness import REPO_ROOT
from benchmarks.report import (
    REFERENCE_SYSTEM,
    SYSTEM_LABELS,
    find_summary,
    format_seconds,
    median_of,
)
from benchmarks.runner import BASELINE_SYSTEM
from benchmarks.workloads import workload_label

README_BEGIN = "<!-- benchmark-results:begin (written by python -m benchmarks.run --readme) -->"
README_END = "<!-- benchmark-results:end -->"


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A GitHub-flavoured Markdown table."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def job_cell(
    summary: dict | None, timeout_s: float | None = None, memory_limit_gib: float | None = None
) -> str:
    """Median job seconds, or what happened instead (``timeout (600 s)``, ``crash``).

    >>> job_cell({"job_s": None, "statuses": {"timeout": 2}}, 600)
    'timeout (600 s)'
    >>> job_cell({"job_s": None, "statuses": {"memory": 1}}, 600, 12)
    'memory (over 12 GiB)'
    >>> job_cell({"job_s": {"median": 1.5}, "statuses": {"ok": 1, "timeout": 1}}, 60)
    '1.50 (1 of 2 timeout)'
    """
    if summary is None:
        return "–"
    failed = {status: count for status, count in summary["statuses"].items() if status != "ok"}
    runs = sum(summary["statuses"].values())
    if summary.get("job_s") is None:
        words = []
        for status, count in failed.items():
            word = status if count == runs else f"{count} of {runs} {status}"
            if status == "timeout" and timeout_s is not None:
                word += f" ({timeout_s:g} s)"
            if status == "memory" and memory_limit_gib is not None:
                word += f" (over {memory_limit_gib:g} GiB)"
            words.append(word)
        return ", ".join(words) or "–"
    text = format_seconds(summary["job_s"]["median"])
    if failed:
        text += " (" + ", ".join(f"{n} of {runs} {status}" for status, n in failed.items()) + ")"
    return text


def _baseline_note(document: dict[str, Any]) -> str:
    baseline = document["systems"].get(BASELINE_SYSTEM)
    if not baseline or not baseline.get("available"):
        return ""
    label = SYSTEM_LABELS[BASELINE_SYSTEM]
    return f"; {label} = the same jobs on sparkish at commit `{baseline.get('commit', '?')}`"


def _shown_path(directory: str) -> str:
    """``directory`` relative to the repository when it is inside it."""
    path = Path(directory).resolve()
    try:
        return str(path.relative_to(REPO_ROOT))
    except ValueError:
        return str(path)


def _ratio(value: float | None) -> str:
    return "–" if value is None else f"{value:.3g}"


def _tasks(summary: dict | None) -> str:
    tasks = summary["extra"].get("tasks") if summary else None
    return "–" if tasks is None else f"{tasks:,.0f}"


def comparison_markdown(
    document: dict[str, Any],
    summaries: Sequence[dict],
    ratios: dict[str, dict[str, float | None]],
    targets: Sequence[dict],
    timeouts: dict[str, float],
) -> str:
    """The Markdown of a comparison run; ``document`` is the run's JSON (config, machine)."""
    config, machine = document["config"], document["machine"]
    systems = [s for s in config["systems"] if any(x["system"] == s for x in summaries)]
    focus = config["focus"]
    size = "tiny" if config["tiny"] else "full"
    workloads = list(dict.fromkeys(summary["workload"] for summary in summaries))
    divisor = document["ideal_divisor"]
    runs = config["runs"]
    lines = [
        f"`{document['command']}` on {machine['cpu_count']} cores "
        f"({machine['platform']}, Python {machine['python']}, {machine['memory_gib']} GiB, load "
        f"average {' / '.join(f'{x:g}' for x in machine['load_average'])} at the end), "
        f"{document['created']}, commit `{document['commit']}`. "
        f"`{_shown_path(config['output_dir'])}/latest.json` holds every run.",
        "",
        f"Job seconds, median of {runs} run(s) per system, interleaved, each a fresh process; "
        f"{config['workers']} workers (`local[{config['workers']}]`, {config['workers']} Dask "
        f"workers or pool processes); ideal = plain Python / {divisor}; best peer = the fastest "
        f"of the other frameworks; Dask tasks = tasks {focus}'s scheduler ran for the job"
        + _baseline_note(document)
        + ":",
        "",
    ]
    headers = ["workload"] + [
        f"**{focus}**" if system == focus else SYSTEM_LABELS.get(system, system)
        for system in systems
    ]
    focus_measured = focus in systems
    if focus_measured:
        headers += [f"{focus} / best peer", f"{focus} / ideal", f"{focus} Dask tasks"]
    rows = []
    for workload in workloads:
        timeout = timeouts.get(workload)
        row = [workload_label(workload, size)]
        for system in systems:
            summary = find_summary(summaries, workload, system)
            cell = job_cell(summary, timeout, config.get("memory_limit_gib"))
            row.append(f"**{cell}**" if system == focus else cell)
        if focus_measured:
            workload_ratios = ratios.get(workload, {})
            row += [
                _ratio(workload_ratios.get(f"{focus}/best peer")),
                _ratio(workload_ratios.get(f"{focus}/ideal")),
                _tasks(find_summary(summaries, workload, focus)),
            ]
        rows.append(row)
    lines += [markdown_table(headers, rows), ""]

    lines += [
        "Peak memory of the process tree (driver and every worker, JVM or pool process), "
        "MiB, highest of the runs; start-up (context or cluster until usable), s, median:",
        "",
    ]
    memory_rows = []
    for workload in workloads:
        row = [workload]
        for system in systems:
            summary = find_summary(summaries, workload, system)
            peak = summary.get("peak_memory_mib") if summary else None
            row.append(f"{peak['max']:.0f}" if peak else "–")
        memory_rows.append(row)
    startups = []
    for system in systems:
        values = [
            median_of(summary, "startup_s")
            for summary in summaries
            if summary["system"] == system and median_of(summary, "startup_s") is not None
        ]
        startups.append(format_seconds(statistics.median(values)) if values else "–")
    memory_rows.append(["start-up, s", *startups])
    memory_headers = ["workload"] + [SYSTEM_LABELS.get(s, s) for s in systems]
    lines += [markdown_table(memory_headers, memory_rows), ""]

    if targets:
        lines += [f"Targets ({focus}; issue 13 and WORKLOADS.md), from the same run:", ""]
        target_rows = [
            [
                target["target"],
                target["source"],
                _ratio(target["value"]),
                f"{target['limit']:g}",
                f"**{target['verdict']}**" if target["verdict"] != "PASS" else "PASS",
                target["detail"],
            ]
            for target in targets
        ]
        headers = ["target", "from", "measured", "limit", "verdict", "numbers"]
        lines += [markdown_table(headers, target_rows), ""]
    reference_missing = REFERENCE_SYSTEM not in systems
    if reference_missing:
        lines += ["(plain Python was not run: no ideal, no ratios against it.)", ""]
    return "\n".join(lines).rstrip() + "\n"


def check_markers(path: str | os.PathLike[str]) -> tuple[int, int]:
    """Positions of the two marker lines in ``path``; a clear error if they are not there."""
    target = Path(path)
    try:
        content = target.read_text()
    except OSError as error:
        raise ValueError(
            f"cannot read {target} to write the benchmark tables into: {error}"
        ) from error
    begin, end = content.find(README_BEGIN), content.find(README_END)
    if begin < 0 or end < begin:
        raise ValueError(
            f"{target} has no '{README_BEGIN}' line followed by a '{README_END}' line to write "
            "the benchmark tables between"
        )
    return begin, end


def splice_between_markers(path: str | os.PathLike[str], text: str) -> None:
    """Replace what lies between :data:`README_BEGIN` and :data:`README_END` in ``path``.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     readme = Path(tmp) / "README.md"
    ...     _ = readme.write_text(f"intro\\n{README_BEGIN}\\nold\\n{README_END}\\nrest\\n")
    ...     splice_between_markers(readme, "new\\n")
    ...     print(readme.read_text(), end="")
    intro
    <!-- benchmark-results:begin (written by python -m benchmarks.run --readme) -->
    new
    <!-- benchmark-results:end -->
    rest
    """
    target = Path(path)
    begin, end = check_markers(target)
    content = target.read_text()
    head = content[: begin + len(README_BEGIN)]
    target.write_text(head + "\n" + text.rstrip("\n") + "\n" + content[end:])
