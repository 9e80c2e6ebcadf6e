"""Every public async entry point has a blocking `_sync` twin, and each twin works."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import pytest

import gai
from gai.workflows import Agent, run_sequential, run_sequential_sync, run_with_handoffs_sync

TWINS: list[tuple[Callable[..., Any], Callable[..., Any]]] = [
    (gai.generate_text, gai.generate_text_sync),
    (gai.generate_object, gai.generate_object_sync),
    (gai.resume, gai.resume_sync),
    (gai.fork, gai.fork_sync),
    (run_sequential, run_sequential_sync),
    (gai.workflows.run_with_handoffs, run_with_handoffs_sync),
    (Agent.run, Agent.run_sync),
]


def test_each_twin_blocks_and_is_named_for_its_original():
    # Not the signatures: functools.wraps makes inspect.signature read the original's,
    # so comparing them could not fail. test_the_twins_run calls each one instead.
    for original, twin in TWINS:
        assert inspect.iscoroutinefunction(original)
        assert not inspect.iscoroutinefunction(twin)
        assert twin.__name__ == f"{original.__name__}_sync"


def test_every_public_async_entry_point_has_a_twin():
    public = {name: getattr(gai, name) for name in gai.__all__}
    for name, value in public.items():
        if callable(value) and inspect.iscoroutinefunction(value):
            assert f"{name}_sync" in public, f"gai.{name} has no blocking twin"


def test_the_twins_run():
    assert gai.generate_text_sync("test", prompt="hi").text
    assert isinstance(gai.generate_object_sync("test", dict, prompt="hi", mode="tool").object, dict)
    store = gai.store.MemoryStore()
    gai.generate_text_sync("test", prompt="hi", run_store=store, run_id="r")
    assert gai.resume_sync("r", store=store).run_id == "r"
    a, b = Agent("a", "first", "test"), Agent("b", "second", "test")
    assert run_sequential_sync([a, b], "task").text
    with pytest.raises(gai.errors.HandoffLimitError):  # TestModel calls every tool: it hands off
        run_with_handoffs_sync([a, b], "task", max_handoffs=1)
    assert a.run_sync("again").text


async def test_a_twin_works_inside_a_running_loop():
    """From a notebook or an async framework: the run goes to a loop of its own."""
    result = gai.generate_object_sync("test", dict, prompt="hi", mode="tool", metadata={"k": 1})
    assert result.result.metadata == {"k": 1}  # keyword arguments reach the original
