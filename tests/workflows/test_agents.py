"""Multi-agent workflows: sequence, hand-off, agents as tools, per-agent usage."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

import gai
from gai import ModelResponse, ScriptedModel, ToolCall, Usage
from gai.errors import HandoffLimitError, UserError
from gai.models import FunctionModel
from gai.types import Message, ToolDefinition
from gai.workflows import Agent, run_sequential, run_with_handoffs


def worded(text: str, tokens: int) -> ModelResponse:
    return ModelResponse(text=text, usage=Usage(input_tokens=tokens, output_tokens=1))


async def test_sequential_agents_see_the_named_results_before_them():
    prompts: dict[str, str] = {}

    def model_for(name: str) -> FunctionModel:
        def answer(messages: Sequence[Message], tools: Sequence[ToolDefinition]) -> str:
            prompts[name] = messages[-1].text
            assert messages[0].text.startswith(f"You are {name}:")
            return f"{name} says hi"

        return FunctionModel(answer)

    agents = [
        Agent("researcher", "finds facts", model_for("researcher")),
        Agent("writer", "writes", model_for("writer"), instructions="Be brief."),
        Agent("editor", "edits", model_for("editor")),
    ]
    result = await run_sequential(agents, "Write about tea.")
    assert result.results == {
        "researcher": "researcher says hi",
        "writer": "writer says hi",
        "editor": "editor says hi",
    }
    assert prompts["researcher"] == "Write about tea."
    assert "## researcher\nresearcher says hi" in prompts["writer"]
    assert "## writer\nwriter says hi" in prompts["editor"]
    assert result.text == "editor says hi"
    assert agents[1].system_prompt == "You are writer: writes\n\nBe brief."


async def test_usage_stays_attributable_per_agent():
    a = Agent("a", "first", ScriptedModel([worded("one", 10)]))
    b = Agent("b", "second", ScriptedModel([worded("two", 7)]))
    result = await run_sequential([a, b], "go")
    by_agent = result.usage_by_agent()
    assert by_agent["a"].input_tokens == 10
    assert by_agent["b"].input_tokens == 7
    assert result.usage.input_tokens == 17
    assert a.usage.input_tokens == 10
    assert len(a.results) == 1


async def test_an_agent_hands_off_through_a_transfer_tool():
    triage = Agent(
        "triage",
        "routes questions",
        ScriptedModel(
            [
                ModelResponse(
                    tool_calls=(ToolCall(name="transfer_to_billing", arguments={"note": "refund"}),)
                ),
                "never used",
            ]
        ),
    )
    seen: list[str] = []

    def billing_answer(messages: Sequence[Message], tools: Sequence[ToolDefinition]) -> str:
        seen.append(messages[-1].text)
        assert [t.name for t in tools] == ["transfer_to_triage"]
        return "refund issued"

    billing = Agent("billing", "handles money", FunctionModel(billing_answer))
    result = await run_with_handoffs([triage, billing], "I was charged twice")
    assert [t.agent for t in result.turns] == ["triage", "billing"]
    assert result.text == "refund issued"
    assert "Hand-off note: refund" in seen[0]
    assert len(result.turns[0].result.steps) == 1
    assert result.turns[0].result.stop_reason.kind == "tool_seen"


async def test_endless_handoffs_stop_with_every_turn_kept():
    def bounce(to: str) -> FunctionModel:
        return FunctionModel(
            lambda m, t: ModelResponse(tool_calls=(ToolCall(name=f"transfer_to_{to}"),))
        )

    ping, pong = Agent("ping", "p", bounce("pong")), Agent("pong", "p", bounce("ping"))
    with pytest.raises(HandoffLimitError) as info:
        await run_with_handoffs([ping, pong], "go", max_handoffs=3)
    assert [t.agent for t in info.value.turns] == ["ping", "pong", "ping", "pong"]


async def test_start_must_name_an_agent_and_names_must_be_unique():
    a = Agent("a", "x", ScriptedModel(["hi"]))
    with pytest.raises(UserError, match="No agent named 'zed'"):
        await run_with_handoffs([a], "go", start="zed")
    with pytest.raises(UserError, match="distinct names"):
        await run_sequential([a, a], "go")
    with pytest.raises(UserError, match="letters, digits"):
        Agent("bad name", "x", "test")


async def test_an_agent_can_be_another_agents_tool():
    specialist = Agent("math", "does sums", ScriptedModel([worded("4", 5000)]))

    def manager_answer(
        messages: Sequence[Message], tools: Sequence[ToolDefinition]
    ) -> ModelResponse | str:
        outputs = [p.content for m in messages for p in m.tool_results]
        if not outputs:
            return ModelResponse(tool_calls=(ToolCall(name="ask_math", arguments={"task": "2+2"}),))
        return f"the specialist said {outputs[0]}"

    manager = Agent(
        "manager", "delegates", FunctionModel(manager_answer), tools=[specialist.as_tool()]
    )
    result = await manager.run("what is 2+2?")
    assert result.text == "the specialist said 4"
    assert len(specialist.results) == 1
    assert specialist.usage.input_tokens == 5000
    # The sub-agent's tokens count in the manager's run (what the job cost), on the tool
    # call that spent them; each step's own usage stays its model call's.
    own = sum((s.usage for s in result.steps), gai.Usage())
    assert 0 < own.input_tokens < 5000
    [delegated] = [r for s in result.steps for r in s.tool_results]
    assert delegated.usage == specialist.usage
    assert result.usage == own + specialist.usage
    assert manager.usage == result.usage


async def test_a_run_started_in_any_tool_adds_its_usage():
    inner = ScriptedModel([worded("done", 700)])

    @gai.tool
    def research(topic: str) -> str:
        """Research a topic with a sub-run (sync tool, in a worker thread)."""
        return gai.generate_text_sync(inner, prompt=topic).text

    @gai.tool
    async def fails_after_spending(topic: str) -> str:
        """A tool whose sub-run succeeds, then the tool fails."""
        await gai.generate_text(ScriptedModel([worded("x", 300)]), prompt=topic)
        raise RuntimeError("then it broke")

    outer = ScriptedModel(
        [
            ModelResponse(
                tool_calls=(
                    ToolCall(name="research", arguments={"topic": "tides"}),
                    ToolCall(name="fails_after_spending", arguments={"topic": "waves"}),
                )
            ),
            "ok",
        ]
    )
    result = await gai.generate_text(
        outer, prompt="x", tools=[research, fails_after_spending], stop_when=gai.MaxSteps(3)
    )
    ok, failed = result.steps[0].tool_results
    assert ok.usage is not None
    assert ok.usage.input_tokens == 700
    assert failed.error is not None
    assert failed.usage is not None
    assert failed.usage.input_tokens == 300
    own = sum((s.usage for s in result.steps), gai.Usage())
    assert result.usage.input_tokens == own.input_tokens + 1000
