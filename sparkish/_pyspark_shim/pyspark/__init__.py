"""Stands in for PySpark: importing it installs sparkish's ``pyspark`` aliases.

It is found first when the directory printed by ``python -m sparkish.compat`` leads
``PYTHONPATH``; it then replaces itself with sparkish's ``pyspark`` alias module.
"""

import importlib
import sys

import sparkish.compat

#: Tells sparkish.compat.install() that this module is not PySpark's own.
sparkish_shim = True

if __name__ == "pyspark":  # imported as PySpark, not as a module of sparkish
    sparkish.compat.install()
    sys.modules[__name__] = importlib.import_module(__name__)
