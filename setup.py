"""Build configuration beyond pyproject.toml: the optional C helper of the int64 shuffle path.

``optional=True``: without a C compiler the build warns and sparkish keeps its pure-Python
implementation (``sparkish.shuffle.int_columns.python_int_columns``), which gives the same
results more slowly.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "sparkish.shuffle._int_pairs",
            sources=["sparkish/shuffle/_int_pairs.c"],
            optional=True,
        )
    ]
)
