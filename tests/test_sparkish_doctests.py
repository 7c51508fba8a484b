"""The runnable examples in sparkish's own docstrings, executed against a real local context."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import sparkish

MODULES = sorted(
    info.name
    for info in pkgutil.walk_packages(sparkish.__path__, prefix="sparkish.")
    if not info.name.endswith("worker.main") and "_pyspark_shim" not in info.name
)


@pytest.mark.parametrize("module_name", MODULES)
def test_docstring_examples(module_name, sc):
    module = importlib.import_module(module_name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    output: list[str] = []
    for test in finder.find(module, module_name, globs={"sc": sc, **vars(module)}):
        sc._runtime.replace_local_properties({})
        runner.run(test, out=output.append)
    assert runner.summarize(verbose=False).failed == 0, "".join(output)
