"""The seed's workflow patterns (sequential, parallel, conditional, iterative, stateful)."""

from __future__ import annotations

import asyncio
from typing import Any

import gai
from gai import MaxSteps, ModelResponse, ScriptedModel, ToolCall, tool
from gai.models import FunctionModel
from gai.stop import StepsMatch, TextContains, ToolResultMatches


def call(name: str, **arguments: Any) -> ToolCall:
    return ToolCall(name=name, arguments=arguments)


async def test_sequential_workflow_one_tool_per_step():
    order: list[str] = []

    def make(name: str) -> gai.Tool:
        async def run(input: str = "") -> str:
            order.append(name)
            return f"{name} done"

        return gai.Tool(name=name, description=f"{name} step", fn=run)

    names = ["get_sales_data", "process_data", "analyze_trends", "generate_report"]
    model = ScriptedModel([ModelResponse(tool_calls=(call(n),)) for n in names] + ["unused"])
    result = await gai.generate_text(
        model,
        messages=[
            gai.system("Execute tasks sequentially."),
            gai.user("Generate monthly sales report: 1) get 2) process 3) analyze 4) report"),
        ],
        tools=[make(n) for n in names],
        stop_when=gai.any_of(MaxSteps(8), gai.UntilToolSeen("generate_report")),
    )
    assert order == names
    assert [s.tool_calls[0].name for s in result.steps] == names
    assert result.stop_reason.kind == "tool_seen"
    assert all(s.duration >= s.model_duration for s in result.steps)


async def test_parallel_workflow_independent_lookups_in_one_step():
    in_flight = 0
    peak = 0

    def lookup(name: str) -> gai.Tool:
        async def run() -> str:
            nonlocal in_flight, peak
            in_flight += 1
            peak = max(peak, in_flight)
            await asyncio.sleep(0)
            in_flight -= 1
            return name

        return gai.Tool(name=name, description=name, fn=run)

    names = ["weather", "news", "stocks", "calendar"]
    model = ScriptedModel(
        [
            ModelResponse(tool_calls=tuple(call(n) for n in names)),
            ModelResponse(tool_calls=(call("send_email"),)),
        ]
    )
    result = await gai.generate_text(
        model,
        prompt="morning briefing",
        tools=[*(lookup(n) for n in names), lookup("send_email")],
        stop_when=gai.UntilToolSeen("send_email"),
    )
    assert peak == 4
    multi = [s for s in result.steps if len(s.tool_calls) > 1]
    assert [s.step_number for s in multi] == [1]
    assert [r.output for r in multi[0].tool_results] == names


async def test_conditional_workflow_branches_on_tool_results():
    @tool
    def check_health() -> dict[str, str]:
        """Check system health."""
        return {"status": "critical"}

    @tool
    def failover() -> str:
        """Fail over."""
        return "failed over"

    @tool
    def analyze_logs() -> str:
        """Analyze logs."""
        return "disk full on node 3"

    @tool
    def recover(action: str) -> str:
        """Recover."""
        return f"recovered: {action}"

    def admin(messages, tools):
        last = messages[-1]
        if last.role == "user":
            return ModelResponse(tool_calls=(call("check_health"),))
        results = {p.name: p.content for p in last.tool_results}
        if "critical" in results.get("check_health", ""):
            return ModelResponse(tool_calls=(call("failover"), call("analyze_logs")))
        if "analyze_logs" in results:
            return ModelResponse(tool_calls=(call("recover", action="free disk"),))
        return "SYSTEM_STABLE after recovery"

    result = await gai.generate_text(
        FunctionModel(admin),
        system="You are a system administrator.",
        prompt="Monitor system health and act on what you find.",
        tools=[check_health, failover, analyze_logs, recover],
        stop_when=gai.any_of(MaxSteps(15), TextContains("SYSTEM_STABLE")),
    )
    assert [[c.name for c in s.tool_calls] for s in result.steps] == [
        ["check_health"],
        ["failover", "analyze_logs"],
        ["recover"],
        [],
    ]
    assert result.text == "SYSTEM_STABLE after recovery"
    assert result.stop_reason.kind == "no_more_tools"


async def test_iterative_workflow_until_metric_reached():
    accuracy = iter([88.0, 92.5, 96.2, 99.0])

    @tool
    def calculate_metrics() -> str:
        """Train, validate and report accuracy."""
        return f"accuracy {next(accuracy):.1f}%"

    model = FunctionModel(
        lambda messages, tools: ModelResponse(tool_calls=(call("calculate_metrics"),))
    )
    result = await gai.generate_text(
        model,
        prompt="Train until accuracy > 95%",
        tools=[calculate_metrics],
        stop_when=gai.any_of(
            MaxSteps(40), ToolResultMatches("calculate_metrics", r"accuracy.*9[5-9]\.[0-9]%")
        ),
    )
    assert len(result.steps) == 3
    assert result.tool_results[-1].output == "accuracy 96.2%"
    assert "calculate_metrics" in result.stop_reason.detail


async def test_stateful_workflow_stops_on_progress():
    state: dict[str, Any] = {"phase": "init", "progress": 0.0}

    @tool
    def update_state(
        action: str, increment: float = 0.0, phase: str | None = None
    ) -> dict[str, Any]:
        """Update workflow state.

        Args:
            action: "set_phase" or "increment_progress".
            increment: Progress to add, 0..1.
            phase: New phase name.
        """
        if action == "set_phase" and phase:
            state["phase"] = phase
        elif action == "increment_progress":
            state["progress"] = min(1.0, state["progress"] + increment)
        return dict(state)

    model = FunctionModel(
        lambda messages, tools: ModelResponse(
            tool_calls=(call("update_state", action="increment_progress", increment=0.4),)
        )
    )
    result = await gai.generate_text(
        model,
        prompt="Run the pipeline with progress tracking",
        tools=[update_state],
        stop_when=StepsMatch(lambda steps: state["progress"] >= 1.0, name="progress_complete"),
    )
    assert state["progress"] == 1.0
    assert len(result.steps) == 3
    assert result.stop_reason.detail == "progress_complete holds after step 3"
