"""The seed's stateful workflow: tools update shared state; the run stops on progress.

The state is saved to a SQLite state store after the run, so a later process can pick
the workflow up where it stopped.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

from _shared import pick_model, print_steps

import gai
from gai.store import SQLiteStore
from gai.workflows import ProgressReached, StateTracker

PHASES = [("extract", 0.3), ("transform", 0.7), ("load", 1.0)]


def offline(messages, tools) -> gai.ModelResponse:
    """Works through the ETL phases, recording each in the state."""
    done = sum(1 for m in messages for p in m.tool_results if p.name == "set_progress")
    phase, progress = PHASES[min(done, len(PHASES) - 1)]
    return gai.ModelResponse(
        tool_calls=(
            gai.ToolCall(name="update_state", arguments={"key": phase, "value": "ok"}),
            gai.ToolCall(name="set_progress", arguments={"progress": progress, "phase": phase}),
        )
    )


async def main(db: Path) -> None:
    tracker = StateTracker()
    result = await gai.generate_text(
        pick_model(gai.models.FunctionModel(offline, name="offline:stateful")),
        system="Run the ETL job. Record each phase with update_state and report progress.",
        prompt="Extract, transform and load the orders table.",
        tools=tracker.tools(),
        stop_when=gai.MaxSteps(10) | ProgressReached(tracker),
    )
    print_steps(result)
    store = SQLiteStore(db)
    await store.save("etl/orders", tracker.state)
    saved = await store.load("etl/orders")
    assert saved is not None
    print(f"saved state: phase={saved.phase} progress={saved.progress:.0%} data={saved.data}")
    await store.aclose()


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tmp) / "state.db"))
