"""Misuse of the public API is a `UserError` that names what was wrong, raised where it is made."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import gai
from gai.providers import OpenAI
from gai.resilience import CircuitBreaker, RateLimiter
from gai.store import MemoryStore, SQLiteStore

MODEL = gai.TestModel()


RUN_MISUSES = [
    ({"prompt": 123}, "prompt must be a string, got int"),
    ({"prompt": "a", "system": 3}, "system must be a string, got int"),
    ({"prompt": "a", "run_id": 7}, "run_id must be a string, got int"),
    ({"messages": "hi"}, "messages must be a list of gai.Message"),
    (
        {"messages": [{"role": "user", "content": "hi"}]},
        r"messages\[0\] must be a gai.Message, got dict",
    ),
    ({"prompt": "a", "timeout": "3"}, "timeout must be seconds"),
    ({"prompt": "a", "tool_timeout": "3"}, "tool_timeout must be a number, got str"),
    ({"prompt": "a", "max_parallel_tools": "3"}, "max_parallel_tools must be a whole number"),
    ({"prompt": "a", "max_steps_limit": 2.5}, "max_steps_limit must be a whole number"),
    ({"prompt": "a", "tool_choice": 3}, "tool_choice must be a string"),
    ({"prompt": "a", "settings": 3}, "settings must be a dict"),
    ({"prompt": "a", "retry": 3}, r"retry must be gai.RetryPolicy\(...\), got int"),
    ({"prompt": "a", "recovery": 3}, "recovery must be gai.Recovery"),
    ({"prompt": "a", "budget": 3}, "budget must be gai.Budget"),
    ({"prompt": "a", "stop_token": 3}, "stop_token must be gai.StopToken"),
    ({"prompt": "a", "guards": [3]}, "guards must be gai.Guard"),
    ({"prompt": "a", "prepare_step": 3}, "prepare_step must be a function"),
    ({"prompt": "a", "on_step_finish": 3}, "on_step_finish must be a function"),
    ({"prompt": "a", "observers": [3]}, "observers must be callables"),
    ({"prompt": "a", "run_store": "runs.db"}, r"run_store must be a run store .*SQLiteStore"),
]


@pytest.mark.parametrize(("options", "message"), RUN_MISUSES, ids=[m[1][:40] for m in RUN_MISUSES])
async def test_a_run_given_an_option_of_the_wrong_kind_fails_before_it_starts(
    options: dict[str, Any], message: str
) -> None:
    seen: list[gai.RunEvent] = []
    with pytest.raises(gai.UserError, match=message):
        await gai.generate_text(MODEL, **{"observers": [seen.append], **options})
    assert seen == []  # nothing ran


def test_constructors_reject_settings_of_the_wrong_kind() -> None:
    cases: list[tuple[Callable[[], Any], str]] = [
        (lambda: gai.RetryPolicy(max_attempts="3"), "RetryPolicy.max_attempts must be a whole"),  # type: ignore[arg-type]
        (lambda: gai.Timeouts(run="3"), "Timeouts.run must be a number"),  # type: ignore[arg-type]
        (lambda: CircuitBreaker("5"), "failure_threshold must be a whole number"),  # type: ignore[arg-type]
        (lambda: RateLimiter(requests_per_minute="60"), "requests_per_minute must be a number"),  # type: ignore[arg-type]
        (lambda: gai.Recovery(attempts=1.5), "Recovery.attempts must be a whole number"),  # type: ignore[arg-type]
        (lambda: gai.Budget(max_steps="a"), "Budget.max_steps must be a number"),  # type: ignore[arg-type]
        (lambda: gai.stop.TextContains(3), "TextContains needs the text"),  # type: ignore[arg-type]
        (lambda: gai.Tool(name="x", description="d", fn=3), "fn= must be the function"),  # type: ignore[arg-type]
        (lambda: OpenAI(3, api_key="k"), "model name must be a non-empty string"),  # type: ignore[arg-type]
        (lambda: OpenAI("m", api_key="k", base_url="localhost:8000"), "base_url must be an http"),
        (lambda: OpenAI("m", api_key="k", timeout="30"), "timeout must be a number"),  # type: ignore[arg-type]
        (lambda: OpenAI("m", api_key="k", timeout=0), "timeout must be a positive number"),
        (lambda: SQLiteStore(3), "SQLiteStore takes a file path"),  # type: ignore[arg-type]
    ]
    for make, message in cases:
        with pytest.raises(gai.UserError, match=message):
            make()


def test_a_store_path_that_is_a_directory_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(gai.ConfigError, match="is a directory; give SQLiteStore a file path"):
        SQLiteStore(tmp_path)


async def test_an_output_type_pydantic_cannot_validate_is_a_user_error() -> None:
    with pytest.raises(gai.UserError, match="output_type must be a type pydantic can validate"):
        await gai.generate_object(MODEL, prompt="a", output_type=3)  # type: ignore[arg-type]


async def test_resume_from_something_that_is_not_a_store_is_a_user_error() -> None:
    with pytest.raises(gai.UserError, match="store must be the run store"):
        await gai.resume("run-1", store="runs.db")  # type: ignore[arg-type]
    # A real store without the run says so in its own error.
    with pytest.raises(gai.errors.RunNotFoundError):
        await gai.resume("run-1", store=MemoryStore())
