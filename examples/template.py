"""The seed's workflow templates: a YAML template, validated, then run with variables.

`gai workflow validate examples/templates/research_report.yaml --var topic=tides` and
`gai workflow run ... --var topic=tides` do the same from the shell.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from _shared import pick_model

import gai
from gai.errors import MissingVariablesError
from gai.workflows import WorkflowTemplate

TEMPLATE = Path(__file__).with_name("templates") / "research_report.yaml"


def offline(messages, tools) -> str:
    """Answers each step with a short line naming what it was asked."""
    prompt = messages[-1].text
    return f"<{prompt.split(':')[0].split(' from ')[0]}>"


async def main() -> None:
    template = WorkflowTemplate.load(TEMPLATE)
    try:
        template.validate_for(variables={})
    except MissingVariablesError as exc:
        print(f"without variables: {exc}")
    result = await template.run(
        pick_model(gai.models.FunctionModel(offline, name="offline:writer")),
        {"topic": "tidal energy", "audience": "city planners"},
    )
    for name, step in result.results.items():
        print(f"{name} ({result.durations[name] * 1000:.1f} ms): {step.text}")
    print(f"tokens: {result.usage.total_tokens}")


if __name__ == "__main__":
    asyncio.run(main())
