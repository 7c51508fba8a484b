"""Every notebook under notebooks/ runs top to bottom without errors, with its results checked.

The expected values are computed here in plain Python from the same inputs the notebooks use.
"""

from __future__ import annotations

import ast
import json
import pathlib
import re
from collections import Counter

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((pathlib.Path(__file__).parent.parent / "notebooks").glob("*.ipynb"))
LATEST_RESULTS = pathlib.Path(__file__).parent.parent / "benchmarks" / "results" / "latest.json"


def _sales() -> list[tuple[str, str, float]]:
    """The notebook's records after its RDD pipeline: (region, product, revenue)."""
    regions, products = ["north", "south", "east", "west"], ["apple", "pear", "fig"]
    records = [(regions[i % 4], products[i % 3], i % 5, 1.5 + i % 7) for i in range(200)]
    return [(region, product, qty * price) for region, product, qty, price in records if qty > 0]


def _check_quickstart(outputs: list[str]) -> None:
    assert outputs[1] == "[1, 9, 25, 49, 81]"
    assert outputs[2] == "[('the', 3), ('brown', 1), ('dog', 1)]"
    assert outputs[3].startswith("(count: 100, mean: 50.5")


def _check_interop(outputs: list[str]) -> None:
    sales = _sales()
    assert outputs[1] == str(len(sales))
    assert outputs[2] == "(4, ['region', 'product', 'revenue'])"
    by_region: dict[str, float] = {}
    for region, _, revenue in sales:
        by_region[region] = by_region.get(region, 0.0) + revenue
    assert outputs[3] == str({region: round(by_region[region], 2) for region in sorted(by_region)})
    assert outputs[4].startswith("'Axes'") and "Figure" in outputs[4]  # the plot was drawn
    big = Counter(product for _, product, revenue in sales if revenue > 20)
    assert outputs[5] == str(sorted(big.items()))


def _check_porting(outputs: list[str]) -> None:
    assert outputs[1] == "('sparkish.sql.session', 'sparkish.context')"
    lines = [
        f"{['GET', 'POST', 'PUT'][i % 3]} /page/{i % 7} {200 if i % 11 else 500}"
        for i in range(300)
    ]
    assert outputs[2] == str(len(lines))
    errors = Counter(line.split()[0] for line in lines if int(line.split()[2]) >= 500)
    assert outputs[3] == str(sorted(errors.items()))
    names = {"GET": "read", "POST": "create", "PUT": "update"}
    assert outputs[4] == str(sorted((names[method], n) for method, n in errors.items()))
    assert "pyspark.ml is not available in sparkish" in outputs[5]


#: The text form of one console progress bar (shown when a job runs long enough to need one).
PROGRESS_BAR = re.compile(r"Stage \d+:[^\]]*\]")


def _check_shuffle(outputs: list[str]) -> None:
    outputs = [PROGRESS_BAR.sub("", output) for output in outputs]
    assert "Figure" in outputs[0]  # the diagram was drawn
    assert outputs[1] == str(len({x % 997 for x in range(20_000)}))
    assert "200)" in outputs[2] and "50)" in outputs[2]  # 200 map tasks, 50 reduce tasks
    assert outputs[3] == "True"
    # The chart compares the workloads of the committed harness run that PySpark finished.
    results = json.loads(LATEST_RESULTS.read_text())
    ratios = results["ratios"]
    measured = sorted(w for w in ratios if ratios[w].get("sparkish/pyspark"))
    assert measured and outputs[5] == f"{measured}<Figure size 800x320 with 1 Axes>"


def _check_monitoring(outputs: list[str]) -> None:
    # The job's cell shows one tqdm bar per stage (their text form) before its result.
    assert outputs[1].count("Stage ") == 2
    assert outputs[1].endswith("[('the', 60), ('dog', 40)]")
    status, stages = ast.literal_eval(outputs[2])
    assert status == "SUCCEEDED"
    # 6 map partitions run as 4 tasks: partitions are grouped, at least 2 tasks per thread.
    assert sorted(stages) == [("collect", 2, 2), ("reduceByKey", 4, 4)]
    # 6 map partitions of 10 lines hold the 9 distinct words each.
    assert ast.literal_eval(outputs[3]) == {
        "sparkish_shuffle_records_written_total": 54.0,
        "sparkish_shuffle_records_read_total": 54.0,
    }
    assert ast.literal_eval(outputs[4]) == {"collect": 2.0, "reduceByKey-map": 4.0}
    assert ast.literal_eval(outputs[5]) == {(("action", "collect"), ("status", "succeeded")): 1.0}


def _check_monitoring_widgets(notebook: nbformat.NotebookNode) -> None:
    """The progress widgets were updated in place up to all of each stage's tasks."""
    cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    printed = "".join(output.get("text", "") for output in cells[0].get("outputs", []))
    assert "/status" in printed and "/sparkish/jobs" in printed and "/metrics" in printed
    views = [o for o in cells[1]["outputs"] if WIDGET_VIEW in o.get("data", {})]
    assert len(views) == 2
    state = notebook.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    bars = sorted(
        (model["state"]["value"], model["state"]["max"])
        for model in state.values()
        if model["model_name"] == "FloatProgressModel"
    )
    assert bars == [(2, 2), (4, 4)]  # 6 map partitions grouped into 4 tasks


WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"

#: Checks that need more than the cells' text: the notebook itself.
NOTEBOOK_CHECKS = {"monitoring.ipynb": _check_monitoring_widgets}

CHECKS = {
    "monitoring.ipynb": _check_monitoring,
    "quickstart.ipynb": _check_quickstart,
    "interop.ipynb": _check_interop,
    "porting-from-pyspark.ipynb": _check_porting,
    "shuffle.ipynb": _check_shuffle,
}


def test_every_notebook_has_checks() -> None:
    assert {path.name for path in NOTEBOOKS} == set(CHECKS)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs(path, no_context):
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(
        notebook,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    ).execute()
    outputs = [
        "".join(output.get("data", {}).get("text/plain", "") for output in cell.get("outputs", []))
        for cell in notebook.cells
        if cell.cell_type == "code"
    ]
    CHECKS[path.name](outputs)
    if path.name in NOTEBOOK_CHECKS:
        NOTEBOOK_CHECKS[path.name](notebook)
