from __future__ import annotations

import pytest

import gai
from gai import MaxSteps, ModelResponse, ToolCall
from gai.stop import TimeLimit, ToolErrorRate
from tests.resilience.conftest import FakeClock


@gai.tool
def calculate(expression: str) -> str:
    """Calculate."""
    return "42"


@gai.tool
def search_web(query: str) -> str:
    """Search the web."""
    return "results"


def unavailable(what: str) -> gai.errors.ProviderOverloadedError:
    return gai.errors.ProviderOverloadedError(what, provider="fake", status=529, retryable=True)


async def test_robust_workflow_retries_the_whole_run(clock: FakeClock):
    runs = 0

    def model(messages, tools):
        nonlocal runs
        if len(messages) == 1:
            runs += 1
            return ModelResponse(
                tool_calls=(ToolCall(name="calculate", arguments={"expression": "6*7"}),)
            )
        if runs < 3:
            raise unavailable("overloaded mid-run")
        return "the answer is 42"

    result = await gai.generate_text(
        gai.models.FunctionModel(model),
        prompt="compute",
        tools=[calculate],
        stop_when=gai.any_of(MaxSteps(25), ToolErrorRate(0.5), TimeLimit(600)),
        recovery=gai.Recovery(attempts=3, backoff=1.0, sleep=clock.sleep),
    )
    assert result.text == "the answer is 42"
    assert result.run_attempts == 3
    assert result.degraded is None
    assert clock.sleeps == [1.0, 4.0]  # backoff * attempt**2, as the seed waits


async def test_fatal_errors_are_not_retried(clock: FakeClock):
    calls = 0

    def model(messages, tools):
        nonlocal calls
        calls += 1
        raise gai.errors.AuthenticationError("bad key", provider="fake", status=401)

    with pytest.raises(gai.errors.AuthenticationError):
        await gai.generate_text(
            gai.models.FunctionModel(model),
            prompt="x",
            recovery=gai.Recovery(attempts=5, sleep=clock.sleep),
        )
    assert calls == 1
    assert clock.sleeps == []


async def test_graceful_degradation_to_essential_tools_then_no_tools(clock: FakeClock):
    def picky(messages, tools):
        names = {t.name for t in tools}
        if "search_web" in names:
            raise gai.errors.InvalidRequestError("too many tools", provider="fake", status=400)
        if names and len(messages) == 1:
            return ModelResponse(
                tool_calls=(ToolCall(name="calculate", arguments={"expression": "1"}),)
            )
        return f"answered with {sorted(names)}"

    result = await gai.generate_text(
        gai.models.FunctionModel(picky),
        prompt="x",
        tools=[calculate, search_web],
        stop_when=MaxSteps(5),
        recovery=gai.Recovery(essential_tools=["calculate"], no_tools_last=True, sleep=clock.sleep),
    )
    assert result.text == "answered with ['calculate']"  # never altered
    assert result.degraded == gai.types.Degradation(
        level="essential_tools", reason="InvalidRequestError: fake HTTP 400: too many tools"
    )
    assert result.run_attempts == 2

    def hates_tools(messages, tools):
        if tools:
            raise unavailable("tools broken")
        return "plain answer"

    result = await gai.generate_text(
        gai.models.FunctionModel(hates_tools),
        prompt="x",
        tools=[calculate, search_web],
        recovery=gai.Recovery(
            attempts=2,
            backoff=0,
            essential_tools=["calculate"],
            no_tools_last=True,
            sleep=clock.sleep,
        ),
    )
    assert result.text == "plain answer"
    assert result.degraded is not None
    assert result.degraded.level == "no_tools"
    assert result.run_attempts == 4


async def test_recovery_gives_up_with_the_last_error(clock: FakeClock):
    def always(messages, tools):
        raise unavailable("still down")

    with pytest.raises(gai.errors.ProviderOverloadedError, match="still down") as info:
        await gai.generate_text(
            gai.models.FunctionModel(always),
            prompt="x",
            recovery=gai.Recovery(attempts=2, backoff=0, no_tools_last=True, sleep=clock.sleep),
        )
    assert info.value.partial_result is not None
    with pytest.raises(ValueError, match="attempts"):
        gai.Recovery(attempts=0)


async def test_recovery_in_a_stream(clock: FakeClock):
    runs = 0

    def model(messages, tools):
        nonlocal runs
        runs += 1
        if runs == 1:
            raise unavailable("first run fails")
        return "second run"

    async with gai.stream_text(
        gai.models.FunctionModel(model),
        prompt="x",
        recovery=gai.Recovery(attempts=2, backoff=0, sleep=clock.sleep),
    ) as stream:
        kinds = [e.kind async for e in stream]
    assert kinds.count("run_failed") == 1
    assert kinds[-1] == "run_finished"
    assert stream.result.run_attempts == 2
