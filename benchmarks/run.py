"""Side-by-side benchmark of sparkish, PySpark, Dask bag, pysparkling and plain Python.

    python -m benchmarks.run --workloads all --runs 3
    python -m benchmarks.run --tiny --runs 1 --systems python,dask
    python -m benchmarks.run --scaling --workloads pi,reduce --runs 1
    python -m benchmarks.run --systems sparkish --sparkish-conf sparkish.metrics.enabled=false

Every (system, workload) run is a fresh ``python -m benchmarks.runner`` process; runs are
interleaved across systems (A B C D A B C D ...). The comparison mode prints tables and writes
``<output-dir>/latest.json`` and ``latest.png``; the scaling mode runs every workload at several
data scales and worker counts and writes ``scaling.json`` and ``scaling.png``.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import shlex
import socket
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import psutil

from benchmarks import markdown, report, targets
from benchmarks.corpus import ensure_corpus, ensure_replicated
from benchmarks.harness import RunRecord, probe_system, run_fresh_process
from benchmarks.runner import BASELINE_SYSTEM, SYSTEMS, parse_settings
from benchmarks.workloads import (
    WORKLOAD_NAMES,
    WORKLOAD_TIMEOUTS_S,
    WorkloadParams,
    expected_pairs,
    workload_params,
)

BENCHMARKS_DIR = Path(__file__).resolve().parent
DEFAULT_SYSTEMS = ("python", "pyspark", "dask", "dask-processes", "pysparkling", "sparkish")
SINGLE_PROCESS_SYSTEMS = ("python",)
# Half of the 24 GiB machine: a peer that gathers a whole shuffle in one process (pysparkling)
# must not push a shared machine into its out-of-memory killer.
DEFAULT_MEMORY_LIMIT_GIB = 12.0


def _parse_list(text: str, known: Sequence[str], what: str) -> list[str]:
    if text == "all":
        return list(known)
    chosen = [item.strip() for item in text.split(",") if item.strip()]
    unknown = [item for item in chosen if item not in known]
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(
            f"unknown {what} {', '.join(unknown) or '(none given)'}; choose from {', '.join(known)}"
        )
    return list(dict.fromkeys(chosen))


def _parse_ints(text: str) -> list[int]:
    try:
        values = [int(item) for item in text.split(",") if item.strip()]
    except ValueError as error:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated integers, got {text!r}"
        ) from error
    if not values or any(value < 1 for value in values):
        raise argparse.ArgumentTypeError(f"expected positive integers, got {text!r}")
    return values


def build_parser() -> argparse.ArgumentParser:
    """The command-line interface of ``python -m benchmarks.run``."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.run",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--workloads",
        default="all",
        type=lambda text: _parse_list(text, WORKLOAD_NAMES, "workload"),
        help=f"'all' or a comma-separated list of {', '.join(WORKLOAD_NAMES)}",
    )
    parser.add_argument(
        "--systems",
        default=",".join(DEFAULT_SYSTEMS),
        type=lambda text: _parse_list(text, SYSTEMS, "system"),
        help=f"comma-separated list of {', '.join(SYSTEMS)}",
    )
    parser.add_argument("--runs", type=int, default=3, help="runs per (system, workload)")
    parser.add_argument(
        "--timeout",
        type=float,
        default=300.0,
        help="seconds per run, for the workloads without a timeout of their own "
        f"({_describe_timeouts(WORKLOAD_TIMEOUTS_S)}; see --workload-timeout)",
    )
    parser.add_argument(
        "--workload-timeout",
        action="append",
        default=[],
        metavar="WORKLOAD=SECONDS",
        type=_parse_workload_timeout,
        help="seconds per run of one workload, overriding --timeout and its default (repeatable)",
    )
    parser.add_argument("--workers", type=int, default=2, help="local[N] / Dask workers")
    parser.add_argument(
        "--memory-limit-gib",
        type=float,
        default=DEFAULT_MEMORY_LIMIT_GIB,
        help="kill a run whose process tree goes over this many GiB (status 'memory')",
    )
    parser.add_argument("--tiny", action="store_true", help="tiny data sizes (for tests)")
    parser.add_argument("--scaling", action="store_true", help="run the scaling mode")
    parser.add_argument("--scales", type=_parse_ints, default=[1, 2, 4], help="data scales")
    parser.add_argument("--worker-counts", type=_parse_ints, default=[1, 2], help="scaling mode")
    parser.add_argument("--focus", default="sparkish", choices=SYSTEMS, help="system for ratios")
    parser.add_argument("--data-dir", type=Path, default=BENCHMARKS_DIR / "data")
    parser.add_argument("--output-dir", type=Path, default=BENCHMARKS_DIR / "results")
    parser.add_argument("--no-plot", action="store_true", help="skip the PNG chart")
    parser.add_argument(
        "--sparkish-baseline",
        type=Path,
        metavar="CHECKOUT",
        help=f"also run the system {BASELINE_SYSTEM}: the sparkish package of CHECKOUT (e.g. "
        "a git worktree of the commit before a change) with this harness's jobs, and check "
        "that sparkish is no slower on any workload",
    )
    parser.add_argument(
        "--readme",
        type=Path,
        help="also write the Markdown tables into this file between the lines "
        f"'{markdown.README_BEGIN}' and '{markdown.README_END}' (comparison mode)",
    )
    parser.add_argument(
        "--sparkish-conf",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        type=_parse_setting,
        help="a sparkish setting for every sparkish run, repeatable (e.g. "
        "sparkish.metrics.enabled=false measures without the metrics exporter)",
    )
    return parser


def _describe_timeouts(timeouts: dict[str, float]) -> str:
    return ", ".join(f"{name}: {seconds:g} s" for name, seconds in timeouts.items())


def _parse_workload_timeout(text: str) -> tuple[str, float]:
    name, separator, seconds = text.partition("=")
    if not separator or name not in WORKLOAD_NAMES:
        raise argparse.ArgumentTypeError(
            f"expected WORKLOAD=SECONDS, WORKLOAD one of {', '.join(WORKLOAD_NAMES)}; got {text!r}"
        )
    try:
        value = float(seconds)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"{text!r}: {seconds!r} is not a number") from error
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r}: the timeout must be positive")
    return name, value


def timeout_for(args: argparse.Namespace, workload: str) -> float:
    """Seconds a run of ``workload`` may take: --workload-timeout, the workload's own, --timeout.

    >>> args = build_parser().parse_args(["--timeout", "100", "--workload-timeout", "pi=5"])
    >>> timeout_for(args, "pi"), timeout_for(args, "bucket-xl"), timeout_for(args, "reduce")
    (5.0, 600.0, 100.0)
    """
    chosen = dict(args.workload_timeout)
    return chosen.get(workload, WORKLOAD_TIMEOUTS_S.get(workload, args.timeout))


def _parse_setting(text: str) -> str:
    try:
        parse_settings([text])
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from error
    return text


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def prepare_workload(
    name: str, size: str, scale: int, data_dir: Path
) -> tuple[WorkloadParams, dict[str, Any] | None]:
    """Parameters with input data in place, and the expected result (``None`` for pi).

    >>> params, expected = prepare_workload("bucket", "full", 1, Path("unused"))
    >>> params.n, expected["count"]
    (2000000, 1000000)
    """
    params = workload_params(name, size, scale)
    if name in ("pi", "pi_large"):
        return params, None
    if name != "wordcount":
        return params, expected_pairs(params)
    data_dir = data_dir.resolve()  # runners start in another working directory
    corpus = ensure_corpus(
        data_dir / f"wordcount-{size}", bytes_per_file=params.corpus_bytes_per_file
    )
    directory = corpus.directory
    if scale > 1:
        directory = data_dir / f"wordcount-{size}-x{scale}"
        ensure_replicated(corpus, directory, scale)
    params = replace(params, corpus_dir=str(directory))
    return params, expected_pairs(params, corpus.word_counts)


def _machine() -> dict[str, Any]:
    return {
        "hostname": socket.gethostname(),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "cpu_count": os.cpu_count(),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        # The machine may be shared: the 1/5/15-minute load when this document was written.
        "load_average": [round(load, 2) for load in os.getloadavg()],
    }


class _Session:
    """Runs the configured measurements in interleaved order and keeps what they produced."""

    def __init__(self, args: argparse.Namespace, systems_info: dict[str, dict]) -> None:
        self.args = args
        self.systems_info = systems_info
        # Taken before the first run writes into benchmarks/results/.
        self.commit = _git_commit()
        self.records: list[RunRecord] = []
        self.start_failures: dict[str, str] = {}

    def measure(
        self, system: str, params: WorkloadParams, expected: dict | None, workers: int, index: int
    ) -> RunRecord:
        if not self.systems_info[system].get("available"):
            record = RunRecord(system, params.name, params.size, params.scale, workers, index)
            record.error = self.systems_info[system].get("note", "not available")
        elif system in self.start_failures:
            record = RunRecord(system, params.name, params.size, params.scale, workers, index)
            record.error = f"not run: failed to start earlier ({self.start_failures[system]})"
        else:
            record = run_fresh_process(
                system,
                params,
                workers,
                expected,
                timeout_for(self.args, params.name),
                run_index=index,
                sparkish_conf=parse_settings(self.args.sparkish_conf),
                sparkish_from=self.args.sparkish_baseline if system == BASELINE_SYSTEM else None,
                memory_limit_bytes=int(self.args.memory_limit_gib * 2**30),
            )
            if record.status == "crash" and record.phase in ("import", "startup"):
                self.start_failures[system] = record.error
        self.records.append(record)
        memory = (
            f"{record.peak_memory_bytes / report.MIB:.0f} MiB" if record.peak_memory_bytes else "-"
        )
        _log(
            f"  run {index + 1} {params.name:<9} x{params.scale} {system:<14} w={workers} "
            f"{record.status:<7} job {report.format_seconds(record.job_s)} s, startup "
            f"{report.format_seconds(record.startup_s)} s, peak {memory}"
            + (f"  [{record.error or record.check}]" if record.status != "ok" else "")
        )
        return record


def _probe_all(args: argparse.Namespace) -> dict[str, dict]:
    info = {}
    for system in args.systems:
        if system == BASELINE_SYSTEM:
            info[system] = probe_system(system, sparkish_from=str(args.sparkish_baseline))
            info[system]["commit"] = _git_commit(args.sparkish_baseline)
        else:
            info[system] = probe_system(system)
        state = info[system].get("version") if info[system].get("available") else "SKIPPED"
        _log(f"{system}: {state} {info[system].get('note', '')}".rstrip())
    return info


def _git_commit(checkout: Path = BENCHMARKS_DIR) -> str:
    """The commit of ``checkout``, with ``-dirty`` if tracked files differ from it."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=checkout,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        changed = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=checkout,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit + ("-dirty" if changed else "")


def _document(args: argparse.Namespace, mode: str, info: dict, session: _Session) -> dict:
    config = {
        key: (str(value) if isinstance(value, Path) else value) for key, value in vars(args).items()
    }
    return {
        "schema": 2,
        "mode": mode,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "complete": False,
        "command": shlex.join(["python", "-m", "benchmarks.run", *args.argv]),
        "commit": session.commit,
        "config": config,
        "machine": _machine(),
        "ideal_divisor": targets.ideal_divisor(args.workers),
        "timeouts_s": {name: timeout_for(args, name) for name in args.workloads},
        "systems": info,
        "runs": [record.to_json() for record in session.records],
    }


def run_comparison(args: argparse.Namespace) -> dict[str, Any]:
    """The comparison mode: every workload on every system, ``args.runs`` times, interleaved."""
    size = "tiny" if args.tiny else "full"
    info = _probe_all(args)
    prepared = {name: prepare_workload(name, size, 1, args.data_dir) for name in args.workloads}
    session = _Session(args, info)
    output_json = args.output_dir / "latest.json"
    for index in range(args.runs):
        _log(f"round {index + 1}/{args.runs}")
        for name in args.workloads:
            params, expected = prepared[name]
            for system in args.systems:
                workers = 1 if system in SINGLE_PROCESS_SYSTEMS else args.workers
                session.measure(system, params, expected, workers, index)
                report.write_json(output_json, _document(args, "compare", info, session))

    summaries = report.summarize(session.records)
    notes = {s: i.get("note", "not available") for s, i in info.items() if not i.get("available")}
    document = _document(args, "compare", info, session)
    focus_measured = any(s["system"] == args.focus and s["job_s"] for s in summaries)
    verdicts = (
        targets.evaluate_targets(summaries, args.focus, document["ideal_divisor"])
        if focus_measured
        else []
    )
    text, ratios = report.comparison_report(
        summaries,
        args.systems,
        notes,
        args.focus,
        args.workers,
        args.runs,
        document["ideal_divisor"],
        verdicts,
    )
    document.update(complete=True, summary=summaries, ratios=ratios, targets=verdicts)
    report.write_json(output_json, document)
    tables = markdown.comparison_markdown(
        document, summaries, ratios, verdicts, document["timeouts_s"]
    )
    output_markdown = args.output_dir / "latest.md"
    output_markdown.write_text(tables)
    print(text)
    print(f"\nJSON: {output_json}\nMarkdown: {output_markdown}")
    if args.readme:
        markdown.splice_between_markers(args.readme, tables)
        print(f"README tables: {args.readme}")
    if not args.no_plot:
        png = args.output_dir / "latest.png"
        title = f"sparkish benchmarks ({size} size, {args.runs} run(s), {document['created']})"
        report.plot_comparison(png, summaries, args.systems, title, verdicts)
        print(f"chart: {png}")
    return document


def run_scaling(args: argparse.Namespace) -> dict[str, Any]:
    """The scaling mode: each workload at every data scale and (for frameworks) worker count."""
    size = "tiny" if args.tiny else "full"
    info = _probe_all(args)
    prepared = {
        (name, scale): prepare_workload(name, size, scale, args.data_dir)
        for name in args.workloads
        for scale in args.scales
    }
    session = _Session(args, info)
    output_json = args.output_dir / "scaling.json"
    for index in range(args.runs):
        _log(f"round {index + 1}/{args.runs}")
        for name in args.workloads:
            for scale in args.scales:
                params, expected = prepared[(name, scale)]
                for workers in args.worker_counts:
                    for system in args.systems:
                        if system in SINGLE_PROCESS_SYSTEMS and workers != args.worker_counts[0]:
                            continue
                        used_workers = 1 if system in SINGLE_PROCESS_SYSTEMS else workers
                        session.measure(system, params, expected, used_workers, index)
                        report.write_json(output_json, _document(args, "scaling", info, session))
    summaries = report.summarize(session.records)
    text, rows = report.scaling_report(summaries, args.scales)
    document = _document(args, "scaling", info, session)
    document.update(complete=True, summary=summaries, scaling=rows)
    report.write_json(output_json, document)
    print(text)
    problems = [
        f"{s['workload']} / {s['system']} x{s['scale']}: {p}"
        for s in summaries
        for p in s["problems"]
    ]
    if problems:
        print("\nFailed or skipped runs\n" + "\n".join(problems))
    print(f"\nJSON: {output_json}")
    if not args.no_plot:
        png = args.output_dir / "scaling.png"
        report.plot_scaling(png, rows, args.scales)
        print(f"chart: {png}")
    return document


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m benchmarks.run``; returns 0 when every run that ran passed.

    Skipped systems do not make the exit code non-zero; crashes, timeouts, runs killed over the
    memory limit and wrong results do.
    """
    if argv is None:
        argv = sys.argv[1:]
    args = build_parser().parse_args(argv)
    args.argv = list(argv)
    if args.sparkish_baseline:
        if not (args.sparkish_baseline / "sparkish" / "__init__.py").is_file():
            build_parser().error(f"{args.sparkish_baseline} holds no sparkish package")
        if BASELINE_SYSTEM not in args.systems:
            args.systems.append(BASELINE_SYSTEM)
    elif BASELINE_SYSTEM in args.systems:
        build_parser().error(f"{BASELINE_SYSTEM} needs --sparkish-baseline CHECKOUT")
    if args.readme:
        try:
            markdown.check_markers(args.readme)
        except ValueError as error:  # before any run, not after an hour of them
            build_parser().error(str(error))
    if args.runs < 1:
        build_parser().error(f"--runs must be at least 1, got {args.runs}")
    if args.workers < 1:
        build_parser().error(f"--workers must be at least 1, got {args.workers}")
    document = run_scaling(args) if args.scaling else run_comparison(args)
    failed = [run for run in document["runs"] if run["status"] not in ("ok", "skipped")]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
