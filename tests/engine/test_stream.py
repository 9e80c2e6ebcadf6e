from __future__ import annotations

import asyncio

import pytest

import gai
from gai import MaxSteps, ModelResponse, ScriptedModel, ToolCall, tool


@tool
async def lookup(city: str, days: int = 1) -> dict[str, object]:
    """Look up weather."""
    return {"city": city, "days": days}


def script() -> ScriptedModel:
    return ScriptedModel(
        [
            ModelResponse(
                text="Looking up both.",
                tool_calls=(
                    ToolCall(call_id="a", name="lookup", arguments={"city": "Lisbon", "days": 3}),
                    ToolCall(call_id="b", name="lookup", arguments={"city": "Porto"}),
                ),
            ),
            "Lisbon and Porto are sunny.",
        ]
    )


async def test_stream_yields_typed_events_across_steps_and_the_same_result():
    stream = gai.stream_text(script(), prompt="weather", tools=[lookup], stop_when=MaxSteps(5))
    kinds: list[str] = []
    deltas: dict[int, list[str]] = {}
    async for event in stream:
        kinds.append(event.kind)
        if isinstance(event, gai.types.ToolCallDelta):
            deltas.setdefault(event.index, []).append(event.arguments)
    result = stream.result
    assert kinds[0] == "run_started"
    assert kinds[-1] == "run_finished"
    assert kinds.count("step_started") == 2
    assert kinds.count("step_finished") == 2
    assert kinds.count("tool_call_started") == 2
    assert kinds.count("tool_call_finished") == 2
    assert kinds.count("tool_started") == kinds.count("tool_finished") == 2
    # argument fragments of two interleaved calls reassemble exactly
    assert "".join(deltas[0]) == '{"city":"Lisbon","days":3}'
    assert "".join(deltas[1]) == '{"city":"Porto"}'
    assert len(deltas[0]) > 1
    assert result.text == "Lisbon and Porto are sunny."
    assert [r.output for r in result.steps[0].tool_results] == [
        {"city": "Lisbon", "days": 3},
        {"city": "Porto", "days": 1},
    ]
    same = await gai.generate_text(
        script(), prompt="weather", tools=[lookup], stop_when=MaxSteps(5)
    )
    assert [s.tool_calls for s in same.steps] == [s.tool_calls for s in result.steps]
    assert same.stop_reason == result.stop_reason


async def test_text_stream_yields_only_text():
    async with gai.stream_text(script(), prompt="w", tools=[lookup], stop_when=MaxSteps(5)) as s:
        texts = [t async for t in s.text_stream]
    assert "".join(texts) == "Looking up both.Lisbon and Porto are sunny."
    assert s.result.stop_reason.kind == "no_more_tools"


async def test_result_before_the_end_is_an_error_and_streams_iterate_once():
    stream = gai.stream_text(script(), prompt="w", tools=[lookup])
    with pytest.raises(gai.UserError, match="not finished"):
        _ = stream.result
    async for _ in stream:
        pass
    with pytest.raises(gai.UserError, match="only once"):
        stream.__aiter__()


async def test_leaving_early_cancels_the_run_and_its_tools():
    started = asyncio.Event()
    cancelled = asyncio.Event()

    @tool
    async def hang() -> None:
        """Hang."""
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    model = ScriptedModel([ModelResponse(tool_calls=(ToolCall(name="hang"),))])
    async with gai.stream_text(model, prompt="x", tools=[hang]) as stream:
        async for event in stream:
            if event.kind == "tool_started":
                await started.wait()
                break
    assert cancelled.is_set()


async def test_errors_arrive_as_run_failed_then_raise_with_partial_result():
    model = ScriptedModel(
        [ModelResponse(tool_calls=(ToolCall(name="lookup", arguments={"city": "x"}),))]
    )
    stream = gai.stream_text(model, prompt="x", tools=[lookup], stop_when=MaxSteps(3))
    kinds: list[str] = []

    async def consume() -> None:
        async for event in stream:
            kinds.append(event.kind)

    with pytest.raises(gai.errors.ScriptExhaustedError) as info:
        await consume()
    assert kinds[-1] == "run_failed"
    assert info.value.partial_result is not None
    assert len(info.value.partial_result.steps) == 1


async def test_models_without_streaming_still_stream_whole_answers():
    model = gai.models.FunctionModel(lambda messages, tools: "whole answer")
    async with gai.stream_text(model, prompt="x") as stream:
        texts = [t async for t in stream.text_stream]
    assert texts == ["whole answer"]


async def test_bad_arguments_raise_before_streaming():
    with pytest.raises(gai.UserError, match="needs input"):
        gai.stream_text(script())
