"""Where the user's code called into sparkish, for error messages and lineage strings.

>>> def user_code():
...     return user_frame()
>>> user_code().name
'user_code'
"""

from __future__ import annotations

import inspect
import os
from typing import NamedTuple

__all__ = ["UserFrame", "user_frame"]

_PACKAGE_DIRECTORY = os.path.dirname(os.path.abspath(__file__))


class UserFrame(NamedTuple):
    """A frame of the user's code: function name, file and line."""

    name: str
    filename: str
    lineno: int

    @property
    def short(self) -> str:
        """``file.py:12``, as PySpark prints call sites in lineage strings."""
        return f"{os.path.basename(self.filename)}:{self.lineno}"

    def __str__(self) -> str:
        return f"{self.name} at {self.filename}:{self.lineno}"


_UNKNOWN = UserFrame("<unknown>", "<unknown>", 0)


def user_frame() -> UserFrame:
    """The innermost frame on the stack outside the sparkish package."""
    frame = inspect.currentframe()
    while frame is not None:
        filename = frame.f_code.co_filename
        if not os.path.abspath(filename).startswith(_PACKAGE_DIRECTORY):
            return UserFrame(frame.f_code.co_name, filename, frame.f_lineno)
        frame = frame.f_back
    return _UNKNOWN
