"""Every notebook under notebooks/ runs top to bottom without errors, with its results checked."""

from __future__ import annotations

import pathlib

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((pathlib.Path(__file__).parent.parent / "notebooks").glob("*.ipynb"))


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
    assert outputs[1] == "[1, 9, 25, 49, 81]"
    assert outputs[2] == "[('the', 3), ('brown', 1), ('dog', 1)]"
    assert outputs[3].startswith("(count: 100, mean: 50.5")
