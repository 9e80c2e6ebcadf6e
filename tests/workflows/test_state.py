"""State-aware tools and the progress stop condition."""

from __future__ import annotations

import pytest

import gai
from gai import ModelResponse, ScriptedModel, ToolCall
from gai.errors import UserError
from gai.store import MemoryStore, WorkflowState
from gai.workflows import ProgressReached, StateTracker


def call(name, **arguments):
    return ToolCall(name=name, arguments=arguments)


async def test_the_model_updates_state_and_the_run_stops_on_progress():
    tracker = StateTracker()
    model = ScriptedModel(
        [
            ModelResponse(
                tool_calls=(
                    call("update_state", key="rows", value="120"),
                    call("set_progress", progress=0.5, phase="loading"),
                )
            ),
            ModelResponse(tool_calls=(call("set_progress", progress=1.0, phase="done"),)),
            ModelResponse(tool_calls=(call("get_state"),)),
        ]
    )
    result = await gai.generate_text(
        model,
        prompt="load the data",
        tools=tracker.tools(),
        stop_when=gai.MaxSteps(10) | ProgressReached(tracker),
    )
    assert len(result.steps) == 2
    assert result.stop_reason.kind == "condition"
    assert "progress 100% reached 100%" in result.stop_reason.detail
    assert tracker.state.phase == "done"
    assert tracker.state.data == {"rows": "120"}


async def test_out_of_range_progress_is_reported_to_the_model():
    tracker = StateTracker()
    model = ScriptedModel([ModelResponse(tool_calls=(call("set_progress", progress=1.5),)), "ok"])
    result = await gai.generate_text(
        model, prompt="x", tools=tracker.tools(), stop_when=gai.MaxSteps(3)
    )
    error = result.steps[0].tool_results[0].error
    assert error is not None
    assert "between 0.0 and 1.0" in error
    assert tracker.progress == 0.0
    with pytest.raises(UserError):
        tracker.set_progress(-0.1)


async def test_state_round_trips_through_a_state_store():
    store = MemoryStore()
    tracker = StateTracker()
    tracker.update("k", [1, 2])
    tracker.set_progress(0.25, "middle")
    await store.save("job", tracker.state)
    saved = await store.load("job")
    assert isinstance(saved, WorkflowState)
    resumed = StateTracker(saved)
    assert (resumed.progress, resumed.state.phase, resumed.state.data) == (
        0.25,
        "middle",
        {"k": [1, 2]},
    )
    resumed.update("k", "changed")
    assert tracker.state.data["k"] == [1, 2]
