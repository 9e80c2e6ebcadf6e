"""What every example shares: which model to run on, and how to print a run."""

from __future__ import annotations

import os

import gai


def pick_model(offline: gai.Model) -> gai.Model | str:
    """GAI_MODEL when set (e.g. "openai:gpt-4o-mini"), else the example's offline model."""
    return os.environ.get("GAI_MODEL") or offline


def tool_outputs(messages: object) -> list[tuple[str, str]]:
    """(tool name, content) of every tool result in a conversation, oldest first."""
    return [(p.name, p.content) for m in messages for p in m.tool_results]  # type: ignore[attr-defined]


def print_steps(result: gai.TextResult) -> None:
    """One line per step: its tool calls and what they returned."""
    for step in result.steps:
        calls = "; ".join(f"{r.name} -> {r.content}" for r in step.tool_results) or "(answer)"
        print(f"step {step.step_number}: {calls}")
    print(f"stopped: {result.stop_reason}")
    print(f"answer: {result.text}")
