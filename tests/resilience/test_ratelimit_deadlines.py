from __future__ import annotations

import asyncio

import pytest

import gai
from gai.resilience import RateLimitedModel, RateLimiter
from gai.resilience._wrapper import WrapperModel
from tests.resilience.conftest import FakeClock, Lookups, openai_for, run_options
from tests.support.agent_server import AgentServer


class StartTimes(WrapperModel):
    """Records (virtual) time as each call starts, right after the limiter let it go."""

    def __init__(self, wrapped: gai.Model, clock: FakeClock) -> None:
        super().__init__(wrapped)
        self.clock = clock
        self.times: list[float] = []

    async def generate(self, request: gai.ModelRequest) -> gai.ModelResponse:
        self.times.append(self.clock())
        return await self.wrapped.generate(request)


async def test_500_runs_against_60_rpm_queue_instead_of_failing(clock: FakeClock, lookups: Lookups):
    limiter = RateLimiter(requests_per_minute=60, clock=clock, sleep=clock.sleep)
    async with AgentServer(rounds=1, calls_per_round=1) as server:
        async with openai_for(server) as raw:
            starts = StartTimes(raw, clock)
            model = RateLimitedModel(starts, limiter)
            results = await asyncio.gather(
                *(
                    gai.generate_text(model, prompt=f"r{i}", **run_options(lookups))
                    for i in range(500)
                )
            )
    assert all(r.text == f"done r{i}" for i, r in enumerate(results))
    assert server.requests == 1000
    times = sorted(starts.times)
    assert len(times) == 1000
    # No 60-second window ever saw more than 60 requests.
    worst = max(sum(1 for t in times if start <= t < start + 60) for start in times)
    assert worst == 60
    assert times[-1] >= 60 * (1000 // 60)  # the queue took its time instead of failing
    assert limiter.waited > 0


async def test_queue_is_fair_in_arrival_order(clock: FakeClock):
    limiter = RateLimiter(requests_per_minute=1, clock=clock, sleep=clock.sleep)
    order: list[int] = []

    async def caller(i: int) -> None:
        await limiter.acquire()
        order.append(i)
        limiter.release()

    tasks = []
    for i in range(20):
        tasks.append(asyncio.create_task(caller(i)))
        await asyncio.sleep(0)
    await asyncio.gather(*tasks)
    assert order == list(range(20))


async def test_max_concurrency_and_tokens_per_minute(clock: FakeClock, lookups: Lookups):
    limiter = RateLimiter(max_concurrency=3, tokens_per_minute=200, clock=clock, sleep=clock.sleep)
    async with AgentServer(rounds=1, calls_per_round=1) as server:
        async with openai_for(server) as raw:
            model = RateLimitedModel(raw, limiter)
            await asyncio.gather(
                *(
                    gai.generate_text(model, prompt=f"t{i}", **run_options(lookups))
                    for i in range(20)
                )
            )
    assert server.max_in_flight <= 3
    assert limiter.waited > 0  # 40 calls of ~20 tokens each do not fit 200/minute
    with pytest.raises(ValueError, match="requests_per_minute"):
        RateLimiter(requests_per_minute=0)


def never_answers():
    async def fn(messages, tools):
        await asyncio.Event().wait()

    return fn


async def test_run_deadline_stops_the_run_and_keeps_its_steps():
    calls = 0

    async def model_fn(messages, tools):
        nonlocal calls
        calls += 1
        if calls == 1:
            return gai.ModelResponse(tool_calls=(gai.ToolCall(name="ping"),))
        await asyncio.Event().wait()

    @gai.tool
    def ping() -> str:
        """Ping (a test tool)."""
        return "pong"

    result = await gai.generate_text(
        gai.models.FunctionModel(model_fn),
        prompt="x",
        tools=[ping],
        stop_when=gai.MaxSteps(5),
        timeout=0.05,
    )
    assert result.stop_reason.kind == "deadline"
    assert "run deadline of 0.05s reached during step 2" in result.stop_reason.detail
    assert len(result.steps) == 1
    assert result.steps[0].tool_results[0].output == "pong"


async def test_step_deadline():
    result = await gai.generate_text(
        gai.models.FunctionModel(never_answers()), prompt="x", timeout=gai.Timeouts(step=0.05)
    )
    assert result.stop_reason.kind == "deadline"
    assert "step deadline" in result.stop_reason.detail
    assert result.steps == ()


async def test_model_call_deadline_is_a_retryable_timeout():
    with pytest.raises(gai.errors.ProviderTimeoutError, match=r"longer than 0\.05 seconds") as info:
        await gai.generate_text(
            gai.models.FunctionModel(never_answers()),
            prompt="x",
            timeout=gai.Timeouts(model_call=0.05),
        )
    assert info.value.retryable
    with pytest.raises(ValueError, match=r"Timeouts\.step"):
        gai.Timeouts(step=0)


async def test_run_deadline_closes_the_http_stream():
    from tests.support.recordings import load
    from tests.support.replay import ReplayServer

    server = ReplayServer(
        load("openai_chat/stream_text_with_usage.yaml"), faults={0: "slow_stream"}, slow_seconds=0.2
    )
    async with server, openai_for_replay(server) as model:
        async with gai.stream_text(model, prompt="x", timeout=0.3) as stream:
            async for _ in stream:
                pass
        await asyncio.wait_for(server.disconnected.wait(), timeout=5)
    assert stream.result.stop_reason.kind == "deadline"


def openai_for_replay(server):
    from gai.providers.openai import OpenAI

    return OpenAI("gpt-4o-mini", api_key="k", base_url=server.url("/v1"))
