"""The seed's workflow composition: templates wired by dependencies.

`market` and `tech` do not depend on each other, so they run concurrently; `decision`
waits for both and gets their results as `market_result` and `tech_result`. Completed
workflows are remembered in a SQLite state store: run the script twice with the same
database path and the second run reuses them.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

from _shared import pick_model

import gai
from gai.store import SQLiteStore
from gai.workflows import CompositeWorkflow, TemplateStep, WorkflowNode, WorkflowTemplate


def one_step(name: str, prompt: str) -> WorkflowTemplate:
    return WorkflowTemplate(name=name, steps=[TemplateStep(name="main", user_prompt=prompt)])


async def offline(messages, tools) -> str:
    """Takes a moment, like a real model, then answers with the gist of its prompt."""
    await asyncio.sleep(0.05)
    return f"[{messages[-1].text[:60]}]"


async def main(db: Path) -> None:
    store = SQLiteStore(db)
    composite = CompositeWorkflow(
        "launch_review",
        [
            WorkflowNode(one_step("market", "Size the market for {{ product }}.")),
            WorkflowNode(one_step("tech", "Assess the technical risk of {{ product }}.")),
            WorkflowNode(
                one_step(
                    "decision", "Go or no-go? Market: {{ market_result }} Tech: {{ tech_result }}"
                ),
                depends_on=["market", "tech"],
            ),
        ],
        max_concurrency=2,
        failure="continue",
        state=store,
    )
    for attempt in (1, 2):
        result = await composite.run(
            pick_model(gai.models.FunctionModel(offline, name="offline:analyst")),
            {"product": "a solar kettle"},
        )
        ran = [n for n in result.results if n not in result.reused]
        print(f"run {attempt}: ran {ran}, reused {result.reused}")
    print(f"decision: {result.results['decision'].text}")
    await store.aclose()


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tmp) / "composite.db"))
