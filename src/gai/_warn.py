"""`warn`: a `GaiWarning` that points at the user's line, not at gai's internals."""

from __future__ import annotations

import os
import sys
import warnings

from gai.errors import GaiWarning

__all__ = ["warn"]

_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep


def warn(message: str) -> None:
    """Warn with `GaiWarning`, attributed to the first caller outside gai."""
    level = 2  # the caller of warn()
    frame = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame = frame.f_back  # type: ignore[assignment]
        level += 1
    warnings.warn(message, GaiWarning, stacklevel=level)
