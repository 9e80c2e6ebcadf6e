"""Static checks of the public API's types; mypy reads this file, pytest runs it too."""

from __future__ import annotations

from collections.abc import Callable
from typing import assert_type

import gai
from gai import TextResult, tool
from gai.tools import FunctionTool


@tool
def add(a: int, b: int) -> int:
    """Add."""
    return a + b


def test_public_types() -> None:
    takes_ints: Callable[[int, int], int] = add
    assert_type(takes_ints(1, 2), int)
    assert isinstance(add, FunctionTool)
    assert_type(add(1, 2), int)
    result = gai.generate_text_sync(gai.ScriptedModel(["x"]), prompt="p")
    assert_type(result, TextResult)
    assert_type(result.stop_reason, gai.StopReason)
    assert_type(gai.MaxSteps(1) | gai.UntilToolSeen("a"), gai.stop.StopCondition)
    assert_type(gai.Usage() + gai.Usage(), gai.Usage)
